"""Red-flag triage throughput and latency on one core.

    python -m bench.triage_throughput [--rounds 50]

Triages every labelled vignette (tests/data/triage_vignettes.jsonl) ``rounds``
times in this one process and prints messages per second and p50/p95/max
latency per message. Also prints recall per level and the emergency false-alarm
rate on the same set (a development set: the rules were written against it).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from agent.safety.triage import triage_message

VIGNETTES = Path(__file__).resolve().parent.parent / "tests" / "data" / "triage_vignettes.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    rows = [json.loads(line) for line in VIGNETTES.open()]
    latencies = []
    start = time.perf_counter()
    for _ in range(args.rounds):
        for row in rows:
            t0 = time.perf_counter()
            triage_message(row["text"], row.get("previous_question", ""))
            latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    latencies.sort()
    print(f"messages            {len(latencies)}")
    print(f"throughput          {len(latencies) / wall:,.0f} messages/s (one core)")
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        print(f"latency {name}         {latencies[int(q * (len(latencies) - 1))] * 1e6:,.0f} µs")
    print(f"latency max         {latencies[-1] * 1e6:,.0f} µs")
    for path in sorted(VIGNETTES.parent.glob("triage_*.jsonl")):
        report(path)


def report(path: Path) -> None:
    rows = [json.loads(line) for line in path.open()]
    total, right, alarms, non_emergency = Counter(), Counter(), 0, 0
    for row in rows:
        level = triage_message(row["text"], row.get("previous_question", "")).level
        total[row["level"]] += 1
        right[row["level"]] += level == row["level"]
        if row["level"] != "emergency":
            non_emergency += 1
            alarms += level == "emergency"
    levels = ("emergency", "urgent", "routine", "self-care")
    recall = ", ".join(f"{level} {right[level]}/{total[level]}" for level in levels)
    print(f"{path.name}: {recall}; emergency false alarms {alarms}/{non_emergency}")


if __name__ == "__main__":
    main()
