"""Tracking: the MLflow store, the tag names, the team server and migration."""
