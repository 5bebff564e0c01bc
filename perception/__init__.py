"""Uploads and what the machine reads from them (OCR, imaging, DICOM)."""
