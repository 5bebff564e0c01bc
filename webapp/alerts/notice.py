"""What the patient is told when their care team is alerted, in their language (the languages of the fixed red-flag
replies, agent/safety/replies.py; English for any other). The emergency and urgent sentences are the same words as
those replies, so a sentence the reply has just said is not said twice."""

from __future__ import annotations

from datetime import date, datetime

NOTICE: dict[str, dict[str, str]] = {
    "en": {"alerted": "I have alerted {names} from your care team.",
           "on_call": "I have alerted the clinician on call.",
           "closed": "It is outside clinic hours, so nobody may read this until {opening}. "
                     "If you need help before then, call {number}.",
           "emergency": "Call {number} now, or have someone take you to the nearest emergency department.",
           "urgent": "If it gets worse, call {number}.",
           "and": " and ", "tomorrow": "{time} tomorrow", "weekday": "{time} on {day}", "never": "the clinic opens"},
    "fr": {"alerted": "J'ai prévenu {names}, de votre équipe soignante.",
           "on_call": "J'ai prévenu le soignant de garde.",
           "closed": "Le cabinet est fermé : personne ne lira peut-être ce message avant {opening}. "
                     "Si vous avez besoin d'aide d'ici là, appelez le {number}.",
           "emergency": "Appelez le {number} maintenant, ou faites-vous conduire aux urgences les plus proches.",
           "urgent": "Si cela s'aggrave, appelez le {number}.",
           "and": " et ", "tomorrow": "demain à {time}", "weekday": "{day} à {time}", "never": "l'ouverture"},
    "es": {"alerted": "He avisado a {names}, de su equipo de atención.",
           "on_call": "He avisado al profesional de guardia.",
           "closed": "La consulta está cerrada: puede que nadie lea esto hasta {opening}. "
                     "Si necesita ayuda antes, llame al {number}.",
           "emergency": "Llame al {number} ahora, o pida que le lleven al servicio de urgencias más cercano.",
           "urgent": "Si empeora, llame al {number}.",
           "and": " y ", "tomorrow": "mañana a las {time}", "weekday": "el {day} a las {time}",
           "never": "que abra la consulta"},
    "zh": {"alerted": "我已通知您的医护团队成员 {names}。",
           "on_call": "我已通知值班医生。",
           "closed": "现在是非工作时间，{opening}之前可能无人阅读此消息。如果在此之前需要帮助，请拨打 {number}。",
           "emergency": "请立即拨打 {number}，或请人送您去最近的急诊室。",
           "urgent": "如果情况加重，请拨打 {number}。",
           "and": "和", "tomorrow": "明天 {time}", "weekday": "{day} {time}", "never": "诊所开门"},
}
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
}


def phrases(language: str) -> dict[str, str]:
    return NOTICE.get((language or "en").split("-")[0].lower(), NOTICE["en"])


def opening_phrase(language: str, opening: datetime | None, today: date) -> str:
    """'08:00' (later today), '08:00 tomorrow', '08:00 on Monday', in the patient's language."""
    words = phrases(language)
    if opening is None:
        return words["never"]
    when = opening.strftime("%H:%M")
    if opening.date() == today:
        return when
    if (opening.date() - today).days == 1:
        return words["tomorrow"].format(time=when)
    days = WEEKDAYS.get((language or "en").split("-")[0].lower(), WEEKDAYS["en"])
    return words["weekday"].format(time=when, day=days[opening.weekday()])


def notice_sentences(language: str, names: list[str], on_call: bool, level: str, number: str,
                     opening: str | None) -> list[str]:
    """The sentences of the notice; `opening` is None while the clinic is open."""
    words = phrases(language)
    sentences = []
    if names:
        sentences.append(words["alerted"].format(names=words["and"].join(names)))
    elif on_call:
        sentences.append(words["on_call"])
    if opening is not None:
        sentences.append(words["closed"].format(opening=opening, number=number))
    else:
        sentences.append(words["emergency" if level == "emergency" else "urgent"].format(number=number))
    return sentences
