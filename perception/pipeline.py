"""Reading one upload: pages -> OCR -> lab rows -> preliminary resources; photos -> a validated classifier or
none; DICOM -> ImagingStudy. Everything written stays unconfirmed until a person confirms it.

Text read from a document is data: it is parsed into values and stored as the document's text, and nothing in
it is ever executed or passed on as an instruction (the agent sees it fenced as untrusted, see agent/context).
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from fhir.access import perception_requester
from fhir.store import Repository
from perception.models import Hint, Upload

log = logging.getLogger(__name__)

# Fewer words than this on a photo sent with no hint: it is a picture of something, not a document.
MIN_DOCUMENT_WORDS = 12
PDF_RENDER_SCALE = 2.0  # 144 dpi: enough for OCR of printed text, small enough to stay fast
TEXT_LIMIT = 20_000  # characters of read text kept on the DocumentReference
MIN_CODED_RESULTS = 2

Progress = Callable[[str], None]


class Unreadable(ValueError):
    """The file was stored but cannot be read (damaged pages, an encoding no decoder here supports)."""


@dataclass
class Reading:
    """What was read and the resources to write (in one interaction, with the upload's completion)."""
    summary: str  # for the patient, in plain words
    resources: list[tuple[dict, str]] = field(default_factory=list)
    text: str = ""  # the document's text as read
    result: dict = field(default_factory=dict)  # ids and counts, kept on the Upload row


def page_images(data: bytes, kind: str) -> list[Image.Image]:
    """The pages of a photo or PDF as upright RGB images."""
    if kind == "pdf":
        import pypdfium2

        try:
            document = pypdfium2.PdfDocument(data)
            return [page.render(scale=PDF_RENDER_SCALE).to_pil().convert("RGB") for page in document]
        except pypdfium2.PdfiumError as exc:
            raise Unreadable(f"a page of the PDF could not be rendered ({exc})") from exc
    try:
        image = Image.open(io.BytesIO(data))
        return [ImageOps.exif_transpose(image).convert("RGB")]
    except Exception as exc:
        raise Unreadable(f"the image could not be decoded ({exc})") from exc


def read(upload: Upload, data: bytes, patient_id: str, progress: Progress) -> Reading:
    if upload.kind == "dicom":
        return read_dicom(upload, data, patient_id, progress)
    pages = page_images(data, upload.kind)
    if upload.hint in (Hint.SKIN, Hint.XRAY):
        return read_photo(upload, pages[0], patient_id, task=_TASKS[upload.hint])
    return read_document(upload, pages, patient_id, progress)


_TASKS = {Hint.SKIN: "skin-lesion", Hint.XRAY: "chest-xray"}


def read_document(upload: Upload, pages: list[Image.Image], patient_id: str, progress: Progress) -> Reading:
    from perception.labs.parse import parse_rows
    from perception.labs.resources import lab_report_resources
    from perception.ocr.engines import read_image

    rows: list[list[str]] = []
    texts: list[str] = []
    words = 0
    for number, image in enumerate(pages, start=1):
        progress(f"Reading page {number} of {len(pages)}" if len(pages) > 1 else "Reading the text")
        page = read_image(image)
        rows.extend(page.rows())
        texts.append(page.text())
        words += len(page.words)
    if upload.kind == "image" and upload.hint == Hint.AUTO and words < MIN_DOCUMENT_WORDS:
        return read_photo(upload, pages[0], patient_id, task=_TASKS[Hint.SKIN])
    text = "\n\n".join(texts)[:TEXT_LIMIT]
    report = parse_rows(rows)
    resources = (lab_report_resources(report, patient_id, upload.document_reference_id, "Continuum perception")
                 if is_lab_report(report) else [])
    observations = [r for r, _ in resources if r["resourceType"] == "Observation"]
    reports = [rid for r, rid in resources if r["resourceType"] == "DiagnosticReport"]
    result = {"pages": len(pages), "words": words, "text_chars": len(text),
              "observations": [rid for r, rid in resources if r["resourceType"] == "Observation"],
              "report": reports[0] if reports else None, "unparsed": len(report.unparsed)}
    return Reading(_document_summary(observations, len(pages), len(report.unparsed)), resources, text, result)


def is_lab_report(report) -> bool:
    """At least MIN_CODED_RESULTS rows name a known lab test: a letter that mentions "100 mg" once is not one."""
    from perception.labs.loinc import match_test

    return sum(1 for row in report.rows if match_test(row.name)) >= MIN_CODED_RESULTS


def _abnormal(observation: dict) -> bool:
    codes = {c.get("code") for i in observation.get("interpretation", []) for c in i.get("coding", [])}
    return bool(codes & {"H", "L", "HH", "LL", "A", "AA"})


def _describe(observation: dict) -> str:
    name = observation["code"].get("text") or observation["code"]["coding"][0].get("display", "")
    quantity = observation.get("valueQuantity")
    value = (f"{quantity['value']:g} {quantity.get('unit', '')}".strip() if quantity
             else observation.get("valueString", ""))
    flag = " (outside the reference range)" if _abnormal(observation) else ""
    return f"{name} {value}{flag}"


def _document_summary(observations: list[dict], pages: int, unparsed: int) -> str:
    where = f"{pages} pages" if pages > 1 else "the page"
    if not observations:
        return (f"I read the text on {where} and saved it with your document. I found no lab results in it. "
                "Your care team can see it.")
    abnormal = [o for o in observations if _abnormal(o)]
    lines = [f"I read {len(observations)} lab result{'s' if len(observations) != 1 else ''} from {where}"
             + (f", {len(abnormal)} outside the reference range" if abnormal else "") + ":"]
    lines += [f"- {_describe(o)}" for o in observations[:40]]
    if unparsed:
        lines.append(f"{unparsed} line{'s' if unparsed != 1 else ''} looked like results but I could not read "
                     "them reliably; your care team will see the document itself.")
    lines.append("These values are saved as unconfirmed: please check them against your report "
                 "(open the upload to confirm them), and a clinician will verify them.")
    return "\n".join(lines)


def review_task(patient_id: str, document_id: str, description: str, focus: str | None = None) -> tuple[dict, str]:
    """A Task asking the care team to look at a photo (and the model's output, if any): an image is always
    routed to a clinician, whatever a model said or could not say."""
    from fhir.persistence import new_id

    task = {"resourceType": "Task", "status": "requested", "intent": "order", "priority": "routine",
            "code": {"text": "Review a patient's image"}, "description": description,
            "for": {"reference": f"Patient/{patient_id}"}, "requester": {"display": "Continuum perception"},
            "focus": {"reference": focus or f"DocumentReference/{document_id}"},
            "input": [{"type": {"text": "image"}, "valueReference": {"reference": f"DocumentReference/{document_id}"}}]}
    return task, new_id()


def read_photo(upload: Upload, image: Image.Image, patient_id: str, task: str) -> Reading:
    from fhir.persistence import new_id
    from perception.imaging.predict import NoValidatedModel, as_observation, classify

    outcome = classify(image, task)
    document = upload.document_reference_id
    if isinstance(outcome, NoValidatedModel):
        review = review_task(patient_id, document, f"Photo sent by the patient ({task}); no validated model.")
        return Reading(f"I saved your photo for your care team. {outcome.message}", [review],
                       result={"task": task, "prediction": None, "review": review[1]})
    observation = as_observation(outcome, f"Patient/{patient_id}", f"DocumentReference/{document}")
    observation_id = new_id()
    label, probability = outcome.top
    review = review_task(patient_id, document, f"Automated {task} classification to review: '{label}' "
                         f"{probability:.0%} (not a diagnosis).", focus=f"Observation/{observation_id}")
    summary = (f"I saved your photo, and a validated model ({outcome.architecture}, version {outcome.version}) "
               f"rated '{label}' the most likely of its classes ({probability:.0%}). This is not a diagnosis: "
               "a clinician will review the photo and the model's output.")
    return Reading(summary, [(observation, observation_id), review],
                   result={"task": task, "prediction": observation_id, "observations": [observation_id],
                           "review": review[1]})


def read_dicom(upload: Upload, data: bytes, patient_id: str, progress: Progress) -> Reading:
    from fhir.persistence import new_id
    from perception.dicom.read import DicomError, summary
    from perception.dicom.read import read_dicom as parse
    from perception.dicom.study import imaging_study

    progress("Reading the DICOM image")
    try:
        details = summary(parse(data))
    except DicomError as exc:
        raise Unreadable(str(exc)) from exc
    study = imaging_study([details], patient_id, upload.document_reference_id)
    study_id = new_id()
    what = " ".join(p for p in (details.modality, details.study_description or "") if p).strip() or "imaging"
    return Reading(f"I saved your {what} study for your care team: a clinician will look at the images. "
                   "I do not interpret scans myself.", [(study, study_id)],
                   result={"study": study_id, "modality": details.modality})


def load_bytes(upload: Upload) -> tuple[Repository, bytes, str]:
    """The stored file, read through perception's own requester (audited like every read)."""
    patient_id = upload.patient_fhir_id
    repo = Repository(perception_requester(patient_id), channel="perception")
    binary = repo.read("Binary", upload.binary_id)
    return repo, base64.b64decode(binary.get("data", "")), patient_id
