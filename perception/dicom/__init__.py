"""DICOM files: metadata to ImagingStudy, windowed previews, optional de-identification."""
