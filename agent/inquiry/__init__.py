"""Proactive inquiry: for the chief complaint, what a clinician needs to know, what is known (from the
conversation and the record), and which question to ask next (agent/inquiry/picture.py)."""
