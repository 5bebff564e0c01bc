"""OCR engines behind one interface (`engines.read_image`), a generated ground-truth set and its evaluation."""
