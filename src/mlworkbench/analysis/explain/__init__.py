"""Responsible-AI analysis of a trained model: SHAP values, dependence, fairness, cohorts."""
