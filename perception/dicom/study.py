"""DicomSummary rows of one study -> an unconfirmed FHIR R4 ImagingStudy.

Times: a DICOM StudyTime has no zone, and a FHIR dateTime with a time must carry one, so ``started`` keeps the
time only when the file gives TimezoneOffsetFromUTC; otherwise it is the date alone (never a guessed zone).
Body part: DICOM BodyPartExamined is a defined term (CHEST, HEAD), not a SNOMED code, so it travels as
``bodySite.display`` with no system or code rather than as a code that would claim a code system.
"""

from __future__ import annotations

import re

from fhir.release import UNCONFIRMED, with_confirmation
from perception.dicom.read import DicomError, DicomSummary

DICOM_UID_SYSTEM = "urn:dicom:uid"
DCM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
URI_SYSTEM = "urn:ietf:rfc:3986"
_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TM = re.compile(r"^(\d{2})(\d{2})?(\d{2})?")
_TZ = re.compile(r"^([+-])(\d{2})(\d{2})$")


def _started(first: DicomSummary) -> str | None:
    date = _DA.match(first.study_date or "")
    if not date:
        return None
    day = "-".join(date.groups())
    time = _TM.match(first.study_time or "")
    zone = _TZ.match(first.timezone_offset or "")
    if not (time and zone):
        return day
    hours, minutes, seconds = (part or "00" for part in time.groups())
    sign, zone_hours, zone_minutes = zone.groups()
    return f"{day}T{hours}:{minutes}:{seconds}{sign}{zone_hours}:{zone_minutes}"


def _modality(code: str) -> dict:
    return {"system": DCM_SYSTEM, "code": code}


def _instance(item: DicomSummary) -> dict:
    if not item.sop_class_uid:  # required (1..1) in R4, and no class may be guessed for a file
        raise DicomError(f"instance {item.sop_instance_uid} has no SOP Class UID")
    instance: dict = {"uid": item.sop_instance_uid,
                      "sopClass": {"system": URI_SYSTEM, "code": f"urn:oid:{item.sop_class_uid}"}}
    if item.instance_number is not None and item.instance_number >= 0:
        instance["number"] = item.instance_number
    return instance


def _series(uid: str, items: list[DicomSummary]) -> dict:
    first = items[0]
    series: dict = {"uid": uid}
    if first.series_number is not None and first.series_number >= 0:
        series["number"] = first.series_number
    series["modality"] = _modality(first.modality or "OT")  # OT, "Other": R4 requires a modality per series
    if first.series_description:
        series["description"] = first.series_description
    series["numberOfInstances"] = len(items)
    if first.body_part:
        series["bodySite"] = {"display": first.body_part}
    ordered = sorted(items, key=lambda i: (i.instance_number is None, i.instance_number or 0))
    series["instance"] = [_instance(item) for item in ordered]
    return series


def _group_series(summaries: list[DicomSummary]) -> dict[str, list[DicomSummary]]:
    """Instances by series UID, in upload order; the same SOP instance sent twice counts once."""
    series: dict[str, list[DicomSummary]] = {}
    seen: set[str] = set()
    for item in summaries:
        if item.sop_instance_uid in seen:
            continue
        seen.add(item.sop_instance_uid)
        series.setdefault(item.series_instance_uid, []).append(item)
    return series


def _check_one_study(summaries: list[DicomSummary]) -> str:
    if not summaries:
        raise DicomError("no DICOM instances to describe")
    studies = {item.study_instance_uid for item in summaries}
    if len(studies) != 1 or not next(iter(studies)):
        raise DicomError(f"the files belong to {len(studies)} studies; an ImagingStudy describes exactly one")
    return next(iter(studies))


def imaging_study(summaries: list[DicomSummary], patient_id: str, document_reference_id: str | None = None) -> dict:
    """The ImagingStudy for instances of one study, tagged unconfirmed until a person confirms it."""
    study_uid = _check_one_study(summaries)
    grouped = _group_series(summaries)
    series = [_series(uid, items) for uid, items in grouped.items()]
    modalities = list(dict.fromkeys(s["modality"]["code"] for s in series))
    resource: dict = {
        "resourceType": "ImagingStudy",
        "identifier": [{"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{study_uid}"}],
        "status": "available",
        "modality": [_modality(code) for code in modalities],
        "subject": {"reference": f"Patient/{patient_id}"},
        "numberOfSeries": len(series),
        "numberOfInstances": sum(s["numberOfInstances"] for s in series),
        "series": series,
    }
    first = summaries[0]
    if started := _started(first):
        resource["started"] = started
    if first.study_description:
        resource["description"] = first.study_description
    if document_reference_id:
        # R4 ImagingStudy has no element pointing at its source document; a note keeps the link readable.
        resource["note"] = [{"text": f"Read from the uploaded file DocumentReference/{document_reference_id}"}]
    return with_confirmation(resource, UNCONFIRMED)
