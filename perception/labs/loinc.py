"""Common lab tests: their LOINC codes, canonical UCUM units and the names reports print for them.

Codes and displays are LOINC's own (numbers and long common names as published by LOINC, most from its list
of the 2000 most common lab results); a test whose code we were not sure of is left out rather than guessed.
The canonical unit is the one the record keeps for the test: SI (molar where a molar code exists, g/L for
proteins) so results from UK, EU and US reports trend together; the printed value is kept in a note.
Where the kind of unit decides the code (glucose by mass 2345-7, by substance 14749-6; neutrophils as a count
or a percentage) the other codes are listed as alternatives, used when a value cannot be converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

LOINC_SYSTEM = "http://loinc.org"


@dataclass(frozen=True)
class UnitCode:
    unit: str  # UCUM; "" for results without a unit (presence, e.g. "Negative")
    code: str
    display: str


@dataclass(frozen=True)
class LabTest:
    key: str
    code: str
    display: str
    unit: str
    synonyms: tuple[str, ...]
    alternatives: tuple[UnitCode, ...] = ()
    analyte: str | None = None  # what units.convert needs to know (molar mass, IU taken as U); default: key

    @property
    def codings(self) -> tuple[UnitCode, ...]:
        """The canonical code first, then the codes for other kinds of unit."""
        return (UnitCode(self.unit, self.code, self.display), *self.alternatives)

    @property
    def conversion_analyte(self) -> str:
        return self.analyte or self.key


def _t(key: str, code: str, display: str, unit: str, synonyms: str, *alternatives: tuple[str, str, str],
       analyte: str | None = None) -> LabTest:
    return LabTest(key, code, display, unit, tuple(s.strip() for s in synonyms.split(";")),
                   tuple(UnitCode(*a) for a in alternatives), analyte)


_SP = "in Serum or Plasma"
_AUTO = "in Blood by Automated count"
_PCT = "/100 leukocytes in Blood by Automated count"

TESTS: tuple[LabTest, ...] = (
    # ---- full blood count ----
    _t("haemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/L",
       "haemoglobin; hemoglobin; hb; hgb; hb conc; haemoglobin concentration; hemoglobin concentration"),
    _t("haematocrit", "4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%",
       "haematocrit; hematocrit; hct; pcv; packed cell volume"),
    _t("wbc", "6690-2", f"Leukocytes [#/volume] {_AUTO}", "10*9/L",
       "wbc; white cell count; white blood cells; white blood cell count; white blood count; wcc; leukocytes; "
       "leucocytes; total leucocyte count; total leukocyte count; tlc; white cells"),
    _t("rbc", "789-8", f"Erythrocytes [#/volume] {_AUTO}", "10*12/L",
       "rbc; red cell count; red blood cells; red blood cell count; rcc; erythrocytes; red cells"),
    _t("platelets", "777-3", f"Platelets [#/volume] {_AUTO}", "10*9/L",
       "platelets; platelet count; plt; plts; thrombocytes"),
    _t("mcv", "787-2", "MCV [Entitic volume] by Automated count", "fL",
       "mcv; mean cell volume; mean corpuscular volume"),
    _t("mch", "785-6", "MCH [Entitic mass] by Automated count", "pg",
       "mch; mean cell haemoglobin; mean cell hemoglobin; mean corpuscular haemoglobin; mean corpuscular hemoglobin"),
    _t("mchc", "786-4", "MCHC [Mass/volume] by Automated count", "g/L",
       "mchc; mean cell haemoglobin concentration; mean cell hemoglobin concentration; "
       "mean corpuscular haemoglobin concentration; mean corpuscular hemoglobin concentration"),
    _t("rdw", "788-0", "Erythrocyte distribution width [Ratio] by Automated count", "%",
       "rdw; rdw cv; red cell distribution width; red cell distribution width cv"),
    _t("mpv", "32623-1", "Platelet mean volume [Entitic volume] in Blood by Automated count", "fL",
       "mpv; mean platelet volume"),
    _t("neutrophils", "751-8", f"Neutrophils [#/volume] {_AUTO}", "10*9/L",
       "neutrophils; neutrophil count; neut; neuts; absolute neutrophil count; anc; neutrophils absolute; "
       "polymorphs",
       ("%", "770-8", f"Neutrophils{_PCT}")),
    _t("lymphocytes", "731-0", f"Lymphocytes [#/volume] {_AUTO}", "10*9/L",
       "lymphocytes; lymphocyte count; lymph; lymphs; absolute lymphocyte count; lymphocytes absolute",
       ("%", "736-9", f"Lymphocytes{_PCT}")),
    _t("monocytes", "742-7", f"Monocytes [#/volume] {_AUTO}", "10*9/L",
       "monocytes; monocyte count; mono; monos; monocytes absolute",
       ("%", "5905-5", f"Monocytes{_PCT}")),
    _t("eosinophils", "711-2", f"Eosinophils [#/volume] {_AUTO}", "10*9/L",
       "eosinophils; eosinophil count; eos; eosin; eosinophils absolute",
       ("%", "713-8", f"Eosinophils{_PCT}")),
    _t("basophils", "704-7", f"Basophils [#/volume] {_AUTO}", "10*9/L",
       "basophils; basophil count; baso; basos; basophils absolute",
       ("%", "706-2", f"Basophils{_PCT}")),
    _t("esr", "30341-2", "Erythrocyte sedimentation rate", "mm/h",
       "esr; erythrocyte sedimentation rate; sed rate; sedimentation rate"),
    # ---- coagulation ----
    _t("inr", "6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}",
       "inr; international normalised ratio; international normalized ratio; pt inr; prothrombin inr"),
    _t("pt", "5902-2", "Prothrombin time (PT)", "s", "pt; prothrombin time; pro time"),
    _t("aptt", "3173-2", "aPTT in Blood by Coagulation assay", "s",
       "aptt; ptt; activated partial thromboplastin time; partial thromboplastin time"),
    _t("fibrinogen", "3255-7", "Fibrinogen [Mass/volume] in Platelet poor plasma by Coagulation assay", "g/L",
       "fibrinogen; clauss fibrinogen"),
    # ---- electrolytes and kidney ----
    _t("sodium", "2951-2", f"Sodium [Moles/volume] {_SP}", "mmol/L", "sodium; na; na+"),
    _t("potassium", "2823-3", f"Potassium [Moles/volume] {_SP}", "mmol/L", "potassium; k; k+"),
    _t("chloride", "2075-0", f"Chloride [Moles/volume] {_SP}", "mmol/L", "chloride; cl; cl-"),
    _t("bicarbonate", "1963-8", f"Bicarbonate [Moles/volume] {_SP}", "mmol/L",
       "bicarbonate; bicarb; hco3; hco3-; serum bicarbonate"),
    _t("co2", "2028-9", f"Carbon dioxide, total [Moles/volume] {_SP}", "mmol/L",
       "co2; total co2; carbon dioxide; tco2; carbon dioxide total"),
    _t("anion_gap", "33037-3", f"Anion gap {_SP}", "mmol/L", "anion gap"),
    _t("urea", "22664-7", f"Urea [Moles/volume] {_SP}", "mmol/L", "urea; blood urea",
       ("mg/dL", "3091-6", f"Urea [Mass/volume] {_SP}")),
    _t("bun", "14937-7", f"Urea nitrogen [Moles/volume] {_SP}", "mmol/L",
       "bun; blood urea nitrogen; urea nitrogen",
       ("mg/dL", "3094-0", f"Urea nitrogen [Mass/volume] {_SP}"), analyte="urea_nitrogen"),
    _t("creatinine", "14682-9", f"Creatinine [Moles/volume] {_SP}", "umol/L", "creatinine; creat; crea; cr",
       ("mg/dL", "2160-0", f"Creatinine [Mass/volume] {_SP}")),
    _t("egfr", "62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or "
       "Blood by Creatinine-based formula (CKD-EPI)", "mL/min/{1.73_m2}",
       "egfr; gfr; estimated gfr; egfr ckd epi; ckd epi egfr; estimated glomerular filtration rate; gfr estimated"),
    _t("urate", "14933-6", f"Urate [Moles/volume] {_SP}", "umol/L", "uric acid; urate; serum urate",
       ("mg/dL", "3084-1", f"Urate [Mass/volume] {_SP}")),
    _t("calcium", "2000-8", f"Calcium [Moles/volume] {_SP}", "mmol/L", "calcium; ca; total calcium",
       ("mg/dL", "17861-6", f"Calcium [Mass/volume] {_SP}")),
    _t("magnesium", "2601-3", f"Magnesium [Moles/volume] {_SP}", "mmol/L", "magnesium; mg; mag",
       ("mg/dL", "19123-9", f"Magnesium [Mass/volume] {_SP}")),
    _t("phosphate", "14879-1", f"Phosphate [Moles/volume] {_SP}", "mmol/L",
       "phosphate; phosphorus; phos; po4; inorganic phosphate; inorganic phosphorus",
       ("mg/dL", "2777-1", f"Phosphate [Mass/volume] {_SP}")),
    _t("osmolality", "2692-2", "Osmolality of Serum or Plasma", "mosm/kg", "osmolality; serum osmolality; osmo"),
    # ---- glucose and diabetes ----
    _t("glucose", "14749-6", f"Glucose [Moles/volume] {_SP}", "mmol/L",
       "glucose; random glucose; glucose random; blood glucose; plasma glucose; random blood glucose; "
       "random plasma glucose; rbg; rbs; random blood sugar; blood sugar; glu",
       ("mg/dL", "2345-7", f"Glucose [Mass/volume] {_SP}")),
    _t("fasting_glucose", "14771-0", f"Fasting glucose [Moles/volume] {_SP}", "mmol/L",
       "fasting glucose; glucose fasting; fasting blood glucose; fasting plasma glucose; fbg; fpg; fbs; "
       "fasting blood sugar; glucose f",
       ("mg/dL", "1558-6", f"Fasting glucose [Mass/volume] {_SP}"), analyte="glucose"),
    _t("hba1c", "59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol", "mmol/mol",
       "hba1c; hb a1c; a1c; hgba1c; glycated haemoglobin; glycated hemoglobin; glycosylated haemoglobin; "
       "glycosylated hemoglobin; haemoglobin a1c; hemoglobin a1c; hba1c ifcc",
       ("%", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")),
    # ---- liver, pancreas, muscle ----
    _t("alt", "1742-6", f"Alanine aminotransferase [Enzymatic activity/volume] {_SP}", "U/L",
       "alt; sgpt; alat; gpt; alt sgpt; alanine aminotransferase; alanine transaminase"),
    _t("ast", "1920-8", f"Aspartate aminotransferase [Enzymatic activity/volume] {_SP}", "U/L",
       "ast; sgot; asat; got; ast sgot; aspartate aminotransferase; aspartate transaminase"),
    _t("alp", "6768-6", f"Alkaline phosphatase [Enzymatic activity/volume] {_SP}", "U/L",
       "alp; alk phos; alkaline phosphatase; alk phosphatase; alkp"),
    _t("ggt", "2324-2", f"Gamma glutamyl transferase [Enzymatic activity/volume] {_SP}", "U/L",
       "ggt; gamma gt; ggtp; gamma glutamyl transferase; gamma glutamyltransferase; gamma glutamyl transpeptidase"),
    _t("bilirubin", "14631-6", f"Bilirubin.total [Moles/volume] {_SP}", "umol/L",
       "bilirubin; total bilirubin; bilirubin total; bili; t bili; tbil; tbili",
       ("mg/dL", "1975-2", f"Bilirubin.total [Mass/volume] {_SP}")),
    _t("direct_bilirubin", "14629-0", f"Bilirubin.direct [Moles/volume] {_SP}", "umol/L",
       "direct bilirubin; bilirubin direct; conjugated bilirubin; bilirubin conjugated; d bili; dbil",
       ("mg/dL", "1968-7", f"Bilirubin.direct [Mass/volume] {_SP}"), analyte="bilirubin"),
    _t("albumin", "1751-7", f"Albumin [Mass/volume] {_SP}", "g/L", "albumin; alb; serum albumin"),
    _t("total_protein", "2885-2", f"Protein [Mass/volume] {_SP}", "g/L",
       "total protein; protein total; tp; total serum protein"),
    _t("globulin", "10834-0", "Globulin [Mass/volume] in Serum by calculation", "g/L", "globulin; globulins"),
    _t("ck", "2157-6", f"Creatine kinase [Enzymatic activity/volume] {_SP}", "U/L",
       "ck; cpk; creatine kinase; creatine phosphokinase; ck total"),
    _t("ldh", "14804-9", f"Lactate dehydrogenase [Enzymatic activity/volume] {_SP} by Lactate to pyruvate reaction",
       "U/L", "ldh; ld; lactate dehydrogenase"),
    _t("amylase", "1798-8", f"Amylase [Enzymatic activity/volume] {_SP}", "U/L", "amylase; serum amylase"),
    _t("lipase", "3040-3", f"Lipase [Enzymatic activity/volume] {_SP}", "U/L", "lipase; serum lipase"),
    # ---- lipids ----
    _t("cholesterol", "14647-2", f"Cholesterol [Moles/volume] {_SP}", "mmol/L",
       "cholesterol; total cholesterol; cholesterol total; tc; chol; serum cholesterol",
       ("mg/dL", "2093-3", f"Cholesterol [Mass/volume] {_SP}")),
    _t("hdl", "14646-4", f"Cholesterol in HDL [Moles/volume] {_SP}", "mmol/L",
       "hdl; hdl c; hdl cholesterol; cholesterol hdl; hdlc; high density lipoprotein; high density lipoprotein "
       "cholesterol", ("mg/dL", "2085-9", f"Cholesterol in HDL [Mass/volume] {_SP}"), analyte="cholesterol"),
    _t("ldl", "22748-8", f"Cholesterol in LDL [Moles/volume] {_SP}", "mmol/L",
       "ldl; ldl c; ldl cholesterol; cholesterol ldl; ldlc; calculated ldl; ldl calculated; low density lipoprotein; "
       "low density lipoprotein cholesterol",
       ("mg/dL", "13457-7", f"Cholesterol in LDL [Mass/volume] {_SP} by calculation"), analyte="cholesterol"),
    _t("non_hdl", "43396-1", f"Cholesterol non HDL [Mass/volume] {_SP}", "mg/dL",
       "non hdl; non hdl cholesterol; non hdl c; nonhdl", analyte="cholesterol"),
    _t("triglycerides", "14927-8", f"Triglyceride [Moles/volume] {_SP}", "mmol/L",
       "triglycerides; triglyceride; tg; trig; trigs; tgl",
       ("mg/dL", "2571-8", f"Triglyceride [Mass/volume] {_SP}")),
    _t("chol_hdl_ratio", "9830-1", f"Cholesterol.total/Cholesterol in HDL [Mass Ratio] {_SP}", "{ratio}",
       "tc hdl ratio; cholesterol hdl ratio; chol hdl ratio; total cholesterol hdl ratio; tc hdl; chol hdl"),
    # ---- thyroid and hormones ----
    _t("tsh", "3016-3", f"Thyrotropin [Units/volume] {_SP}", "m[IU]/L",
       "tsh; thyroid stimulating hormone; thyrotropin; thyrotrophin"),
    _t("free_t4", "14920-3", f"Thyroxine (T4) free [Moles/volume] {_SP}", "pmol/L",
       "ft4; free t4; t4 free; free thyroxine; thyroxine free",
       ("ng/dL", "3024-7", f"Thyroxine (T4) free [Mass/volume] {_SP}")),
    _t("free_t3", "14928-6", f"Triiodothyronine (T3) Free [Moles/volume] {_SP}", "pmol/L",
       "ft3; free t3; t3 free; free triiodothyronine",
       ("pg/mL", "3051-0", f"Triiodothyronine (T3) Free [Mass/volume] {_SP}")),
    _t("cortisol", "2143-6", f"Cortisol [Mass/volume] {_SP}", "ug/dL", "cortisol; serum cortisol"),
    _t("prolactin", "2842-3", f"Prolactin [Mass/volume] {_SP}", "ng/mL", "prolactin; prl"),
    _t("lh", "10501-5", f"Lutropin [Units/volume] {_SP}", "m[IU]/mL", "lh; luteinising hormone; luteinizing hormone"),
    _t("fsh", "15067-2", f"Follitropin [Units/volume] {_SP}", "m[IU]/mL", "fsh; follicle stimulating hormone"),
    _t("testosterone", "2986-8", f"Testosterone [Mass/volume] {_SP}", "ng/dL", "testosterone; total testosterone"),
    _t("estradiol", "2243-4", f"Estradiol (E2) [Mass/volume] {_SP}", "pg/mL", "estradiol; oestradiol; e2"),
    # ---- inflammation, iron, vitamins ----
    _t("crp", "1988-5", f"C reactive protein [Mass/volume] {_SP}", "mg/L", "crp; c reactive protein"),
    _t("hs_crp", "30522-7", f"C reactive protein [Mass/volume] {_SP} by High sensitivity method", "mg/L",
       "hs crp; hscrp; high sensitivity crp; high sensitivity c reactive protein; crp hs"),
    _t("procalcitonin", "33959-8", f"Procalcitonin [Mass/volume] {_SP}", "ng/mL", "procalcitonin; pct"),
    _t("ferritin", "2276-4", f"Ferritin [Mass/volume] {_SP}", "ug/L", "ferritin; serum ferritin"),
    _t("iron", "14798-3", f"Iron [Moles/volume] {_SP}", "umol/L", "iron; serum iron; fe",
       ("ug/dL", "2498-4", f"Iron [Mass/volume] {_SP}")),
    _t("tibc", "14800-7", f"Iron binding capacity [Moles/volume] {_SP}", "umol/L",
       "tibc; total iron binding capacity; iron binding capacity",
       ("ug/dL", "2500-7", f"Iron binding capacity [Mass/volume] {_SP}"), analyte="iron"),
    _t("transferrin_saturation", "2502-3", f"Iron saturation [Mass Fraction] {_SP}", "%",
       "transferrin saturation; tsat; iron saturation; transferrin sat; saturation; percent saturation"),
    _t("transferrin", "3034-6", f"Transferrin [Mass/volume] {_SP}", "g/L", "transferrin; serum transferrin"),
    _t("vitamin_b12", "14685-2", f"Cobalamin (Vitamin B12) [Moles/volume] {_SP}", "pmol/L",
       "vitamin b12; b12; cobalamin; vit b12; serum b12; serum vitamin b12",
       ("pg/mL", "2132-9", f"Cobalamin (Vitamin B12) [Mass/volume] {_SP}")),
    _t("folate", "14732-2", f"Folate [Moles/volume] {_SP}", "nmol/L", "folate; folic acid; serum folate",
       ("ng/mL", "2284-8", f"Folate [Mass/volume] {_SP}")),
    _t("vitamin_d", "62292-8", f"25-Hydroxyvitamin D2+D3 [Mass/volume] {_SP}", "ng/mL",
       "vitamin d; 25 oh vitamin d; 25 hydroxy vitamin d; 25 hydroxyvitamin d; 25 oh d; vit d; total vitamin d; "
       "vitamin d total; 25 oh vit d; 25ohd"),
    # ---- heart ----
    _t("troponin_t", "6598-7", f"Troponin T.cardiac [Mass/volume] {_SP}", "ug/L", "troponin t; tnt; ctnt; trop t"),
    _t("hs_troponin_t", "67151-1", f"Troponin T.cardiac [Mass/volume] {_SP} by High sensitivity method", "ng/L",
       "hs troponin t; high sensitivity troponin t; hs tnt; hstnt; troponin t hs; hs ctnt"),
    _t("troponin_i", "10839-9", f"Troponin I.cardiac [Mass/volume] {_SP}", "ng/mL", "troponin i; tni; ctni; trop i"),
    _t("hs_troponin_i", "89579-7", f"Troponin I.cardiac [Mass/volume] {_SP} by High sensitivity method", "ng/L",
       "hs troponin i; high sensitivity troponin i; hs tni; hstni; troponin i hs; hs ctni"),
    _t("bnp", "30934-4", f"Natriuretic peptide B [Mass/volume] {_SP}", "pg/mL",
       "bnp; b type natriuretic peptide; brain natriuretic peptide"),
    _t("nt_probnp", "33762-6", f"Natriuretic peptide.B prohormone N-Terminal [Mass/volume] {_SP}", "pg/mL",
       "nt probnp; ntprobnp; nt pro bnp; n terminal pro bnp; n terminal probnp; pro bnp; probnp"),
    # ---- other ----
    _t("psa", "2857-1", f"Prostate specific Ag [Mass/volume] {_SP}", "ng/mL",
       "psa; prostate specific antigen; total psa; psa total"),
    _t("lactate", "2524-7", f"Lactate [Moles/volume] {_SP}", "mmol/L", "lactate; lactic acid"),
    _t("urine_acr", "9318-7", "Albumin/Creatinine [Mass ratio] in Urine", "mg/g",
       "acr; uacr; urine acr; albumin creatinine ratio; urine albumin creatinine ratio; "
       "microalbumin creatinine ratio; urine microalbumin creatinine ratio; albumin creat ratio",
       analyte="albumin_creatinine_ratio"),
    _t("urine_protein", "20454-5", "Protein [Presence] in Urine by Test strip", "",
       "urine protein; protein urine; protein dipstick; urine dipstick protein"),
    _t("urine_glucose", "25428-4", "Glucose [Presence] in Urine by Test strip", "",
       "urine glucose; glucose urine; urine dipstick glucose"),
    _t("urine_nitrite", "5802-4", "Nitrite [Presence] in Urine by Test strip", "",
       "nitrite; nitrites; urine nitrite; urine nitrites"),
    _t("urine_leukocytes", "5799-2", "Leukocyte esterase [Presence] in Urine by Test strip", "",
       "leukocyte esterase; leucocyte esterase; urine leukocytes; urine leucocytes; leucocytes urine"),
    _t("urine_blood", "5794-3", "Hemoglobin [Presence] in Urine by Test strip", "",
       "urine blood; blood urine; urine haemoglobin; urine hemoglobin"),
)

# ---- matching printed names ----------------------------------------------------------------------------------

# Words that say where or how much, not what: "Serum sodium", "S. Creatinine", "Ferritin level".
_FILLER = {"serum", "plasma", "s", "se", "p", "level", "levels", "result", "test"}
# OCR confusions folded before comparing: "Sodlum", "Creatinlne", "HbAlc", "F0late".
_OCR_FOLD = str.maketrans({"l": "i", "1": "i", "|": "i", "0": "o"})
FUZZY_CUTOFF = 0.9  # "Creatine" (0.89 to creatinine) is another substance, not a typo to forgive
FUZZY_MARGIN = 0.03  # "Troponin" is as close to troponin I as to troponin T: ambiguous, so no match
FUZZY_MIN_LENGTH = 6  # short names (Na, K, ALT, Hb) must match exactly: one wrong letter is another test


def normalise_name(name: str) -> str:
    text = name.lower().replace("µ", "u").replace("γ", "gamma ").replace("&", " ")
    words = re.sub(r"[^a-z0-9%+]+", " ", text).split()
    while words and words[0] in _FILLER:
        words.pop(0)
    while words and words[-1] in _FILLER:
        words.pop()
    return " ".join(words)


def _fold(text: str) -> str:
    return text.replace(" ", "").translate(_OCR_FOLD).replace("rn", "m")


def _build_index() -> dict[str, LabTest]:
    index: dict[str, LabTest] = {}
    for test in TESTS:
        for synonym in test.synonyms:
            key = _fold(normalise_name(synonym))
            if index.get(key, test) is not test:
                raise ValueError(f"synonym {synonym!r} names both {index[key].key} and {test.key}")
            index[key] = test
    return index


_INDEX = _build_index()
BY_KEY = {test.key: test for test in TESTS}


def _lookup(text: str) -> LabTest | None:
    key = _fold(text)
    if not key:
        return None
    if key in _INDEX:
        return _INDEX[key]
    if len(key) < FUZZY_MIN_LENGTH:
        return None
    scores: dict[str, tuple[float, LabTest]] = {}
    for candidate, test in _INDEX.items():
        if len(candidate) >= FUZZY_MIN_LENGTH:
            ratio = SequenceMatcher(None, key, candidate).ratio()
            if ratio > scores.get(test.key, (0.0, test))[0]:
                scores[test.key] = (ratio, test)
    ranked = sorted(scores.values(), key=lambda pair: pair[0], reverse=True)
    if not ranked or ranked[0][0] < FUZZY_CUTOFF:
        return None
    if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < FUZZY_MARGIN:
        return None
    return ranked[0][1]


def match_test(name: str) -> LabTest | None:
    """The test a printed name stands for, tolerating case, punctuation and OCR noise; None when unsure."""
    text = normalise_name(name)
    found = _lookup(text)
    if found is None and "(" in name:  # "ALT (SGPT)", "Total Cholesterol (TC)": the name outside the brackets
        found = _lookup(normalise_name(re.sub(r"\([^)]*\)", " ", name)))
    return found
