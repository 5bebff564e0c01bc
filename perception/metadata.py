"""Metadata removed from uploads before storage, losslessly: the stored file is the upload without its
metadata (camera, GPS, author, software, timestamps); pixels and page content are untouched.

JPEG and PNG are rewritten segment by segment (no re-encoding); PDF loses its Info dictionary and XMP stream.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# JPEG markers kept: JFIF (APP0), ICC colour profile (APP2, needed to show colours right), Adobe (APP14, needed to
# decode CMYK/YCCK), and every non-APP marker. Dropped: Exif/XMP (APP1), IPTC (APP13), other APPn, comments.
_JPEG_KEEP_APP = {0xE0: (b"JFIF",), 0xE2: (b"ICC_PROFILE",), 0xEE: (b"Adobe",)}
_JPEG_COM = 0xFE
_EXIF_ORIENTATION = 0x0112

# PNG ancillary chunks kept: colour, transparency and geometry that change how the pixels are shown. Text,
# eXIf, tIME and unknown ancillary chunks (which may carry anything) are dropped; critical chunks always stay.
_PNG_KEEP = {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"hIST", b"sPLT",
             b"acTL", b"fcTL", b"fdAT"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MetadataError(ValueError):
    """The file's structure could not be walked: it is damaged."""


def _orientation(data: bytes) -> int:
    try:
        return int(Image.open(io.BytesIO(data)).getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        return 1


def _orientation_segment(orientation: int) -> bytes:
    """A minimal Exif block holding only the orientation, so a phone photo is not shown on its side."""
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = orientation
    body = exif.tobytes()  # starts with b"Exif\0\0"
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not a JPEG file")
    orientation = _orientation(data)
    out = [data[:2]]
    if orientation != 1:
        out.append(_orientation_segment(orientation))
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise MetadataError("damaged JPEG: expected a marker")
        marker = data[pos + 1] if pos + 1 < len(data) else None
        if marker is None:
            raise MetadataError("damaged JPEG: truncated marker")
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            out.append(data[pos:pos + 2])
            pos += 2
            continue
        if marker == 0xD9:  # end of image
            out.append(data[pos:pos + 2])
            break
        if pos + 4 > len(data):
            raise MetadataError("damaged JPEG: truncated segment")
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        segment = data[pos:pos + 2 + length]
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to EOI; keep the rest as it is
            out.append(data[pos:])
            break
        keep = True
        if 0xE0 <= marker <= 0xEF:
            keep = any(segment[4:].startswith(sig) for sig in _JPEG_KEEP_APP.get(marker, ()))
        elif marker == _JPEG_COM:
            keep = False
        if keep:
            out.append(segment)
        pos += 2 + length
    return b"".join(out)


def strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise MetadataError("not a PNG file")
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise MetadataError("damaged PNG: truncated chunk")
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise MetadataError("damaged PNG: truncated chunk")
        chunk = data[pos:end]
        if zlib.crc32(chunk[4:8 + length]) != struct.unpack(">I", chunk[8 + length:])[0]:
            raise MetadataError(f"damaged PNG: bad checksum in {kind.decode('latin-1')!r}")
        critical = not (kind[0] & 0x20)
        if critical or kind in _PNG_KEEP:
            out.append(chunk)
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


def strip_pdf(data: bytes) -> bytes:
    """The PDF with its document information (author, creator, dates) and XMP metadata removed."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None  # no Info dictionary in the trailer
    root = writer._root_object
    if NameObject("/Metadata") in root:
        del root[NameObject("/Metadata")]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
