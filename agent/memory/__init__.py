"""The agent's long-term memory of a patient: their FHIR record, read and written through fhir.store."""
