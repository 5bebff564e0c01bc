"""Red-flag rules: a level, a condition, and the concepts that must all be present.

Levels follow established symptom-checker triage: emergency (call the emergency
number now), urgent (be seen today), routine, self-care. Rules are checked in
order; the highest level found wins and every firing rule is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"
    SELF_CARE = "self-care"


SEVERITY = {Level.EMERGENCY: 3, Level.URGENT: 2, Level.ROUTINE: 1, Level.SELF_CARE: 0}


@dataclass(frozen=True)
class Rule:
    level: Level
    condition: str
    all_of: tuple[str, ...]


RULES: tuple[Rule, ...] = (
    Rule(Level.EMERGENCY, "possible heart attack: chest pain with sweating", ("chest_pain", "sweating")),
    Rule(Level.EMERGENCY, "possible heart attack: chest pain spreading to arm, jaw or back", ("chest_pain", "cardiac_spread")),
    Rule(Level.EMERGENCY, "possible heart attack: chest pain with breathlessness", ("chest_pain", "breathless")),
    Rule(Level.EMERGENCY, "possible heart attack: pain spreading to arm or jaw with sweating", ("cardiac_spread", "sweating")),
    Rule(Level.EMERGENCY, "stroke signs", ("stroke",)),
    Rule(Level.EMERGENCY, "severe breathing difficulty", ("cannot_breathe",)),
    Rule(Level.EMERGENCY, "possible anaphylaxis: swelling of the throat, tongue, lips or face", ("airway_swelling",)),
    Rule(Level.EMERGENCY, "possible anaphylaxis: allergic reaction with breathing difficulty", ("allergic", "breathless")),
    Rule(Level.EMERGENCY, "suicidal intent", ("suicidal",)),
    Rule(Level.EMERGENCY, "self-harm", ("self_harm",)),
    Rule(Level.EMERGENCY, "overdose or poisoning", ("overdose",)),
    Rule(Level.EMERGENCY, "severe bleeding", ("severe_bleeding",)),
    Rule(Level.EMERGENCY, "possible meningitis: stiff neck with fever", ("stiff_neck", "fever")),
    Rule(Level.EMERGENCY, "possible meningitis or sepsis: rash that does not fade", ("non_blanching_rash",)),
    Rule(Level.EMERGENCY, "pregnancy emergency", ("pregnant", "pregnancy_danger")),
    Rule(Level.EMERGENCY, "fever in a baby", ("infant", "fever")),
    Rule(Level.EMERGENCY, "sudden worst headache", ("thunderclap",)),
    Rule(Level.EMERGENCY, "diabetic emergency: diabetes with confusion or drowsiness", ("diabetes", "altered_consciousness")),
    Rule(Level.EMERGENCY, "possible sepsis", ("sepsis",)),
    Rule(Level.EMERGENCY, "possible sepsis: fever with warning signs", ("fever", "sepsis_signs")),
    Rule(Level.EMERGENCY, "possible sepsis: fever with confusion", ("fever", "altered_consciousness")),
    Rule(Level.EMERGENCY, "possible sepsis: warning signs with confusion", ("sepsis_signs", "altered_consciousness")),
    Rule(Level.EMERGENCY, "unconscious, unresponsive or seizing", ("unconscious",)),
    Rule(Level.EMERGENCY, "sudden tearing pain (possible aortic dissection)", ("tearing_pain",)),
    Rule(Level.EMERGENCY, "head injury with drowsiness, confusion or vomiting", ("head_injury", "altered_consciousness")),
    Rule(Level.URGENT, "chest pain", ("chest_pain",)),
    Rule(Level.URGENT, "breathlessness", ("breathless",)),
    Rule(Level.URGENT, "confusion or drowsiness", ("altered_consciousness",)),
    Rule(Level.URGENT, "high fever", ("high_fever",)),
    Rule(Level.URGENT, "coughing up blood", ("coughing_blood",)),
    Rule(Level.URGENT, "severe pain", ("severe_pain",)),
    Rule(Level.URGENT, "allergic reaction", ("allergic_reaction",)),
    Rule(Level.URGENT, "stiff neck", ("stiff_neck",)),
    Rule(Level.URGENT, "needs to be seen today", ("urgent_other",)),
    Rule(Level.URGENT, "head injury", ("head_injury",)),
    Rule(Level.URGENT, "a burn that needs to be seen", ("urgent_burn",)),
    Rule(Level.URGENT, "severe abdominal or kidney pain", ("urgent_belly",)),
    Rule(Level.URGENT, "very high blood sugar", ("high_sugar",)),
    Rule(Level.URGENT, "urinary infection with fever", ("urinary", "fever")),
    Rule(Level.URGENT, "symptoms in pregnancy", ("pregnant", "symptom")),
    Rule(Level.URGENT, "a baby who is unwell", ("infant", "symptom")),
    Rule(Level.ROUTINE, "symptoms to discuss", ("symptom",)),
    Rule(Level.SELF_CARE, "minor complaint", ("minor",)),
)
