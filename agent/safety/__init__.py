"""Deterministic red-flag triage: runs on every patient message, before and without the model."""
