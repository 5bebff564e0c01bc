"""Evidence: authoritative passages (agent/evidence/corpus.py), two interchangeable indexes (the embedded
SQLite one and Elasticsearch), hybrid retrieval with authority ranking (search.py) and the grounding check of
every reply (grounding.py). docs/evidence.md explains the choices and the measured figures."""
