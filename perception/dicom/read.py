"""Bytes -> pydicom Dataset, refusing what is not DICOM, truncated or unreadable; and the metadata we keep.

pydicom is lenient: a file cut between (or inside) elements often reads "fine" with the tail silently
missing, so completeness is checked here from the raw elements' declared lengths and pydicom's EOF warnings.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

PREAMBLE_LENGTH = 128
MAGIC = b"DICM"
UNDEFINED_LENGTH = 0xFFFFFFFF
# Groups a preamble-less file may start with: the file meta group, or a bare dataset's identifying group.
_FIRST_GROUPS = (0x0002, 0x0008)


class DicomError(ValueError):
    """A file that cannot be used as DICOM; the message says why, in words a person can act on."""


@dataclass(frozen=True)
class DicomSummary:
    """What one instance says about itself. Patient fields are claims to compare, never an identity."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str | None = None
    modality: str | None = None
    body_part: str | None = None
    study_date: str | None = None  # DICOM DA, YYYYMMDD
    study_time: str | None = None  # DICOM TM, HHMMSS.FFFFFF
    timezone_offset: str | None = None  # DICOM (0008,0201), +HHMM/-HHMM
    study_description: str | None = None
    series_number: int | None = None
    series_description: str | None = None
    instance_number: int | None = None
    number_of_frames: int = 1
    rows: int | None = None
    columns: int | None = None
    patient_name: str | None = None
    patient_id: str | None = None
    patient_birth_date: str | None = None
    patient_sex: str | None = None


def is_dicom(data: bytes) -> bool:
    """Whether the bytes carry the Part 10 marker: 'DICM' after a 128-byte preamble."""
    return data[PREAMBLE_LENGTH:PREAMBLE_LENGTH + len(MAGIC)] == MAGIC


def _looks_like_bare_dicom(data: bytes) -> bool:
    """A preamble-less file read with force only if it opens on a little-endian tag of a group we expect."""
    if len(data) < 8:
        return False
    group = int.from_bytes(data[0:2], "little")
    element = int.from_bytes(data[2:4], "little")
    if group not in _FIRST_GROUPS or element > 0x0020:
        return False
    vr = data[4:6]
    explicit = vr.isalpha() and vr.isupper()
    implicit_length = int.from_bytes(data[4:8], "little")
    return explicit or implicit_length < 1024


def read_dicom(data: bytes) -> Dataset:
    """The dataset in ``data``, with every element read; DicomError when it is not whole, readable DICOM."""
    if is_dicom(data):
        force = False
    elif _looks_like_bare_dicom(data):
        force = True
    else:
        raise DicomError("not a DICOM file: no 'DICM' marker at byte 128 and no DICOM element at the start")
    ds = _parse(data, force)
    _check_complete(ds, len(data))
    _check_transfer_syntax(ds)
    _convert_all(ds)
    missing = [keyword for keyword in ("SOPClassUID", "SOPInstanceUID") if not ds.get(keyword)]
    if missing:
        raise DicomError(f"the DICOM file has no {' or '.join(missing)}; it is not a complete instance")
    return ds


def _parse(data: bytes, force: bool) -> Dataset:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(io.BytesIO(data), force=force)
        except InvalidDicomError as error:
            raise DicomError(f"not a readable DICOM file: {error}") from None
        except (EOFError, OSError, ValueError, KeyError, NotImplementedError) as error:
            raise DicomError(f"the DICOM file is corrupt or truncated: {error}") from None
    for warning in caught:
        if "End of file reached" in str(warning.message):
            raise DicomError("the DICOM file is truncated: it ends inside an element")
    return ds


def _check_complete(ds: Dataset, size: int) -> None:
    """Every top-level element holds as many bytes as it declares, and nothing is left half-read at the end."""
    end: int | None = None
    for tag in ds.keys():  # noqa: SIM118 - iterating a Dataset would convert the raw elements we inspect
        raw = ds.get_item(tag)
        end = None
        if isinstance(raw, RawDataElement) and raw.length != UNDEFINED_LENGTH and raw.value is not None:
            if len(raw.value) < raw.length:
                raise DicomError(f"the DICOM file is truncated: element {tag} holds {len(raw.value)} of "
                                 f"{raw.length} bytes")
            end = raw.value_tell + raw.length
    # Fewer than 8 bytes after the last element: pydicom drops a partial header without a word.
    if end is not None and 0 < size - end < 8:
        raise DicomError("the DICOM file is truncated: it ends inside an element header")
    if len(ds) == 0:
        raise DicomError("the DICOM file holds no data elements (empty or truncated)")


def _check_transfer_syntax(ds: Dataset) -> None:
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is None:
        return  # pydicom guessed the encoding of a meta-less file and read it: good enough for metadata
    if not UID(syntax).is_transfer_syntax:
        raise DicomError(f"unsupported transfer syntax {syntax}: not one this reader knows how to decode")


def _convert_all(ds: Dataset) -> None:
    """Convert every raw element now, so encoding errors surface here and not in later callers."""
    try:
        for _ in ds:
            pass
    except (ValueError, KeyError, NotImplementedError, EOFError, OSError) as error:
        raise DicomError(f"the DICOM file is corrupt: {error}") from None


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return str(value).strip() or None


def _integer(ds: Dataset, keyword: str) -> int | None:
    """Integers that some writers fill with junk ('1A') are treated as absent, not as a broken file."""
    try:
        value = ds.get(keyword)
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def summary(ds: Dataset) -> DicomSummary:
    return DicomSummary(
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        sop_class_uid=_text(ds, "SOPClassUID"),
        modality=_text(ds, "Modality"),
        body_part=_text(ds, "BodyPartExamined"),
        study_date=_text(ds, "StudyDate"),
        study_time=_text(ds, "StudyTime"),
        timezone_offset=_text(ds, "TimezoneOffsetFromUTC"),
        study_description=_text(ds, "StudyDescription"),
        series_number=_integer(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        instance_number=_integer(ds, "InstanceNumber"),
        number_of_frames=_integer(ds, "NumberOfFrames") or 1,
        rows=_integer(ds, "Rows"),
        columns=_integer(ds, "Columns"),
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        patient_birth_date=_text(ds, "PatientBirthDate"),
        patient_sex=_text(ds, "PatientSex"),
    )
