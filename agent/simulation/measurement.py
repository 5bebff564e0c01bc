"""The measurement role: examination findings and test results, given when the doctor asks for them.

The doctor side asks through the request_examination tool (agent/tools/request_examination.py), which only a
simulated consultation offers. A request is matched to the case's examination or test sections by the words
they share; what the case does not hold is reported as not available (never invented), and every request is
kept so the consultation report shows what the doctor looked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.simulation.cases import Case, flatten
from agent.simulation.facts import words

SYNONYMS = {  # request words -> words of the case's section names
    "vitals": "vital signs", "observations": "vital signs", "blood pressure": "vital signs",
    "heart": "cardiovascular cardiac", "lungs": "respiratory chest", "chest": "respiratory chest cardiac",
    "belly": "abdominal", "abdomen": "abdominal", "tummy": "abdominal", "neuro": "neurological neurologic",
    "skin": "skin dermatological", "rash": "skin dermatological", "blood": "blood complete count cbc",
    "fbc": "complete blood count cbc", "cbc": "complete blood count", "xray": "x-ray radiograph",
    "x-ray": "x-ray radiograph chest", "imaging": "x-ray ct mri ultrasound", "urine": "urinalysis urine",
}


@dataclass
class Measurement:
    case: Case
    requests: list[dict] = field(default_factory=list)  # {kind, name, found}

    def sections(self, kind: str) -> dict:
        return self.case.examinations if kind == "examination" else self.case.tests

    def examine(self, kind: str, name: str) -> str:
        """The findings for one request, as text the doctor reads."""
        wanted = words(name + " " + " ".join(v for k, v in SYNONYMS.items() if k in name.lower()))
        scored = []
        for key, value in self.sections(kind).items():
            title = key.replace("_", " ")
            overlap = len(wanted & words(title)) * 2 + len(wanted & words(" ".join(flatten(value))))
            if overlap:
                scored.append((overlap, title, value))
        scored.sort(key=lambda item: -item[0])
        best = [item for item in scored if item[0] == scored[0][0]] if scored else []
        self.requests.append({"kind": kind, "name": name, "found": [title for _, title, _ in best]})
        if not best:
            return (f"{name}: not available for this patient (nothing recorded). "
                    + ("Examine another system." if kind == "examination" else "Consider another test."))
        return "\n".join(f"{title}: " + "; ".join(flatten(value)) for _, title, value in best)

    def findings_so_far(self) -> list[str]:
        """One line per request that found something, for the doctor's notes in later turns."""
        lines = []
        for request in self.requests:
            if request["found"]:
                sections = self.sections(request["kind"])
                for title in request["found"]:
                    value = sections.get(title.replace(" ", "_"), "")
                    lines.append(f"{title}: " + "; ".join(flatten(value)))
        return list(dict.fromkeys(lines))
