"""The fact unit: the simulated patient says only what the case supports, and only what was asked.

`answerable` picks, for the doctor's message, the facts of the case that answer it (by the topic the
question is about and the words it shares with each fact). The patient model phrases only those; `check`
then catches what it must not have said: the diagnosis, test results and findings a patient could not know,
numbers the case does not hold, and contradictions of the case (a symptom denied that the case affirms, or
the reverse). What fails the check is regenerated once, then replaced by the plain facts.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

import snowballstemmer

from agent.simulation.cases import Case, Fact

_WORD = re.compile(r"[a-z][a-z']+|\d+(?:[.,]\d+)?")
STOPWORDS = frozenset(("a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
                      "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
                      "but", "by", "can", "can't", "could", "did", "didn't", "do", "does", "doesn't", "doing",
                      "don't", "down", "during", "each", "few", "for", "from", "further", "had", "hadn't", "has",
                      "hasn't", "have", "haven't", "having", "he", "he'd", "he's", "her", "here", "hers", "herself",
                      "him", "himself", "his", "how", "i", "i'd", "i'm", "i've", "if", "in", "into", "is", "isn't",
                      "it", "it's", "its", "itself", "just", "let's", "like", "me", "more", "most", "my", "myself",
                      "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "ought", "our",
                      "ours", "ourselves", "out", "over", "own", "please", "same", "she", "she's", "should", "so",
                      "some", "such", "tell", "than", "that", "that's", "the", "their", "theirs", "them",
                      "themselves", "then", "there", "there's", "these", "they", "they're", "this", "those",
                      "through", "to", "too", "under", "until", "up", "very", "was", "wasn't", "we", "we're", "were",
                      "what", "what's", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
                      "won't", "would", "you", "you're", "your", "yours", "yourself", "yourselves", "patient",
                      "patients", "reports", "reported", "mentions", "presents", "also", "recently", "recent", "any",
                      "anything", "else", "ever", "notice", "noticed", "experienced", "experiencing", "having",
                      "feel", "feeling", "felt", "get", "got", "been", "has"))
NEGATIONS = re.compile(r"\b(?:no|not|never|none|without|denies|deny|haven't|hasn't|don't|doesn't|didn't|isn't|nor"
                       r"|nothing|n't)\b")
# What a question is about -> the fact topics that answer it.
TOPIC_WORDS = {
    "social": ("smoke", "smoking", "smoker", "cigarette", "tobacco", "alcohol", "drink", "drinks", "drinking", "work",
               "job", "occupation", "live", "living", "travel", "travelled", "traveled", "drugs", "sexual", "sexually",
               "partner", "married", "exercise", "diet", "pets", "hobbies", "retired", "social"),
    "past_history": ("medical", "history", "conditions", "illnesses", "illness", "surgery", "surgeries", "operation",
                     "operations", "hospital", "hospitalised", "hospitalized", "diagnosed", "problems", "past"),
    "medications": ("medication", "medications", "medicine", "medicines", "pills", "tablets", "taking", "drugs",
                    "prescribed", "supplements"),
    "family": ("family", "mother", "father", "parents", "brother", "sister", "siblings", "relatives", "inherited"),
    "history": ("when", "start", "started", "begin", "began", "long", "onset", "first", "how", "worse", "better",
                "change", "changed", "before", "happened", "describe"),
    "review": ("other", "symptoms", "fever", "weight", "appetite", "sleep", "night", "sweats", "chills", "tired"),
}
MAX_FACTS = 3  # a patient answers one question with a few facts, not the whole script


_STEM = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    return word if word[0].isdigit() else _STEM.stemWord(word.replace("'", ""))[:5]


def words(text: str) -> set[str]:
    """Content words, stemmed (Snowball, then five letters) so 'smoking' meets 'smoker' and 'itchy' 'itchiness'."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def covered(fact: Fact, text: str, share: float = 0.6) -> bool:
    """Whether `text` states most of the fact's content words."""
    mine = words(fact.text)
    return bool(mine) and len(mine & words(text)) / len(mine) >= share


def answerable(question: str, case: Case, revealed: set[Fact]) -> list[Fact]:
    """The facts that answer the doctor's message, best first; the ones not yet told come first."""
    asked = words(question)
    raw = set(_WORD.findall(question.lower()))
    topics = {topic for topic, cues in TOPIC_WORDS.items() if raw & set(cues)}
    sharing: list[tuple[float, int, Fact]] = []  # facts that share words with the question
    on_topic: list[tuple[float, int, Fact]] = []  # facts only of the topic it asks about
    for order, fact in enumerate(case.facts):
        overlap = len(asked & words(fact.text))
        fresh = 0.0 if fact in revealed else 0.75  # what was not told yet comes first
        bonus = 1.0 if fact.topic in topics else 0.0
        if overlap:
            sharing.append((overlap + bonus + fresh, -order, fact))
        elif bonus:
            on_topic.append((bonus + fresh, -order, fact))
    chosen = sorted(sharing, reverse=True) or sorted(on_topic, reverse=True)[:2]
    return [fact for _, _, fact in chosen[:MAX_FACTS]]


