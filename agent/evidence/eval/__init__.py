"""Evaluation sets and scorers for evidence: retrieval (questions.jsonl) and the grounding check (claims.jsonl).
`manage.py evaluate_evidence` prints the figures that docs/evidence.md reports."""
