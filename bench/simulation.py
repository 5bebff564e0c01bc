"""Simulated consultations: cases per hour on this machine and where the time goes (the doctor's model, the
harness around it, the patient simulator's model, the diagnosis grader).

    python -m bench.simulation [--model URL] [--cases FILE] [--limit 20] [--report bench/results/simulation.json]

It runs `manage.py simulate` on the first N cases (resumable: cases already in the report are skipped, so an
interrupted run goes on where it stopped) and prints the figures for docs/benchmarks.md and docs/evaluation.md.
Without --model, the configured model (or the default CPU model, started for the run). No assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "data" / "osce" / "osce_cases_dev.jsonl"


def figures(report: dict) -> dict:
    cases = report["cases"]
    total = sum(c["seconds"] for c in cases) or 1.0
    parts = {key: sum(c.get(key, 0.0) for c in cases) for key in
             ("doctor_seconds", "harness_seconds", "patient_seconds", "grader_seconds")}
    turns = sum(c["turns"] for c in cases) or 1
    return {
        "cases": len(cases),
        "cases_per_hour": round(3600 * len(cases) / total, 2),
        "seconds_per_case": round(total / len(cases), 1) if cases else 0.0,
        "seconds_per_doctor_turn": round((parts["doctor_seconds"] + parts["harness_seconds"]) / turns, 2),
        "harness_ms_per_turn": round(1000 * parts["harness_seconds"] / turns, 1),
        **{f"share_{k.removesuffix('_seconds')}": round(v / total, 3) for k, v in parts.items()},
        "share_other": round(1 - sum(parts.values()) / total, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="")
    parser.add_argument("--cases", default=str(CASES))
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--report", default=str(ROOT / "bench" / "results" / "simulation.json"))
    args = parser.parse_args()
    command = [sys.executable, str(ROOT / "manage.py"), "simulate", "--cases", args.cases, "--out", args.report,
               "--limit", str(args.limit)] + (["--model", args.model] if args.model else [])
    subprocess.run(command, check=True, cwd=ROOT)
    report = json.loads(Path(args.report).read_text())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; model {report['summary']['model']}")
    for key, value in figures(report).items():
        print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
