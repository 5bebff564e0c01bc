"""The parts of a history a clinician takes, how to ask for each, and how to tell it was answered.

Detectors run on folded text (agent/safety/normalize.fold) and deliberately ignore negation:
"no fever" answers the question about associated symptoms just as "a fever too" does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGES = ("en", "fr", "es", "zh")


@dataclass(frozen=True)
class Slot:
    name: str
    label: str  # what clinicians see
    questions: dict[str, str]  # language -> a plain question, the fallback when the model asks nothing
    pattern: re.Pattern  # text that answers it, in any of the languages
    record_section: str = ""  # the record summary section that answers it (agent/memory/recall.py)


def words(*alternatives: str, cjk: tuple[str, ...] = ()) -> re.Pattern:
    """Whole-word Latin alternatives (on folded text) or CJK substrings."""
    latin = "|".join(f"(?:\\b{a}\\b)" for a in alternatives)
    return re.compile("|".join([latin, *map(re.escape, cjk)]))


_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of|un|une|deux|trois|dos|tres)"
_UNIT = r"(?:minutes?|hours?|hrs?|days?|weeks?|months?|years?|heures?|jours?|semaines?|mois|ans|horas?|dias?|semanas?|meses|anos)"

SLOTS: dict[str, Slot] = {slot.name: slot for slot in (
    Slot("onset", "Onset", {
        "en": "When did it start, and did it come on suddenly or gradually?",
        "fr": "Quand cela a-t-il commencé, et est-ce venu brusquement ou progressivement ?",
        "es": "¿Cuándo empezó, y fue de repente o poco a poco?",
        "zh": "这是什么时候开始的？是突然出现还是慢慢出现的？"},
        words(rf"(?:since|for|about|over|past|last|depuis|pendant|hace|desde|durante) (?:the )?(?:{_NUMBER} )?{_UNIT}",
            rf"{_NUMBER} {_UNIT} ago", r"ago", r"yesterday", r"today", r"tonight", r"last night", r"this (?:morning|afternoon|evening|week)",
            r"started", r"began", r"begun", r"came on", r"come on", r"suddenly", r"sudden", r"gradually", r"out of nowhere",
            r"since \w+", r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)", r"hier", r"ce matin", r"depuis", r"soudain\w*",
            r"commence", r"ayer", r"esta manana", r"desde", r"hace", r"de repente", r"empezo",
            cjk=("昨天", "今天", "早上", "天了", "周了", "个月", "小时", "开始", "突然"))),
    Slot("character", "Character", {
        "en": "How would you describe it: sharp, dull, burning, throbbing, pressing?",
        "fr": "Comment la décririez-vous : aiguë, sourde, brûlante, lancinante, oppressante ?",
        "es": "¿Cómo lo describiría: agudo, sordo, ardor, punzante, opresivo?",
        "zh": "您怎么形容它：刺痛、钝痛、烧灼感、搏动性还是压迫感？"},
        words(r"sharp", r"dull", r"burning", r"throbbing", r"stabbing", r"pressure", r"pressing", r"tight\w*", r"squeez\w*",
            r"crushing", r"cramp\w*", r"aching", r"achy", r"shooting", r"pounding", r"pulsing", r"gnawing", r"colicky",
            r"itchy", r"itching", r"dry", r"wet", r"productive", r"chesty", r"tickly", r"spinning", r"lightheaded",
            r"aigue", r"sourde", r"brulure", r"brulante", r"lancinante", r"serrement", r"crampe\w*", r"agudo", r"sordo",
            r"ardor", r"punzante", r"opresivo", r"colico",
            cjk=("刺痛", "钝痛", "烧灼", "跳痛", "压迫", "绞痛", "胀痛", "隐痛"))),
    Slot("severity", "Severity", {
        "en": "How bad is it on a scale of 0 to 10, and does it stop you doing your usual things?",
        "fr": "Sur une échelle de 0 à 10, quelle est son intensité, et vous empêche-t-elle de faire vos activités ?",
        "es": "Del 0 al 10, ¿qué tan fuerte es, y le impide hacer sus actividades habituales?",
        "zh": "如果用0到10分来打分，有多严重？会影响您的日常活动吗？"},
        words(r"\d+ ?(?:/|out of|sur|de) ?10", r"mild", r"mildly", r"moderate", r"severe", r"severely", r"worst", r"terrible",
            r"unbearable", r"excruciating", r"slight", r"slightly", r"bad", r"really bad", r"not too bad", r"manageable",
            r"agony", r"can'?t sleep", r"keeps me up", r"can'?t work", r"leger", r"legere", r"forte?", r"intense", r"insupportable",
            r"leve", r"fuerte", r"insoportable", r"moderad[oa]",
            cjk=("分", "很严重", "严重", "轻微", "剧烈", "受不了"))),
    Slot("timing", "Timing and pattern", {
        "en": "Is it there all the time or does it come and go? Does anything make it better or worse?",
        "fr": "Est-ce constant ou cela va-t-il et vient-il ? Qu'est-ce qui l'améliore ou l'aggrave ?",
        "es": "¿Es constante o va y viene? ¿Algo lo mejora o lo empeora?",
        "zh": "是一直都有还是时有时无？有什么会让它好转或加重吗？"},
        words(r"constant\w*", r"all the time", r"comes and goes", r"come and go", r"on and off", r"off and on", r"intermittent\w*",
            r"at night", r"in the morning", r"after (?:eating|meals|food|exercise)", r"when i \w+", r"worse (?:when|with|after|at|if)",
            r"better (?:when|with|after|if)", r"eases", r"relieved", r"every (?:day|night|morning)", r"continu\w*",
            r"va et vient", r"la nuit", r"le matin", r"pire", r"mieux", r"va y viene", r"por la noche", r"peor", r"mejor",
            cjk=("一直", "时有时无", "晚上", "早上", "饭后", "加重", "缓解"))),
    Slot("location", "Location", {
        "en": "Where exactly is it, and does it spread anywhere?",
        "fr": "Où exactement, et est-ce que cela irradie quelque part ?",
        "es": "¿Dónde exactamente, y se extiende a algún sitio?",
        "zh": "具体在什么位置？会向别处扩散吗？"},
        words(r"left", r"right", r"upper", r"lower", r"middle", r"centre", r"center", r"side", r"behind", r"front",
            r"back of", r"top of", r"all over", r"one side", r"both sides", r"spread\w*", r"radiat\w*", r"temples?",
            r"forehead", r"stomach", r"belly", r"navel", r"gauche", r"droite", r"haut", r"bas", r"izquierd[oa]",
            r"derech[oa]", r"arriba", r"abajo",
            cjk=("左", "右", "上腹", "下腹", "两侧", "额头", "后面"))),
    Slot("associated", "Associated symptoms", {
        "en": "Have you noticed anything else with it, such as fever, nausea or vomiting?",
        "fr": "Avez-vous remarqué autre chose, comme de la fièvre, des nausées ou des vomissements ?",
        "es": "¿Ha notado algo más, como fiebre, náuseas o vómitos?",
        "zh": "还有其他症状吗？比如发烧、恶心或呕吐？"},
        words(r"fever\w*", r"temperature", r"nause\w*", r"vomit\w*", r"sick", r"diarrh\w*", r"cough\w*", r"rash", r"dizz\w*",
            r"tired\w*", r"fatigue", r"chills?", r"shiver\w*", r"runny nose", r"sore throat", r"nothing else", r"no other",
            r"also", r"as well", r"along with", r"fievre", r"nausee\w*", r"vomiss\w*", r"fiebre", r"nause\w*", r"vomit\w*",
            r"rien d'?autre", r"nada mas",
            cjk=("发烧", "恶心", "呕吐", "腹泻", "咳嗽", "头晕", "其他", "没有别的"))),
    Slot("red_flags", "Red-flag screen", {
        "en": "Have you had any warning signs, such as trouble breathing, fainting, confusion, or bleeding?",
        "fr": "Avez-vous eu des signes inquiétants, comme du mal à respirer, un malaise, de la confusion ou des saignements ?",
        "es": "¿Ha tenido alguna señal de alarma, como dificultad para respirar, desmayo, confusión o sangrado?",
        "zh": "有没有危险信号，比如呼吸困难、晕倒、意识混乱或出血？"},
        words(r"breath\w*", r"faint\w*", r"passed out", r"confus\w*", r"bleed\w*", r"blood", r"sweat\w*", r"stiff neck",
            r"vision", r"numb\w*", r"weak\w*", r"worst", r"vomit\w*", r"arm", r"jaw", r"none of (?:those|these|that)",
            r"respir\w*", r"malaise", r"sang\w*", r"desmay\w*", r"sangr\w*", r"rigidez",
            cjk=("呼吸", "晕倒", "出血", "出汗", "麻木", "无力", "都没有"))),
    Slot("medications", "Medications", {
        "en": "Are you taking any medicines, including ones bought without a prescription? Have you taken anything for this?",
        "fr": "Prenez-vous des médicaments, y compris sans ordonnance ? Avez-vous pris quelque chose pour cela ?",
        "es": "¿Toma algún medicamento, incluidos los de venta libre? ¿Ha tomado algo para esto?",
        "zh": "您在服用什么药吗，包括非处方药？针对这个问题吃过什么药吗？"},
        words(r"tak(?:e|ing|en) (?:some |an? |my |the )?\w+", r"took", r"medic\w*", r"tablets?", r"pills?", r"inhaler", r"insulin",
            r"ibuprofen", r"paracetamol", r"acetaminophen", r"tylenol", r"advil", r"aspirin", r"naproxen", r"antibiotic\w*",
            r"nothing for it", r"haven'?t taken", r"no medicines?", r"medicament\w*", r"pris", r"prends", r"medicament\w*",
            r"pastillas?", r"tomo", r"tome", r"tomado",
            cjk=("吃药", "服用", "药")), "Medications"),
    Slot("allergies", "Allergies", {
        "en": "Do you have any allergies to medicines or anything else?",
        "fr": "Avez-vous des allergies, à des médicaments ou autre chose ?",
        "es": "¿Tiene alguna alergia, a medicamentos u otra cosa?",
        "zh": "您对药物或其他东西过敏吗？"},
        words(r"allerg\w*", r"nkda", r"alergi\w*", cjk=("过敏",)), "Allergies"),
    Slot("history", "Past history", {
        "en": "Do you have any long-term health conditions, or have you had this before?",
        "fr": "Avez-vous des maladies chroniques, ou avez-vous déjà eu cela ?",
        "es": "¿Tiene alguna enfermedad crónica, o le ha pasado esto antes?",
        "zh": "您有慢性病吗？以前出现过这种情况吗？"},
        words(r"history of", r"diagnosed", r"(?:had|have had) (?:this|it|that|the same) before", r"never had", r"first time",
            r"happened before", r"conditions?", r"diabet\w*", r"asthma", r"hypertension", r"high blood pressure", r"copd",
            r"heart (?:disease|condition|failure)", r"epilep\w*", r"healthy", r"antecedents?", r"deja eu", r"premiere fois",
            r"antes", r"primera vez", r"enfermedad",
            cjk=("以前", "第一次", "病史", "慢性病")), "Problems"),
    Slot("risk_factors", "Risk factors", {
        "en": "Do you smoke, and is there any family history of heart disease, or anything else that puts you at risk?",
        "fr": "Fumez-vous, et y a-t-il des antécédents familiaux de maladie cardiaque ou d'autres facteurs de risque ?",
        "es": "¿Fuma, y hay antecedentes familiares de enfermedad del corazón u otros factores de riesgo?",
        "zh": "您吸烟吗？家里有人有心脏病或其他风险因素吗？"},
        words(r"smok\w*", r"cigarettes?", r"vap\w*", r"family history", r"pregnan\w*", r"diabet\w*", r"cholesterol",
            r"blood pressure", r"overweight", r"obese", r"alcohol", r"drink\w*", r"fume\w*", r"tabac", r"fumo", r"fumador",
            r"embarazada", r"enceinte",
            cjk=("吸烟", "抽烟", "家族", "怀孕", "喝酒"))),
)}
