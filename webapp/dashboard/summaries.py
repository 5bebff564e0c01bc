"""Consultation summaries: the care team's list and editing page (edit, sign, release, amend) and the patient's page
of what was released to them. Reads go through the reader's own Repository (audited; a patient's sees released
versions only, fhir/release.py); every change is one do_* in webapp/actions/summaries.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from agent.memory.summaries import EPISODE_SYSTEM, SECTIONS, citations_of, section_key, section_text
from fhir.access import requester_for_user
from fhir.errors import FhirError
from fhir.release import RELEASED, release_of
from fhir.store import Repository
from webapp.accounts.access import get_conversation_for_user
from webapp.accounts.models import Role, User
from webapp.actions.summaries import (
    SIGNED,
    SummaryStateError,
    do_amend_summary,
    do_release_summary,
    do_save_summary,
    do_sign_summary,
    patient_user,
    read_summary,
)

STATUS_LABELS = {"preliminary": "Draft", "final": "Signed", "amended": "Amended"}
MAX_SUMMARIES = 100
MAX_SECTION_CHARS = 8000


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    text: str
    entries: list[dict]
    citations: list[str]

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []


@dataclass(frozen=True)
class SummaryView:
    id: str
    version: str
    status: str
    released: bool
    title: str
    date: str
    sections: list[SectionView]
    signed_by: str
    signed_at: str

    @classmethod
    def of(cls, composition: dict) -> SummaryView:
        by_key = {section_key(s): s for s in composition.get("section", [])}
        sections = [SectionView(key, title, section_text(by_key[key]), by_key[key].get("entry", []),
                                citations_of(by_key[key]))
                    for key, (title, _, _) in SECTIONS.items() if key in by_key]
        attester = next(iter(composition.get("attester", [])), {})
        return cls(id=composition["id"], version=composition["meta"]["versionId"], status=composition["status"],
                   released=release_of(composition) == RELEASED, title=composition.get("title", ""),
                   date=composition.get("date", "")[:16].replace("T", " "), sections=sections,
                   signed_by=attester.get("party", {}).get("display", ""),
                   signed_at=attester.get("time", "")[:16].replace("T", " "))

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status) + (", released" if self.released else "")

    @property
    def draft(self) -> bool:
        return self.status == "preliminary"

    @property
    def signed(self) -> bool:
        return self.status in SIGNED


def summaries_of(reader: User, patient: User) -> list[SummaryView]:
    """The patient's summaries as ``reader`` may see them (a patient: released ones only), drafts first, then the
    newest; read through the reader's Repository (audited)."""
    if not patient.fhir_id:
        return []
    repo = Repository(requester_for_user(reader), channel="app")
    found = repo.search("Composition", [("subject", f"Patient/{patient.fhir_id}"), ("identifier", f"{EPISODE_SYSTEM}|"),
                                        ("_sort", "-date"), ("_count", str(MAX_SUMMARIES))]).matches
    views = [SummaryView.of(c) for c in found]
    return [v for v in views if v.draft] + [v for v in views if not v.draft]


def _clinician(request: HttpRequest) -> User:
    if request.user.role != Role.CLINICIAN:
        raise PermissionDenied("Only clinicians sign summaries.")
    return request.user


def _summary(clinician: User, composition_id: str) -> dict:
    try:
        return read_summary(clinician, composition_id)
    except FhirError as error:
        if error.status in (400, 403, 404, 410):
            raise Http404("No such summary") from None
        raise


@require_GET
@login_required
def summary_list(request: HttpRequest, conversation_id) -> HttpResponse:
    """A patient's summaries for their care team (404 for other clinicians, 403 for patients)."""
    clinician = _clinician(request)
    conversation = get_conversation_for_user(clinician, conversation_id)
    return render(request, "dashboard/summary_list.html", {
        "conversation": conversation, "patient": conversation.patient,
        "summaries": summaries_of(clinician, conversation.patient)})


@require_GET
@login_required
def summary_page(request: HttpRequest, composition_id: str) -> HttpResponse:
    """One summary: its sections to edit (a draft) or read (signed), with what each rests on."""
    clinician = _clinician(request)
    composition = _summary(clinician, composition_id)
    summary, patient = SummaryView.of(composition), patient_user(composition)
    return render(request, "dashboard/summary.html", {"summary": summary, "patient": patient,
                                                      "conversation": patient.conversation,
                                                      "amending": request.GET.get("amend") == "1" and summary.signed})


@require_POST
@login_required
def summary_action(request: HttpRequest, composition_id: str, action: str) -> HttpResponse:
    """save | sign | amend (with the sections' text) or release; each names the version it was shown."""
    clinician = _clinician(request)
    version = request.POST.get("version", "")
    if not version.isdigit():
        return HttpResponse("The form names no version of the summary.", status=400)
    texts = {key: request.POST[key][:MAX_SECTION_CHARS] for key in SECTIONS if key in request.POST}
    steps = {"save": lambda: do_save_summary(clinician, composition_id, texts, version),
             "sign": lambda: do_sign_summary(clinician, composition_id, texts, version),
             "amend": lambda: do_amend_summary(clinician, composition_id, texts, version),
             "release": lambda: do_release_summary(clinician, composition_id, version)}
    if action not in steps:
        raise Http404("No such action")
    try:
        steps[action]()
    except SummaryStateError as error:
        return HttpResponse(str(error), status=409, content_type="text/plain")
    except FhirError as error:
        if error.status in (400, 403, 404, 410):
            raise Http404("No such summary") from None  # outside the care team: existence is not disclosed
        raise
    return redirect("summary_page", composition_id=composition_id)


@require_GET
@login_required
def my_summaries(request: HttpRequest) -> HttpResponse:
    """The patient's own summaries that their clinicians signed and released (nothing else: fhir/release.py)."""
    if request.user.role != Role.PATIENT:
        raise PermissionDenied("Only a patient has summaries of their own here.")
    return render(request, "chat/summaries.html", {"summaries": summaries_of(request.user, request.user)})
