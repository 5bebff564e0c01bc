"""Lab reports: rows read from OCR text, coded with LOINC and UCUM, written as preliminary FHIR resources."""
