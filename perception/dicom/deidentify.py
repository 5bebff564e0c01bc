"""A de-identified copy of a DICOM dataset: a documented subset of PS3.15 Annex E, Table E.1-1
(Basic Application Level Confidentiality Profile).

What is done, at every level including inside sequences:
- EMPTIED (action Z, Type 2 elements that must stay present): patient name/ID/birth date/sex, referring
  physician, accession number, study ID. Every other PN (person name) element is emptied too.
- REMOVED (action X): other patient IDs and names, addresses, phone numbers, age, size, weight, comments,
  institution, department, station, device serial number, physicians of record/performing/reading, operators,
  request attributes, free-text comments.
- Dates and times: removed, not shifted. Every DA, DT and TM element is emptied (StudyDate/StudyTime stay
  present as Type 2); without a secret per-patient offset a shift adds little and can be undone from one known
  date. LongitudinalTemporalInformationModified is set to REMOVED.
- Private elements: all removed (no Retain Safe Private option).
- UIDs: every UID that is not a registered DICOM UID (SOP classes, transfer syntaxes and coding schemes stay)
  is replaced by ``generate_uid`` under pydicom's root with the original as entropy, so files of one study
  keep one new study UID and references between instances still resolve. Anyone holding an original UID can
  recompute its replacement; pass ``secret`` to prevent that.
- PatientIdentityRemoved = YES; DeidentificationMethod and its code sequence (DCM 113100, and 113110
  "Retain UIDs" when ``keep_uids``) say what was done.

Not handled: identifying text burnt into the pixels (ultrasound, secondary captures, scanned documents),
faces in reconstructable volumes, overlays and free text in structured-report content items. Pixel Data is
copied byte for byte.
"""

from __future__ import annotations

import copy

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import PYDICOM_ROOT_UID, UID, generate_uid

EMPTIED = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "ReferringPhysicianName", "AccessionNumber",
    "StudyID",
)
REMOVED = (
    "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
    "PatientAddress", "PatientTelephoneNumbers", "PatientAge", "PatientSize", "PatientWeight", "PatientComments",
    "AdditionalPatientHistory", "MedicalRecordLocator", "MilitaryRank", "BranchOfService", "Occupation",
    "EthnicGroup", "IssuerOfPatientID", "PatientBirthTime", "CountryOfResidence", "RegionOfResidence",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "InstitutionCodeSequence",
    "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers", "ReferringPhysicianIdentificationSequence",
    "PerformingPhysicianName", "PerformingPhysicianIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord", "PhysiciansOfRecordIdentificationSequence", "RequestingPhysician", "OperatorsName",
    "StationName", "DeviceSerialNumber", "RequestAttributesSequence", "ReferencedPatientSequence",
    "PerformedProcedureStepID", "ScheduledProcedureStepID", "RequestedProcedureID", "ImageComments",
    "StudyComments", "InterpretationText", "TextComments", "AdmittingDiagnosesDescription", "TimezoneOffsetFromUTC",
)
DATE_VRS = ("DA", "DT", "TM")
# UIDs of these kinds name a class or encoding, never an instance: kept even when privately registered.
_KEPT_UID_SUFFIXES = ("ClassUID", "TransferSyntaxUID")
METHOD = "PS3.15 E.1-1 basic profile subset; dates, private tags removed"
_BASIC_PROFILE = ("113100", "Basic Application Confidentiality Profile")
_RETAIN_UIDS = ("113110", "Retain UIDs Option")


def deidentify(ds: Dataset, *, keep_uids: bool = False, secret: str = "") -> Dataset:
    """A de-identified copy of ``ds`` (the original is left as it was); see the module docstring."""
    result = copy.deepcopy(ds)
    result.remove_private_tags()
    result.walk(_scrub)
    if not keep_uids:
        _replace_uids(result, secret)
    _mark(result, keep_uids)
    return result


def _scrub(dataset: Dataset, element: DataElement) -> None:
    keyword = element.keyword
    if keyword in REMOVED:
        del dataset[element.tag]
    elif keyword in EMPTIED or element.VR == "PN" or element.VR in DATE_VRS:
        element.value = None  # zero length: the element stays, as Type 2 elements must


def _replaced(uid: str, secret: str) -> str:
    return generate_uid(prefix=PYDICOM_ROOT_UID, entropy_srcs=[secret, uid])


def _is_instance_uid(element: DataElement) -> bool:
    if element.VR != "UI" or not element.value or element.keyword.endswith(_KEPT_UID_SUFFIXES):
        return False
    values = element.value if element.VM > 1 else [element.value]
    return not all(_is_registered(str(v)) for v in values)


def _is_registered(uid: str) -> bool:
    """A UID in the DICOM registry (pydicom names those; any other UID's name is the UID itself)."""
    return UID(uid).name != uid


def _replace_uids(ds: Dataset, secret: str) -> None:
    def replace(dataset: Dataset, element: DataElement) -> None:
        if not _is_instance_uid(element):
            return
        if element.VM > 1:
            element.value = [_replaced(str(v), secret) for v in element.value]
        else:
            element.value = _replaced(str(element.value), secret)

    ds.walk(replace)
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = _replaced(str(meta.MediaStorageSOPInstanceUID), secret)


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
    return item


def _mark(ds: Dataset, keep_uids: bool) -> None:
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = METHOD
    codes = [_BASIC_PROFILE, _RETAIN_UIDS] if keep_uids else [_BASIC_PROFILE]
    ds.DeidentificationMethodCodeSequence = [_code(value, meaning) for value, meaning in codes]
    ds.LongitudinalTemporalInformationModified = "REMOVED"
