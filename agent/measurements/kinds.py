"""What a patient may report at home: each kind's LOINC code, its canonical UCUM unit and the values a person can
have. Readings are stored in the canonical unit (whatever unit the patient wrote), so trends compare like with like;
what the patient wrote, when different, is kept in a note.

Codes and displays are LOINC's own; the vital signs are those of the FHIR vital-signs profiles (blood pressure as
the 85354-9 panel with systolic 8480-6 and diastolic 8462-4 components, oxygen saturation 59408-5 with 2708-6).
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


@dataclass(frozen=True)
class Coding:
    code: str
    display: str


@dataclass(frozen=True)
class Kind:
    key: str
    codings: tuple[Coding, ...]  # the first is the one rules and trends look for
    unit: str  # canonical UCUM code
    unit_text: str  # how people write it
    low: float  # plausible range, canonical unit: a value outside it is a typo, a date or not this measurement
    high: float
    category: str = "vital-signs"
    decimals: int = 1  # values are kept to this many decimals after conversion

    @property
    def code(self) -> str:
        return self.codings[0].code

    @property
    def display(self) -> str:
        return self.codings[0].display


SYSTOLIC = Coding("8480-6", "Systolic blood pressure")
DIASTOLIC = Coding("8462-4", "Diastolic blood pressure")
# Diastolic bounds of the blood pressure panel (the systolic ones are the Kind's low and high).
DIASTOLIC_LOW, DIASTOLIC_HIGH = 30.0, 160.0
# The smallest gap between systolic and diastolic a real reading shows (a smaller one is a misreading).
MIN_PULSE_PRESSURE = 10.0

KINDS: dict[str, Kind] = {kind.key: kind for kind in (
    Kind("blood-pressure", (Coding("85354-9", "Blood pressure panel with all children optional"),), "mm[Hg]",
         "mmHg", 60, 280, decimals=0),
    Kind("heart-rate", (Coding("8867-4", "Heart rate"),), "/min", "beats/minute", 25, 250, decimals=0),
    Kind("body-temperature", (Coding("8310-5", "Body temperature"),), "Cel", "°C", 32, 44),
    Kind("oxygen-saturation", (Coding("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                               Coding("2708-6", "Oxygen saturation in Arterial blood")), "%", "%", 50, 100,
         decimals=0),
    Kind("body-weight", (Coding("29463-7", "Body weight"),), "kg", "kg", 20, 400, decimals=2),
    Kind("peak-flow", (Coding("19935-6", "Maximum expiratory gas flow Respiratory system airway by Peak flow "
                                         "meter"),), "L/min", "L/min", 50, 900, decimals=0),
    # A finger-prick reading is a blood test, not a vital sign: FHIR's category for it is laboratory.
    Kind("blood-glucose", (Coding("14743-9", "Glucose [Moles/volume] in Capillary blood by Glucometer"),),
         "mmol/L", "mmol/L", 1.0, 40.0, category="laboratory"),
)}

# Exact conversion factors (UCUM's definitions: [lb_av] = 0.45359237 kg, [stone_av] = 14 [lb_av]; glucose
# 180.16 g/mol, as perception/labs/units.py's MOLAR_MASS). tests/test_measurements_become_observations.py checks
# them against perception's UCUM conversions; they are plain numbers here because the patient's message path
# parses synchronously and loading the UCUM registry takes about a second.
KG_PER_LB = 0.45359237
KG_PER_STONE = 14 * KG_PER_LB
GLUCOSE_MG_DL_PER_MMOL_L = 18.016


def fahrenheit_to_celsius(value: float) -> float:
    return (value - 32) * 5 / 9
