"""Governance: the checklist, privacy, promotion gates and the model card."""
