"""What an upload is (decided by its bytes, never its name), whether it is within limits, and the bytes that are
stored: the upload without its metadata.

A refused upload raises `Refused` with a message written for the patient; nothing is stored.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from PIL import Image

from perception.metadata import MetadataError, strip_jpeg, strip_pdf, strip_png

IMAGE, PDF, DICOM = "image", "pdf", "dicom"
ACCEPTED = "photos (JPEG or PNG), PDF documents and DICOM images"


class Refused(ValueError):
    """The upload cannot be taken; the message says why in words a patient understands. `status` is the HTTP
    status an API answers with (413 too large, 415 wrong type, 400 damaged or otherwise refused)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Intake:
    kind: str  # IMAGE, PDF or DICOM
    content_type: str
    data: bytes  # what is stored: the upload without its metadata
    pages: int = 1  # PDF pages, DICOM frames
    width: int = 0
    height: int = 0


def content_type_of(data: bytes) -> str | None:
    """The MIME type the bytes say they are (DICOM by its preamble, the rest by their magic numbers)."""
    if len(data) > 132 and data[128:132] == b"DICM":
        return "application/dicom"
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:  # the spec allows junk before the header
        return "application/pdf"
    guess = filetype.guess(data[:8192])
    return guess.mime if guess else None


def check_upload(data: bytes, declared_name: str = "") -> Intake:
    """Decide the type, enforce the limits and strip metadata, or raise Refused."""
    if not data:
        raise Refused("The file is empty.")
    limit = settings.UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise Refused(f"The file is {_mb(len(data))}; the largest file I can take is {_mb(limit)}.", 413)
    mime = content_type_of(data)
    if mime in ("image/jpeg", "image/png"):
        return _image(data, mime)
    if mime == "application/pdf":
        return _pdf(data)
    if mime == "application/dicom":
        return _dicom(data)
    what = f"a {mime} file" if mime else "not a file type I recognise"
    raise Refused(f"I can read {ACCEPTED}, but this is {what}, whatever its name says.", 415)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _image(data: bytes, mime: str) -> Intake:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only: the pixel count is known before decoding
            width, height = image.size
            if width * height > settings.UPLOAD_MAX_PIXELS:
                raise Refused(f"The image is {width} x {height} pixels, more than I can safely open "
                              f"({settings.UPLOAD_MAX_PIXELS:,} pixels). Please send a smaller photo.", 413)
            image.load()  # a damaged or truncated file fails here, not in the worker
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused("The image is far larger than it looks (a decompression bomb), so I refused it.",
                      413) from exc
    except Exception as exc:
        raise Refused("The image is damaged and cannot be opened. Could you take or export it again?") from exc
    try:
        stripped = strip_jpeg(data) if mime == "image/jpeg" else strip_png(data)
    except MetadataError as exc:
        raise Refused(f"The image is damaged ({exc}). Could you take or export it again?") from exc
    return Intake(IMAGE, mime, stripped, 1, width, height)


def _pdf(data: bytes) -> Intake:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Refused("The PDF is protected by a password, so I cannot read it. Please send it "
                          "without the password.") from exc
        raise Refused("The PDF is damaged and cannot be opened.") from exc
    try:
        pages = len(document)
        if pages == 0:
            raise Refused("The PDF has no pages.")
        if pages > settings.UPLOAD_MAX_PAGES:
            raise Refused(f"The PDF has {pages} pages; I can read at most {settings.UPLOAD_MAX_PAGES}. "
                          "Please send the pages that matter.", 413)
        width, height = (int(v) for v in document[0].get_size())
    finally:
        document.close()
    try:
        stripped = strip_pdf(data)
    except Exception as exc:
        raise Refused("The PDF is damaged and cannot be opened.") from exc
    return Intake(PDF, "application/pdf", stripped, pages, width, height)


def _dicom(data: bytes) -> Intake:
    import pydicom

    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    except Exception as exc:
        raise Refused("The DICOM file is damaged and cannot be read.") from exc
    rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if rows * cols * frames > settings.UPLOAD_MAX_PIXELS:
        raise Refused(f"The DICOM image has {frames} frame(s) of {cols} x {rows} pixels, more than I can "
                      "safely open.", 413)
    # DICOM tags are the study's content, not incidental metadata: they are kept unless the site de-identifies
    # before storage (DICOM_DEIDENTIFY).
    if settings.DICOM_DEIDENTIFY:
        data = _deidentified(data)
    return Intake(DICOM, "application/dicom", data, frames, cols, rows)


def _deidentified(data: bytes) -> bytes:
    import pydicom

    from perception.dicom.deidentify import deidentify

    out = io.BytesIO()
    deidentify(pydicom.dcmread(io.BytesIO(data))).save_as(out)
    return out.getvalue()
