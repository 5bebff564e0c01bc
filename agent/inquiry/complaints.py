"""Chief complaints: how to recognise each in the patient's words, and the minimum history it needs.

`needs` lists the slots (agent/inquiry/slots.py) that must be known before advising, most
informative first: a question that can change the urgency (the red-flag screen) or the likely
cause comes before one that only refines it. `also` are asked afterwards if the turn has room.
`red_flag_question` replaces the generic screen with the complaint's own warning signs (English;
other languages use the generic screen, which the model rephrases in the patient's language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.inquiry.slots import words
from agent.safety.concepts import negated
from agent.safety.normalize import clauses, fold


@dataclass(frozen=True)
class Complaint:
    name: str
    label: str
    pattern: re.Pattern
    needs: tuple[str, ...]
    also: tuple[str, ...] = ()
    red_flag_question: str = ""


# Checked in order: the first complaint whose pattern matches is the chief complaint.
COMPLAINTS: tuple[Complaint, ...] = (
    Complaint("chest_pain", "Chest pain",
              words(r"chest", r"poitrine", r"thoracique", r"pecho", r"toracico", cjk=("胸",)),
              ("onset", "red_flags", "character", "severity", "risk_factors", "medications"),
              ("history", "allergies"),
              "Does the pain spread to your arm, jaw or back, and have you been sweaty, sick or short of breath with it?"),
    Complaint("headache", "Headache",
              words(r"head ?aches?", r"migraines?", r"my head (?:hurts|is pounding|is killing me)", r"mal (?:a|de) (?:la )?tete",
                  r"cephalee", r"dolor de cabeza", r"me duele la cabeza", r"jaqueca", cjk=("头痛", "头疼", "偏头痛")),
              ("onset", "red_flags", "severity", "character", "medications"),
              ("timing", "history", "allergies"),
              "Is this the worst headache you have ever had, and have you had a stiff neck, fever, vision changes or weakness?"),
    Complaint("breathing", "Cough or breathing",
              words(r"cough\w*", r"breath\w*", r"wheez\w*", r"phlegm", r"tou\w*", r"essouffle\w*", r"tos", r"respir\w*",
                  cjk=("咳嗽", "气短", "呼吸")),
              ("onset", "red_flags", "associated", "history", "medications"),
              ("risk_factors", "allergies"),
              "Are you short of breath at rest, coughing up blood, or having chest pain when you breathe?"),
    Complaint("abdominal_pain", "Abdominal pain",
              words(r"stomach\w*", r"tummy", r"belly", r"abdom\w*", r"ventre", r"abdominal\w*", r"estomago", r"barriga",
                  r"vientre", cjk=("肚子", "腹痛", "胃痛")),
              ("onset", "location", "red_flags", "severity", "associated", "medications"),
              ("history", "allergies"),
              "Have you vomited blood, passed black or bloody stools, or could you be pregnant?"),
    Complaint("fever", "Fever",
              words(r"fever\w*", r"high temperature", r"temperature", r"feverish", r"fievre", r"fiebre", r"calentura",
                  cjk=("发烧", "发热")),
              ("onset", "red_flags", "associated", "medications"),
              ("history", "allergies"),
              "Have you noticed a rash that doesn't fade when pressed, a stiff neck, confusion or trouble breathing?"),
    Complaint("urinary", "Urinary symptoms",
              words(r"pee\w*", r"urin\w*", r"wee\w*", r"burn\w* when i (?:pee|wee|urinate)", r"bladder", r"uti", r"pipi",
                  r"orin\w*", cjk=("尿",)),
              ("onset", "associated", "red_flags", "medications"),
              ("history", "allergies"),
              "Do you have a fever, pain in your back or side, or blood in your urine?"),
    Complaint("back_pain", "Back pain",
              words(r"back (?:pain|ache|hurts)", r"backache", r"lower back", r"mal au dos", r"dolor de espalda",
                  r"me duele la espalda", cjk=("背痛", "腰痛", "腰疼")),
              ("onset", "red_flags", "severity", "medications"),
              ("character", "history"),
              "Have you had numbness between your legs, trouble passing urine or controlling your bowels, or weakness in your legs?"),
    Complaint("skin", "Skin problem",
              words(r"rash\w*", r"itch\w*", r"spots?", r"hives", r"moles?", r"lesions?", r"eczema", r"eruptions?",
                  r"bumps?", r"scal(?:es|y)", r"blisters?", r"pimples?", r"acne", r"warts?", r"skin patch(?:es)?",
                  r"patches", r"discolou?r\w*", r"(?:hypo|hyper)pigment\w*", r"bouton\w*",
                  r"sarpullido", r"erupcion", r"picor", cjk=("皮疹", "痒", "疹子")),
              ("onset", "location", "associated", "medications", "allergies"),
              ("history",),
              "Is the rash spreading fast, blistering, or with fever or swelling of your lips or face?"),
    Complaint("dizziness", "Dizziness",
              words(r"dizz\w*", r"lightheaded", r"light-headed", r"vertigo", r"faint\w*", r"vertige\w*", r"mareo\w*",
                  r"mareado", cjk=("头晕", "眩晕")),
              ("onset", "red_flags", "timing", "medications"),
              ("history",),
              "Have you fainted, had chest pain or palpitations, or any weakness, numbness or trouble speaking?"),
    Complaint("mood", "Low mood or anxiety",
              words(r"depress\w*", r"anxi\w*", r"panic\w*", r"low mood", r"feeling low", r"stressed", r"can'?t sleep",
                  r"insomnia", r"irritab\w*", r"withdraw\w* from", r"flashbacks?", r"nightmares?",
                  r"(?:lost|loss of|decreased) interest", r"hopeless\w*", r"triste", r"deprime\w*", r"angoisse\w*", r"ansiedad", r"deprimid[oa]",
                  cjk=("抑郁", "焦虑", "失眠")),
              ("onset", "red_flags", "severity", "medications"),
              ("history",),
              "Have you had any thoughts of harming yourself or that life isn't worth living?"),
    Complaint("gut", "Vomiting or diarrhoea",
              words(r"vomit\w*", r"diarrh\w*", r"throwing up", r"nause\w*", r"being sick", r"vomiss\w*", r"diarrhee",
                  r"diarrea", r"vomit\w*", cjk=("呕吐", "腹泻", "拉肚子")),
              ("onset", "red_flags", "associated", "medications"),
              ("history",),
              "Can you keep fluids down, are you passing urine, and have you seen any blood?"),
    Complaint("joint", "Joint or limb pain",
              words(r"knee", r"ankle", r"wrist", r"shoulder", r"hip", r"elbow", r"joint", r"sprain\w*", r"genou",
                  r"cheville", r"rodilla", r"tobillo", cjk=("膝盖", "关节", "扭伤")),
              ("onset", "red_flags", "severity", "medications"),
              ("history",),
              "Can you put weight on it, is it hot and swollen, or do you have a fever?"),
    Complaint("sore_throat", "Sore throat",
              words(r"sore throat", r"throat", r"gorge", r"garganta", cjk=("喉咙", "嗓子")),
              ("onset", "red_flags", "associated", "medications"),
              ("allergies",),
              "Are you having trouble swallowing your saliva, breathing, or opening your mouth?"),
)
# Any other symptom: a general history. (Not the triage's wider "symptom" concept: "my blood test" is no symptom.)
GENERAL = Complaint("general", "General symptom",
                    words(r"pains?", r"painful", r"aches?", r"aching", r"hurts?", r"hurting", r"sore", r"swell\w*",
                        r"swollen", r"lumps?", r"bleeding", r"tired", r"exhausted", r"fatigue\w*", r"numb\w*",
                        r"tingl\w*", r"palpitations?", r"constipat\w*", r"unwell", r"ill", r"poorly",
                        r"infection", r"infected", r"wound", r"injur\w*", r"fell", r"burned", r"burnt",
                        r"loss of (?:vision|sight|consciousness|hearing|appetite|weight)", r"blurr\w*",
                        r"(?:blurred|double|poor|losing|lost|changes? in|problems? with) (?:my )?(?:vision|sight)",
                        r"passed out", r"black(?:ed)? ?out", r"seizures?", r"confus\w*", r"stiff\w*", r"weak\w*",
                        r"thirst\w*", r"discharge", r"nausea", r"vomit\w*", r"jaundice", r"yellow\w* (?:skin|eyes)",
                        r"(?:eyes|skin) (?:are|is|turning|turned) yellow", r"crying", r"(?:can'?t|cannot|unable to) "
                        r"(?:stay awake|sleep|walk|see|hear|swallow|concentrate)", r"difficulty \w+ing",
                        r"hallucinat\w*", r"hearing voices", r"unconscious\w*", r"o?edema", r"tender\w*", r"pallor",
                        r"letharg\w*", r"prurit\w*", r"(?:no|missed|lack of) (?:periods?|menstruation)", r"somnolen\w*",
                        r"altered mental", r"(?:change in|changed) behaviou?r", r"douleurs?",
                        r"mal", r"fatigue", r"enflure", r"dolor\w*", r"cansad[oa]", r"hinchad[oa]",
                        cjk=("痛", "疼", "累", "肿", "不舒服")),
                    ("onset", "severity", "associated", "medications"), ("history", "allergies"))
BY_NAME = {c.name: c for c in (*COMPLAINTS, GENERAL)}


def chief_complaint(text: str) -> Complaint | None:
    """The complaint a message is about, or None if it names none (greetings, thanks, questions).

    Negated mentions count as no complaint ("no chest pain any more")."""
    folded = fold(text)
    parts = clauses(text)
    for complaint in COMPLAINTS:
        for match in complaint.pattern.finditer(folded):
            if not _negated_everywhere(match.group(0), parts):
                return complaint
    return GENERAL if any(not _negated_everywhere(m.group(0), parts) for m in GENERAL.pattern.finditer(folded)) \
        else None


def _negated_everywhere(word: str, parts: list[str]) -> bool:
    hits = [(clause, at) for clause in parts for at in [clause.find(word)] if at >= 0]
    return bool(hits) and all(negated(clause, at, at + len(word)) for clause, at in hits)
