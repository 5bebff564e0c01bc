"""FHIR search: parse the query (parse.py), turn it into SQL on the indexes (query.py)."""