# Facts a small model likes to make up for a patient: allergies and medicines the script never mentions.
_INVENTIONS = (
    (re.compile(r"\ballerg\w*"), "an allergy"),
    (re.compile(r"\b\w+(?:cillin|mycin|cycline|pril|sartan|olol|statin|prazole|formin|azepam|oxetine|triptan)\b"),
     "a medicine"),
    (re.compile(r"\b(?:ibuprofen|paracetamol|acetaminophen|aspirin|insulin|warfarin|prednisolone|inhaler)\b"),
     "a medicine"),
)


@dataclass(frozen=True)
class Problem:
    kind: str  # diagnosis_leak | result_leak | invented_number | invented_fact | contradiction
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


# Everyday words of examination and test reports: saying them leaks nothing.
GENERIC = frozenset(("pressure", "temperature", "respiratory", "findings", "breaths", "inspection", "normal",
                     "sounds", "elevated", "visible", "abnormalities", "within", "examination", "negative", "evidence",
                     "limits", "without", "appears", "slightly", "appearance", "reduced", "throughout", "detected",
                     "decreased", "complete", "positive", "motion", "multiple", "present", "presence", "observed",
                     "result", "results", "status", "strength", "function", "absent", "increased", "around",
                     "specific", "indicating", "indicative", "possible", "swelling", "texture", "muscles", "muscle",
                     "significantly", "process", "movement", "perception", "changes", "external", "growth", "volume",
                     "person", "border", "absence", "provided", "limited", "affected", "across", "affect", "general",
                     "levels", "special", "pending", "report", "symptoms", "recently", "noticed", "healthy"))


def _known_only_to_doctor(case: Case) -> set[str]:
    """Stems of the diagnosis, findings and results (words of six letters or more) that the patient's own
    script never uses and that are not everyday report words."""
    actor = words(case.actor_text)
    # Section names count too: "Biopsy_Report" is something the patient cannot know about.
    secret = " ".join([case.diagnosis, json.dumps(case.tests), json.dumps(case.examinations)]).replace("_", " ").lower()
    return {_stem(w) for w in _WORD.findall(secret)
            if len(w) >= 6 and w not in GENERIC and w not in STOPWORDS and _stem(w) not in actor}


def check(reply: str, case: Case, question: str = "") -> list[Problem]:
    """What the patient's reply must not contain, given the case and the doctor's question."""
    problems: list[Problem] = []
    said = words(reply)
    echoed = words(question)  # the patient may repeat the doctor's own words
    diagnosis = words(case.diagnosis) - words(case.actor_text) - echoed
    if diagnosis and diagnosis <= said:
        problems.append(Problem("diagnosis_leak", case.diagnosis))
    leaked = (_known_only_to_doctor(case) & said) - echoed - diagnosis
    if leaked:
        problems.append(Problem("result_leak", ", ".join(sorted(leaked))))
    script = case.actor_text.lower()
    for pattern, what in _INVENTIONS:
        for found in pattern.finditer(reply.lower()):
            clause = reply.lower()[max(0, found.start() - 40):found.end()]
            if found.group(0) not in script and not pattern.search(script) and not NEGATIONS.search(clause) \
                    and found.group(0) not in question.lower():
                problems.append(Problem("invented_fact", f"{what}: {found.group(0)!r} is not in the case"))
    numbers = set(re.findall(r"\d+(?:[.,]\d+)?", reply))
    allowed = set(re.findall(r"\d+(?:[.,]\d+)?", case.actor_text + " " + case.demographics + " " + question))
    invented = numbers - allowed
    if invented:
        problems.append(Problem("invented_number", ", ".join(sorted(invented))))
    for clause in re.split(r"[.;!?]|,\s*(?:but|and)\s", reply.lower()):
        clause_words = words(clause)
        if not clause_words:
            continue
        negated = bool(NEGATIONS.search(clause))
        for fact in case.facts:
            core = words(fact.text.removeprefix("no "))
            if len(core) < 1 or not core <= clause_words:
                continue
            if fact.negative and not negated:
                problems.append(Problem("contradiction", f"says {clause.strip()!r} but the case has {fact.text!r}"))
            elif not fact.negative and negated and fact.topic in ("symptoms",):
                problems.append(Problem("contradiction", f"denies {fact.text!r}, which the case affirms"))
    return problems
