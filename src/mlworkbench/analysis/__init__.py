"""Model development: data loading and column screening, profiling, training, evaluation."""
