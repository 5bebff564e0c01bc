"""The proposal queue: what the agent may not do itself (a prescription, a test, a referral) waits as a Task until
a clinician on the patient's care team approves or rejects it. The decision is a new version of the Task and a
Provenance, audited as the clinician; the patient is told in their conversation who decided."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from agent.tools.propose_to_clinician import PROPOSAL_SYSTEM
from fhir.access import requester_for_user
from fhir.persistence import instant
from fhir.store import PARTICIPANT_TYPE, Repository
from webapp import clock
from webapp.accounts.models import Role, User
from webapp.actions.events import send_event_on_commit
from webapp.chat.models import Author, Conversation, Message

KIND_NAMES = {"medication-change": "a medication change", "prescription": "a prescription",
              "test-order": "a test", "diagnosis": "a diagnosis", "referral": "a referral"}
MAX_PROPOSALS = 500  # listed per page load, oldest first: a longer queue is itself the problem to solve


class NotAProposal(Exception):
    """The Task is not an agent proposal waiting for a decision (already decided, or something else)."""


@dataclass
class Proposal:
    id: str
    patient_id: str  # FHIR Patient id
    kind: str
    summary: str
    reason: str
    since: str  # when the agent proposed it (meta.lastUpdated of the waiting version)

    @property
    def since_text(self) -> str:
        return f"{self.since[:16].replace('T', ' ')} UTC" if self.since else ""

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind or "a proposal")


def is_proposal(task: dict) -> bool:
    return task.get("intent") == "proposal" and any(
        c.get("system") == PROPOSAL_SYSTEM for c in (task.get("code") or {}).get("coding") or [])


def as_proposal(task: dict) -> Proposal:
    coding = next(c for c in task["code"]["coding"] if c.get("system") == PROPOSAL_SYSTEM)
    reason = next((n.get("text", "") for n in task.get("note") or [] if n.get("text", "").startswith("Why: ")), "")
    return Proposal(task["id"], task.get("for", {}).get("reference", "").removeprefix("Patient/"),
                    coding.get("code", ""), task.get("description", ""), reason.removeprefix("Why: "),
                    task.get("meta", {}).get("lastUpdated", ""))


def waiting_proposals(clinician: User) -> list[Proposal]:
    """The agent's proposals waiting for a decision in this clinician's patients' records, oldest first (read
    through their own Repository: care team only, audited)."""
    repo = Repository(requester_for_user(clinician), channel="app")
    tasks = repo.search("Task", [("intent", "proposal"), ("status", "requested"), ("code", f"{PROPOSAL_SYSTEM}|"),
                                 ("_sort", "_lastUpdated"), ("_count", str(MAX_PROPOSALS))]).matches
    return [as_proposal(task) for task in tasks if is_proposal(task)]


def do_approve_proposal(clinician: User, task_id: str, note: str = "") -> dict:
    return _decide(clinician, task_id, accepted=True, note=note)


def do_reject_proposal(clinician: User, task_id: str, note: str = "") -> dict:
    return _decide(clinician, task_id, accepted=False, note=note)


def _decide(clinician: User, task_id: str, accepted: bool, note: str) -> dict:
    """One decision: the Task accepted or rejected with the clinician as owner and their note, a Provenance naming
    them, and a message in the patient's conversation. FhirError (404) outside the care team; NotAProposal when
    it is not a proposal waiting for a decision (a second click, or a colleague was quicker)."""
    if clinician.role != Role.CLINICIAN:
        raise PermissionError("only clinicians decide on proposals")
    repo = Repository(requester_for_user(clinician), channel="app")
    name = clinician.get_full_name() or clinician.username
    note = note.strip()[:1000]
    with transaction.atomic():
        task = repo.read("Task", task_id)
        if not is_proposal(task) or task.get("status") != "requested":
            raise NotAProposal(f"Task/{task_id} is not a proposal waiting for a decision")
        proposal = as_proposal(task)
        now = clock.now()
        owner = {"reference": f"Practitioner/{clinician.fhir_id}", "display": name}
        status = "accepted" if accepted else "rejected"
        reason = note or f"{'Approved' if accepted else 'Declined'} by {name}"
        decided = {**task, "status": status, "owner": owner, "statusReason": {"text": reason},
                   "lastModified": now.isoformat(),
                   "note": [*(task.get("note") or []), {"authorReference": owner, "time": now.isoformat(),
                                                        "text": f"{status.capitalize()}: {reason}"}]}
        written = repo.update("Task", task_id, decided, if_match=f'W/"{task["meta"]["versionId"]}"').resource
        repo.create({
            "resourceType": "Provenance",
            "target": [{"reference": f"Task/{task_id}/_history/{written['meta']['versionId']}"}],
            "recorded": instant(now), "occurredDateTime": now.isoformat(),
            "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                     "code": "UPDATE"}], "text": f"proposal {status}"},
            "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "verifier"}]}, "who": owner}],
            "reason": [{"text": reason}],
        })
        conversation = Conversation.objects.filter(patient__fhir_id=proposal.patient_id).first()
        if conversation is not None:
            _tell_patient(conversation, proposal, accepted, name)
    return written


def _tell_patient(conversation: Conversation, proposal: Proposal, accepted: bool, name: str) -> Message:
    decision = "approved" if accepted else "declined"
    text = (f"{name} from your care team has {decision} the assistant's suggestion of {proposal.kind_name}: "
            f"{proposal.summary}")
    message = Message.objects.create(conversation=conversation, author=Author.SYSTEM, text=text[:2000])
    send_event_on_commit(conversation.group_name, message.as_event())
    return message
