"""Fixed replies for red flags, in the patient's language. Never written by the model."""

from __future__ import annotations

from agent.safety.rules import Level

EMERGENCY: dict[str, str] = {
    "en": ("What you describe could be an emergency. Call {number} now, or have someone take you to the nearest "
           "emergency department. Do not wait for a reply here. If you are alone, unlock your door and stay on the "
           "line with the emergency service."),
    "fr": ("Ce que vous décrivez peut être une urgence. Appelez le {number} maintenant, ou faites-vous conduire aux "
           "urgences les plus proches. N'attendez pas de réponse ici. Si vous êtes seul, déverrouillez votre porte et "
           "restez en ligne avec les secours."),
    "es": ("Lo que describe puede ser una emergencia. Llame al {number} ahora, o pida que le lleven al servicio de "
           "urgencias más cercano. No espere una respuesta aquí. Si está solo, abra la puerta y no cuelgue con el "
           "servicio de emergencias."),
    "zh": "您描述的情况可能是紧急情况。请立即拨打 {number}，或请人送您去最近的急诊室。不要在这里等待回复。如果您独自一人，请打开门锁，并保持与急救人员通话。",
}

URGENT: dict[str, str] = {
    "en": "From what you describe, you should be seen by a clinician today. If it gets worse, call {number}.",
    "fr": "D'après ce que vous décrivez, vous devriez voir un soignant aujourd'hui. Si cela s'aggrave, appelez le {number}.",
    "es": "Por lo que describe, debería verle un profesional sanitario hoy. Si empeora, llame al {number}.",
    "zh": "根据您的描述，您今天应该去看医生。如果情况加重，请拨打 {number}。",
}


def red_flag_reply(level: Level, language: str, emergency_number: str) -> str | None:
    """The fixed reply for an emergency or urgent result; None for other levels."""
    table = {Level.EMERGENCY: EMERGENCY, Level.URGENT: URGENT}.get(level)
    if table is None:
        return None
    base = (language or "en").split("-")[0].lower()
    return table.get(base, table["en"]).format(number=emergency_number)
