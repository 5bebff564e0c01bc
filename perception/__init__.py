"""Perception: what the machine reads from the files patients and EHRs send.

    intake     type by content, size/page/pixel limits, metadata stripped before storage
    ocr/       OCR engines behind one interface, the generated ground-truth set, accuracy
    labs/      OCR lines -> lab rows (LOINC, UCUM) -> preliminary Observations in a DiagnosticReport
    imaging/   timm classifiers behind a registry; no validated model, no prediction
    dicom/     DICOM metadata -> ImagingStudy, windowed previews, de-identification

Work runs on Celery workers of its own (the `perception` queue), never inside a chat turn, and everything it
writes to the record stays unconfirmed until a person confirms it.
"""
