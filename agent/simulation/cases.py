"""OSCE cases in the AgentClinic format, read into what the simulator and the scorer need.

A case line is one JSON object: {"OSCE_Examination": {"Objective_for_Doctor", "Patient_Actor": {"Demographics",
"History", "Symptoms": {"Primary_Symptom", "Secondary_Symptoms"}, "Past_Medical_History", "Social_History",
"Review_of_Systems", ...}, "Physical_Examination_Findings", "Test_Results", "Correct_Diagnosis"}}.

The patient actor's script becomes a list of facts, each a short statement with its topic and whether it
is a denial. The facts other than the demographics and the presenting complaint are the case's history
items: what a good history should elicit (inquiry coverage is the share the doctor drew out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Patient_Actor keys -> fact topics (unknown keys keep a topic of their own name).
TOPICS = {
    "History": "history",
    "Symptoms": "symptoms",
    "Past_Medical_History": "past_history",
    "Social_History": "social",
    "Review_of_Systems": "review",
    "Family_History": "family",
    "Medications": "medications",
    "Current_Medications": "medications",
}
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_DENIES = re.compile(r"^(?:the patient |he |she |patient )?(?:denies|reports no|has no|no history of|negative for)\s+",
                     re.I)
_LIST_SPLIT = re.compile(r",\s*(?:or |and |nor )?|\s+(?:or|nor)\s+(?=\w)")


class CaseError(ValueError):
    """A case line that cannot be used, with its line number."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Fact:
    topic: str  # history | symptoms | past_history | social | review | family | medications
    text: str
    negative: bool = False  # a denial: "no fever"


@dataclass(frozen=True)
class Case:
    index: int  # 0-based line of the file: stable across runs, so a report can be resumed
    objective: str
    demographics: str
    complaint: str  # the presenting complaint, which the patient volunteers
    facts: tuple[Fact, ...]
    examinations: dict
    tests: dict
    diagnosis: str
    actor_text: str  # everything the patient actor knows, flattened: what the patient may say

    @property
    def history_items(self) -> tuple[Fact, ...]:
        """What the history should elicit: every fact but the complaint the patient opens with."""
        return tuple(f for f in self.facts if f.text.lower() != self.complaint.lower())


def flatten(value: object) -> Iterator[str]:
    """Every text leaf of a nested value ("key: value" for a dict leaf)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                yield from flatten(item)
            elif str(item).strip():
                yield f"{key.replace('_', ' ')}: {item}"
    elif isinstance(value, list):
        for item in value:
            yield from flatten(item)
    elif value is not None and str(value).strip():
        yield str(value)


def split_facts(topic: str, text: str) -> list[Fact]:
    """Short statements from one part of the script: sentences, denial lists split into one denial each."""
    facts: list[Fact] = []
    for sentence in _SENTENCE.split(text.strip()):
        sentence = sentence.strip().rstrip(".;")
        if len(sentence) < 3:
            continue
        denial = _DENIES.match(sentence)
        if denial:
            for item in _LIST_SPLIT.split(sentence[denial.end():]):
                item = item.strip().removeprefix("any ").removeprefix("or ").strip()
                if len(item) >= 3:
                    facts.append(Fact(topic, f"no {item}", negative=True))
            continue
        facts.append(Fact(topic, sentence))
    return facts


def parse_case(obj: object, index: int) -> Case:
    """One case from its JSON object; CaseError (line index + 1) when a required part is missing."""
    line = index + 1
    if not isinstance(obj, dict) or not isinstance(obj.get("OSCE_Examination"), dict):
        raise CaseError(line, "expected an object with an OSCE_Examination object")
    exam = obj["OSCE_Examination"]
    actor = exam.get("Patient_Actor")
    diagnosis = exam.get("Correct_Diagnosis")
    if not isinstance(actor, dict) or not actor:
        raise CaseError(line, "OSCE_Examination.Patient_Actor is missing or not an object")
    if not isinstance(diagnosis, str) or not diagnosis.strip():
        raise CaseError(line, "OSCE_Examination.Correct_Diagnosis is missing or empty")
    symptoms = actor.get("Symptoms") if isinstance(actor.get("Symptoms"), dict) else {}
    # The presenting complaint; an asymptomatic patient (a screening result) comes for what History says first.
    complaint = str(symptoms.get("Primary_Symptom") or "").strip()
    if not complaint and isinstance(actor.get("History"), str):
        complaint = _SENTENCE.split(actor["History"].strip())[0].strip().rstrip(".")
    if not complaint:
        raise CaseError(line, "neither Patient_Actor.Symptoms.Primary_Symptom nor Patient_Actor.History is there")
    facts: list[Fact] = [Fact("symptoms" if symptoms.get("Primary_Symptom") else "history", complaint)]
    for key, value in actor.items():
        if key == "Demographics":
            continue
        topic = TOPICS.get(key, key.lower())
        if key == "Symptoms":
            value = {k: v for k, v in value.items() if k != "Primary_Symptom"} if isinstance(value, dict) else value
        for text in flatten(value):
            if key == "Symptoms" or isinstance(value, list):
                facts.append(Fact(topic, text.split(": ", 1)[-1].strip().rstrip(".")))
            else:
                facts += split_facts(topic, text.split(": ", 1)[-1] if isinstance(value, dict) else text)
    unique = tuple(dict.fromkeys(f for f in facts if f.text))
    return Case(
        index=index,
        objective=str(exam.get("Objective_for_Doctor") or ""),
        demographics=str(actor.get("Demographics") or "").strip(),
        complaint=complaint,
        facts=unique,
        examinations=exam.get("Physical_Examination_Findings") or {},
        tests=exam.get("Test_Results") or {},
        diagnosis=diagnosis.strip(),
        actor_text=" ".join(flatten(actor)),
    )


def read_cases(path: str | Path) -> tuple[list[Case], list[CaseError]]:
    """The usable cases of a JSONL file and an error (with its line number) for each line that is not."""
    cases: list[Case] = []
    errors: list[CaseError] = []
    with open(path, encoding="utf-8") as stream:
        for index, line in enumerate(stream):
            if not line.strip():
                continue
            try:
                cases.append(parse_case(json.loads(line), index))
            except json.JSONDecodeError as exc:
                errors.append(CaseError(index + 1, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            except CaseError as exc:
                errors.append(exc)
    return cases, errors
