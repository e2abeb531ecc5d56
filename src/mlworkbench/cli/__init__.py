"""The `mlwb` command line, one module per command group."""
