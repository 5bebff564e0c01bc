"""The phase rule: no advice before the minimum history for the complaint has been taken.

While agent/inquiry says the consultation is still in the `inquiry` phase, the reply passes
through a SentenceGate: each sentence is released to the patient only once it is complete and is
not advice (a recommendation, a treatment or dose, a likely diagnosis). Advice is withheld, the
refusal is recorded in the trajectory, and the model is told at its next turn. Questions and
safety instructions (call the emergency number, go to an emergency department) always pass.
The rule is enforced here, outside the model: nothing in the patient's text changes it.
"""

from __future__ import annotations

import re

from agent.safety.normalize import fold

# A sentence ends at . ! ? (or their CJK forms) followed by a space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")

_SAFETY = re.compile(
    r"\b(?:call (?:\d{3}|an ambulance|emergency|your local emergency)|emergency (?:number|services|department|room)"
    r"|a&e|go to (?:the )?(?:hospital|er|emergency)|seek (?:urgent|immediate|emergency) (?:care|help|medical)"
    r"|appelez le|urgences|llame al|emergencias)\b|急救|急诊|拨打"
)
_ADVICE = (
    ("recommendation", re.compile(
        r"\b(?:you should|you could try|you need to|you must|i (?:would |'d )?(?:recommend|suggest|advise)|my advice"
        r"|it'?s (?:best|important|a good idea|advisable) to|make sure (?:you|to)|try (?:taking|using|to|some|an?)"
        r"|consider (?:taking|using|trying)|you (?:can|may) (?:take|use|try)|(?:vous devriez|je (?:vous )?(?:recommande|conseille)"
        r"|essayez|il faut que vous|prenez)|(?:deberia|le recomiendo|te recomiendo|recomiendo|pruebe|intente|tome)\b)")),
    ("treatment", re.compile(
        r"\b(?:take|use|apply|start|stop|increase|decrease|double|drink|rest|avoid|prenez|tome)\b.{0,60}"
        r"\b(?:ibuprofen|paracetamol|acetaminophen|tylenol|advil|aspirin|naproxen|antihistamines?|antibiotics?|amoxicillin"
        r"|omeprazole|cetirizine|loratadine|cream|ointment|inhaler|tablets?|pills?|medicines?|medication|fluids|ice|heat"
        r"|dose|doses|water)\b")),
    ("dose", re.compile(r"\b\d+(?:[.,]\d+)? ?(?:mg|mcg|µg|ml|g|tablets?|pills?|puffs?|capsules?)\b"
                        r"|\b(?:every \d+ ?(?:to \d+ )?hours|(?:once|twice|three times) (?:a|per) day)\b")),
    ("diagnosis", re.compile(
        r"\b(?:sounds like|looks like|is likely|is probably|most likely|probably|it could be|it might be|it may be"
        r"|you (?:probably |likely )?have)\b.{0,40}\b(?:infection|migraine|flu|cold|virus|viral|reflux|gastritis"
        r"|gastroenteritis|strain|sprain|angina|pneumonia|bronchitis|sinusitis|tension|allerg\w+|uti|anxiety"
        r"|depression|ibs|covid|asthma|eczema|dermatitis|tonsillitis)\b")),
)
_CJK_ADVICE = ("建议", "你应该", "您应该", "服用", "吃点", "可以吃", "可以服")


def advice_kind(sentence: str) -> str | None:
    """What kind of advice a sentence gives, or None: questions and safety instructions never count."""
    text = fold(sentence)
    if not text or text.endswith(("?", "？")) or _SAFETY.search(text):
        return None
    for kind, pattern in _ADVICE:
        if pattern.search(text):
            return kind
    return "recommendation" if any(word in text for word in _CJK_ADVICE) else None


class SentenceGate:
    """Releases streamed text sentence by sentence, withholding advice while `active`."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.released: list[str] = []
        self.withheld: list[dict] = []  # {"sentence", "advice": recommendation|treatment|dose|diagnosis}
        self._pending = ""

    def feed(self, text: str) -> str:
        if not self.active:
            self.released.append(text)
            return text
        self._pending += text
        out: list[str] = []
        while True:
            match = _SENTENCE_END.search(self._pending)
            if match is None:
                break
            sentence, self._pending = self._pending[:match.end()], self._pending[match.end():]
            out.append(self._check(sentence))
        return "".join(out)

    def finish(self) -> str:
        rest, self._pending = self._pending, ""
        return self._check(rest) if self.active else ""

    def _check(self, sentence: str) -> str:
        kind = advice_kind(sentence)
        if kind is not None:
            self.withheld.append({"sentence": sentence.strip()[:500], "advice": kind})
            return ""
        self.released.append(sentence)
        return sentence

    @property
    def text(self) -> str:
        return "".join(self.released).strip()
