"""Convert the medical multiple-choice sets in OpenAI's `evals` wheel (PyPI) into this folder's JSONL format.

    python agent/simulation/data/mcq/convert.py [--wheel evals-3.0.1.post1-py3-none-any.whl]

Without --wheel the wheel is fetched with pip (`pip download evals==3.0.1.post1 --no-deps`). The two source files
are checked against pinned sha256 digests, so the output is the same every time. Each output line is
{"id", "source", "question", "options": {"A": ...}, "answer": "A"}; see README.md beside this script for what
is left out and why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import string
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVALS_VERSION = "3.0.1.post1"
SOURCES = {
    # set name: (member of the wheel, sha256 of that member)
    "medmcqa": ("evals/registry/data/medmcqa/samples.jsonl",
                "833cc45e0d32881afb2f6a6aa00524c77071833acf9bc8729ae1423ea0beb260"),
    "dosing": ("evals/registry/data/medication_dose/samples.jsonl",
               "4398091653af8157cc29d536f1908500003055a9e228979d7565a91de05adb3d"),
}
MEDMCQA = re.compile(r"Subject: (?P<subject>.*?)\n\n(?P<question>.*)\n\na\) (?P<a>.*)\nb\) (?P<b>.*)\nc\) (?P<c>.*)"
                     r"\nd\) (?P<d>.*)", re.S)
DOSING_PREFIX = ("Answer this question as concisely as possible. Of the following medications and doses which is "
                 "incorrect for a standard dose for that medication? ")
DOSING_QUESTION = DOSING_PREFIX.removeprefix("Answer this question as concisely as possible. ").strip()


def convert_medmcqa(rows: list[dict]) -> tuple[list[dict], list[str]]:
    items, skipped = [], []
    for n, row in enumerate(rows, 1):
        item_id = f"medmcqa-{n:03d}"
        match = MEDMCQA.fullmatch(row["input"][-1]["content"])
        ideal = re.fullmatch(r"([a-d])\) (.*)", row["ideal"], re.S)
        if not match or not ideal:
            raise ValueError(f"{item_id}: unexpected layout")
        options = {letter.upper(): match.group(letter) for letter in "abcd"}
        answer = ideal.group(1).upper()
        if options[answer] != ideal.group(2):
            raise ValueError(f"{item_id}: the key's text differs from option {answer}")
        if list(options.values()).count(options[answer]) > 1:
            skipped.append(f"{item_id}: another option has the same text as the keyed answer")
            continue
        items.append({"id": item_id, "source": "medmcqa",
                      "question": f"Subject: {match.group('subject')}\n\n{match.group('question')}",
                      "options": options, "answer": answer})
    return items, skipped


def convert_dosing(rows: list[dict]) -> tuple[list[dict], list[str]]:
    items, skipped = [], []
    for n, row in enumerate(rows, 1):
        item_id = f"dosing-{n:03d}"
        text = row["input"][0]["content"]
        if not text.startswith(DOSING_PREFIX):
            raise ValueError(f"{item_id}: unexpected layout")
        entries = [e.strip() for e in text[len(DOSING_PREFIX):].split(",") if e.strip()]  # ten lists hold ",,"
        keyed = [i for i, e in enumerate(entries) if e.lower().startswith(row["ideal"].strip().lower() + " ")]
        if len(keyed) != 1:
            skipped.append(f"{item_id}: the key ({row['ideal']}) names {len(keyed)} of the listed doses")
            continue
        options = dict(zip(string.ascii_uppercase, entries, strict=False))
        items.append({"id": item_id, "source": "dosing", "question": DOSING_QUESTION, "options": options,
                      "answer": string.ascii_uppercase[keyed[0]]})
    return items, skipped


CONVERTERS = {"medmcqa": convert_medmcqa, "dosing": convert_dosing}


def fetch_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder),
                    f"evals=={EVALS_VERSION}"], check=True)
    return next(folder.glob("evals-*.whl"))


def convert(wheel: Path, out: Path = HERE) -> dict[str, tuple[int, list[str]]]:
    results = {}
    with zipfile.ZipFile(wheel) as archive:
        for name, (member, digest) in SOURCES.items():
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != digest:
                raise SystemExit(f"{member} in {wheel.name} is not the pinned file (sha256 differs)")
            rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
            items, skipped = CONVERTERS[name](rows)
            (out / f"{name}.jsonl").write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
                                               encoding="utf-8")
            results[name] = (len(items), skipped)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a local evals-{EVALS_VERSION} wheel (default: pip download)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        for name, (count, skipped) in convert(wheel).items():
            print(f"{name}: {count} items written, {len(skipped)} left out")
            for reason in skipped:
                print(f"  {reason}")


if __name__ == "__main__":
    main()
