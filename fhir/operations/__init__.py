"""One file per FHIR interaction or operation beyond plain CRUD: its definition beside its handler."""
