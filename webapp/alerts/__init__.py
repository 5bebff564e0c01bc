"""Alerts that reach someone: every Flag that needs a person is delivered (email, webhook), acknowledged by a
clinician, or escalated along the patient's care-team chain (docs/dashboard.md, "Alerts that reach someone")."""
