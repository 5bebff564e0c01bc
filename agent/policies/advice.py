"""The phase rule: no advice before the minimum history for the complaint has been taken.

While agent/inquiry says the consultation is still in the `inquiry` phase, the reply passes
through a SentenceGate: each sentence is released to the patient only once it is complete and is
not advice (a recommendation, a treatment or dose, a likely diagnosis). Advice is withheld, the
refusal is recorded in the trajectory, and the model is told at its next turn. Questions and
safety instructions (call the emergency number, go to an emergency department) always pass.
The rule is enforced here, outside the model: nothing in the patient's text changes it.

The same gate runs the grounding check (agent/evidence/grounding.py) on every sentence when it has a Grounder:
a sentence is released only after its check; a supported claim gets its citation, a contradicted claim or an
unsupported one that states a number is removed, and other unsupported claims stay but the reply ends with a
caveat (and the turn is flagged for the clinician in the trajectory).
"""

from __future__ import annotations

import re

from agent.evidence.grounding import Grounder
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
        r"\b(?:most likely|likely|probable|working|provisional|differential) diagnos[ie]s\b|"
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


CAVEATS = {
    "en": "Some of what I said I could not check against the guidelines I have: please confirm it with your "
          "clinician before acting on it.",
    "fr": "Je n'ai pas pu vérifier une partie de ce que j'ai dit dans les recommandations dont je dispose : "
          "confirmez-la avec votre médecin avant d'agir.",
    "es": "Parte de lo que dije no pude comprobarlo en las guías que tengo: confírmelo con su médico antes de "
          "actuar.",
    "zh": "我说的部分内容无法在现有指南中核实，请在采取行动前向您的医生确认。",
}
_NUMBERED = re.compile(r"\[(\d{1,2})\]")
_CITED = re.compile(r"\[(ev-[0-9a-f]{10})\]")


class SentenceGate:
    """Releases streamed text sentence by sentence, withholding advice while `active` and checking every
    sentence's claims when it has a `grounder`. `sources` numbers the passages the model was shown ([1], [2]...)
    so its numbered citations become stable citation ids."""

    def __init__(self, active: bool, grounder: Grounder | None = None, sources: list[str] | None = None,
                 language: str = "en") -> None:
        self.active = active
        self.grounder = grounder
        self.sources = list(sources or [])
        self.language = language
        self.released: list[str] = []
        self.withheld: list[dict] = []  # {"sentence", "advice": recommendation|treatment|dose|diagnosis}
        self.verdicts: list[dict] = []  # the grounding decision of each claim
        self._pending = ""

    def feed(self, text: str) -> str:
        if not self.active and self.grounder is None:
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
        out = self._check(rest) if (self.active or self.grounder is not None) else ""
        if any(v["action"] == "soften" for v in self.verdicts):
            caveat = "\n\n" + CAVEATS.get(self.language, CAVEATS["en"])
            self.released.append(caveat)
            out += caveat
        return out

    def _check(self, sentence: str) -> str:
        if self.active:
            kind = advice_kind(sentence)
            if kind is not None:
                self.withheld.append({"sentence": sentence.strip()[:500], "advice": kind})
                return ""
        if self.grounder is not None:
            sentence = self._ground(sentence)
        self.released.append(sentence)
        return sentence

    def _ground(self, sentence: str) -> str:
        """The grounding decision for one sentence: keep (with its citation), remove, or keep and soften."""
        sentence = self._resolve_citations(sentence)
        if not sentence.strip():
            return sentence
        verdict = self.grounder.check(sentence)
        if verdict.status == "not_a_claim":
            return sentence
        if verdict.status == "supported":
            action = "cite" if verdict.passage is not None else "keep"
        elif verdict.status == "contradicted" or verdict.numbers:
            action = "remove"
        else:
            action = "soften"
        self.verdicts.append({"sentence": sentence.strip()[:500], "status": verdict.status, "action": action,
                              "reason": verdict.reason, "coverage": round(verdict.coverage, 3),
                              "source": verdict.source, "citation": verdict.passage.id if verdict.passage else None})
        if action == "remove":
            return ""
        if action == "cite" and verdict.passage.id not in _CITED.findall(sentence):
            body = sentence.rstrip()
            tail = sentence[len(body):]
            end = len(body) - 1 if body[-1:] in ".!。！" else len(body)
            sentence = f"{body[:end]} [{verdict.passage.id}]{body[end:]}{tail}"
        if action == "soften":  # a citation the check could not confirm is not kept
            sentence = _CITED.sub("", sentence)
        return sentence

    def _resolve_citations(self, sentence: str) -> str:
        """[n] -> the id of the nth passage shown to the model; any other citation is dropped (never invented)."""
        def numbered(match: re.Match) -> str:
            n = int(match.group(1))
            return f"[{self.sources[n - 1]}]" if 1 <= n <= len(self.sources) else ""

        shown = set(self.sources) | {p.id for p in (self.grounder.passages if self.grounder else [])}

        def cited(match: re.Match) -> str:
            return match.group(0) if match.group(1) in shown else ""

        return _CITED.sub(cited, _NUMBERED.sub(numbered, sentence))

    @property
    def text(self) -> str:
        return "".join(self.released).strip()
