"""The report of a simulation run: written after every case, so an interrupted run loses nothing and a rerun
skips what is done (resumable), and the summary is always recomputed from the cases in it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from agent.simulation.knowledge import wilson


def write_json(path: Path, data: dict) -> None:
    """Replace the file atomically: a crash mid-write leaves the previous report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, ensure_ascii=False)
            stream.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResumableReport:
    """A JSON report rewritten (atomically) after every entry; a rerun skips the entries already in it.
    Subclasses name their list, the key that identifies an entry, and their summary."""

    items_key = "items"
    id_key = "id"
    what = "report"
    ordered = False  # keep entries sorted by id

    def __init__(self, path: str | Path, meta: dict) -> None:
        self.path = Path(path)
        self.meta = meta
        self.items: list[dict] = []
        self.skipped: list[dict] = []
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.items = [i for i in data[self.items_key] if isinstance(i, dict) and self.id_key in i]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{self.path} is not a {self.what} ({exc}); move it away to start over") from exc

    @property
    def done(self) -> set:
        return {item[self.id_key] for item in self.items}

    def add(self, item: dict) -> None:
        self.items = [i for i in self.items if i[self.id_key] != item[self.id_key]] + [item]
        if self.ordered:
            self.items.sort(key=lambda i: i[self.id_key])
        self.save()

    def summary(self) -> dict:
        raise NotImplementedError

    def save(self) -> None:
        write_json(self.path, {"summary": self.summary(), "skipped_lines": self.skipped, self.items_key: self.items})


class Report(ResumableReport):
    """The report of `manage.py simulate`, with each consultation beside it as a conversation."""

    items_key, id_key, what, ordered = "cases", "index", "simulation report", True

    @property
    def cases(self) -> list[dict]:
        return self.items

    def summary(self) -> dict:
        n = len(self.cases)
        right = sum(1 for c in self.cases if c["correct"])
        seconds = sum(c.get("seconds", 0.0) for c in self.cases)
        in_model = sum(c.get("doctor_seconds", 0.0) + c.get("patient_seconds", 0.0) + c.get("grader_seconds", 0.0)
                       for c in self.cases)
        in_doctor = sum(c.get("doctor_seconds", 0.0) for c in self.cases)
        grounding = {key: sum(c.get("grounding", {}).get(key, 0) for c in self.cases)
                     for key in ("claims", "unsupported", "removed", "delivered_unsupported")}
        claims = grounding["claims"]
        return {
            "cases": n,
            "diagnosis_accuracy": round(right / n, 4) if n else 0.0,
            "mean_inquiry_coverage": round(sum(c["inquiry_coverage"] for c in self.cases) / n, 4) if n else 0.0,
            "mean_turns": round(sum(c["turns"] for c in self.cases) / n, 2) if n else 0.0,
            "correct": right,
            "diagnosis_accuracy_ci95": [round(x, 4) for x in wilson(right, n)],
            "seconds_per_case": round(seconds / n, 1) if n else 0.0,
            "cases_per_hour": round(3600 * n / seconds, 2) if seconds else 0.0,
            "share_of_time_in_models": round(in_model / seconds, 3) if seconds else 0.0,
            "share_of_time_in_doctor_model": round(in_doctor / seconds, 3) if seconds else 0.0,
            "red_flag_cases": sum(1 for c in self.cases if c["red_flags"]),
            # The grounding check over the doctor's claim sentences: found unsupported, and still read by the patient.
            "grounding": grounding,
            "unsupported_claim_rate": round(grounding["unsupported"] / claims, 4) if claims else None,
            "delivered_unsupported_claim_rate": round(grounding["delivered_unsupported"] / claims, 4) if claims
            else None,
            **self.meta,
        }

    @property
    def conversations_path(self) -> Path:
        """Beside the report: each consultation as a conversation `make_rubrics` and `grade` read."""
        return self.path.with_name(self.path.stem + ".conversations.jsonl")

    def save(self) -> None:
        super().save()
        roles = {"patient": "user", "doctor": "assistant"}
        lines = [json.dumps({"id": f"case-{c['index']}", "case": c["index"], "messages": [
            {"role": roles[t["role"]], "content": t["text"]} for t in c.get("transcript", [])]}, ensure_ascii=False)
            for c in self.cases]
        self.conversations_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
