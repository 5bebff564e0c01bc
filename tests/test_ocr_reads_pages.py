"""OCR: each engine reads a generated lab page; rows survive skew; the ground-truth set is reproducible.

Reading is slow on CI's CPU, so each engine reads the one clean lab page (page 0) and nothing more;
`manage.py evaluate_ocr` measures the whole set.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from perception.ocr.engines import OcrPage, OcrWord, read_image
from perception.ocr.evaluate import character_error_rate, score_page
from perception.ocr.synthetic import DEGRADATIONS, generate, ground_truth, plan


@pytest.fixture(scope="module")
def clean_lab_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (path,) = generate(tmp_path_factory.mktemp("ocr-pages"), count=1, seed=0)
    assert ground_truth(path)["kind"] == "lab" and ground_truth(path)["degradations"] == []
    return path


def _read_and_score(path: Path, engine: str) -> dict:
    with Image.open(path) as image:
        page = read_image(image, engine)
        assert page.engine == engine and (page.width, page.height) == image.size
    return score_page(page, ground_truth(path))


def test_rapidocr_reads_a_clean_lab_page(clean_lab_page: Path) -> None:
    score = _read_and_score(clean_lab_page, "rapidocr")
    assert score["cer"] < 0.05, score
    assert score["fields"] >= 4
    assert score["fields_right"] >= 0.8 * score["fields"], score


def test_easyocr_reads_a_clean_lab_page(clean_lab_page: Path) -> None:
    score = _read_and_score(clean_lab_page, "easyocr")
    assert score["cer"] < 0.06, score
    assert score["values_right"] >= 0.8 * score["fields"], score
    # easyocr often reads "mg/dL" as "mgldL", which costs the whole field; a lower bar than rapidocr's.
    assert score["fields_right"] >= 0.3 * score["fields"], score


def _skewed_table(degrees: float) -> tuple[list[OcrWord], list[list[str]]]:
    """A four-column table rotated about its top-left corner: words with the boxes an engine would report."""
    table = [
        ["Haemoglobin", "13.2 g/dL", "13.0-17.0", "H"],
        ["Glucose (fasting)", "5.1 mmol/L", "3.9-5.5", ""],
        ["Platelets", "245 x10^9/L", "150-400", ""],
        ["Potassium", "3.1 mmol/L", "3.5-5.3", "L"],
        ["Creatinine", "88 umol/L", "59-104", ""],
        ["CRP", "4.0 mg/L", "<5.0", ""],
    ]
    angle = math.radians(degrees)
    height, char, pitch = 28.0, 14.0, 40.0  # a 40 px row pitch: less than the 3 degree drift across the table
    words = []
    for r, row in enumerate(table):
        for column_x, cell in zip((100, 500, 800, 1100), row, strict=True):
            x = float(column_x)
            for word in cell.split():
                width = len(word) * char
                cx, cy = x + width / 2, 200 + r * pitch
                rx = 100 + (cx - 100) * math.cos(angle) - (cy - 200) * math.sin(angle)
                ry = 200 + (cx - 100) * math.sin(angle) + (cy - 200) * math.cos(angle)
                # An axis-aligned box around a tilted word grows a little taller.
                half_h = height / 2 + abs(math.sin(angle)) * width / 2
                words.append(OcrWord(word, (rx - width / 2, ry - half_h, rx + width / 2, ry + half_h), 0.99))
                x += width + 8  # a word space, well under a column gap
    return words, [[c for c in row if c] for row in table]


@pytest.mark.parametrize("degrees", [0.0, 3.0, -3.5])
def test_rows_group_a_slightly_skewed_table(degrees: float) -> None:
    words, expected = _skewed_table(degrees)
    shuffled = words[::2] + words[1::2]  # engines return boxes in no useful order
    page = OcrPage(words=shuffled, engine="rapidocr", seconds=0.0, width=1400, height=600)
    assert page.rows() == expected
    assert page.text().splitlines()[0] == "Haemoglobin  13.2 g/dL  13.0-17.0  H"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", count=3, seed=7)
    again = generate(tmp_path / "b", count=3, seed=7)
    other = generate(tmp_path / "c", count=3, seed=8)
    assert [ground_truth(p) for p in first] == [ground_truth(p) for p in again]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [ground_truth(p)["text"] for p in first] != [ground_truth(p)["text"] for p in other]


def test_the_generated_set_mixes_labs_letters_and_every_degradation() -> None:
    pages = plan(40, seed=0)
    assert Counter(kind for kind, _ in pages) == {"lab": 30, "letter": 10}
    assert {d for _, ds in pages for d in ds} == set(DEGRADATIONS)
    assert sum(1 for _, ds in pages if not ds) >= 4


def test_lab_ground_truth_has_realistic_fields(clean_lab_page: Path) -> None:
    truth = ground_truth(clean_lab_page)
    for field in truth["fields"]:
        assert field["name"] in truth["text"]
        assert any(field["value"] in line and field["range"] in line for line in truth["text"].splitlines())
        assert field["flag"] in ("", "H", "L")


def test_character_error_rate_counts_edits_and_ignores_spacing() -> None:
    assert character_error_rate("Sodium  140 mmol/L", "Sodium 140 mmol/L") == 0.0
    assert character_error_rate("Sodium 140", "Sodium 14O") == pytest.approx(1 / 10)
    assert character_error_rate("abc", "") == 1.0


def test_an_unknown_engine_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown OCR engine 'tesseract': choose one of rapidocr, easyocr"):
        read_image(Image.new("RGB", (10, 10)), "tesseract")
