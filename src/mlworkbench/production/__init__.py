"""Production: logged models, scoring, serving, load tests, drift and monitoring."""
