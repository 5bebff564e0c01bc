"""A generated ground-truth set: lab reports and clinic letters rendered to PNG, then degraded like phone photos.

Nothing here is committed as an image: `generate(out_dir, count, seed)` draws the same pages for the same
seed (every random choice comes from a per-page `random.Random`), each PNG beside a JSON ground truth:
{"kind", "text" (the page as rendered, cells joined by two spaces, rows by newlines), "fields",
"degradations", "font"}. The text uses the same cell and row separators as `OcrPage.text()`.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.ImageFont import FreeTypeFont

from perception.ocr.layout import CELL_SEPARATOR

PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 90
DEGRADATIONS = ("noise", "jpeg", "skew", "blur", "uneven_light", "low_contrast")
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
# Regular and bold faces: fonts-dejavu-core (a fontconfig dependency) and fonts-liberation (with Chromium).
FONT_FACES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
)


@dataclass(frozen=True)
class Test:
    names: tuple[str, str]  # UK spelling, US spelling
    units: tuple[str, str]
    low: float | None  # None: the range is printed "<high"
    high: float | None  # None: the range is printed ">low"
    decimals: int
    us_factor: float = 1.0  # US value = UK value * factor (and the range alike)
    us_range: tuple[float, float, int] | None = None  # low, high, decimals where US units are not a factor away


# name (UK, US), unit (UK, US), reference range in UK units, decimals; ranges as commonly printed.
PANELS: dict[str, tuple[Test, ...]] = {
    "FULL BLOOD COUNT": (
        Test(("Haemoglobin", "Hemoglobin"), ("g/dL", "g/dL"), 13.0, 17.0, 1),
        Test(("WBC", "WBC"), ("x10^9/L", "x10^9/L"), 4.0, 11.0, 1),
        Test(("Platelets", "Platelets"), ("x10^9/L", "x10^9/L"), 150, 400, 0),
        Test(("RBC", "RBC"), ("x10^12/L", "x10^12/L"), 4.50, 5.50, 2),
        Test(("Haematocrit", "Hematocrit"), ("%", "%"), 40.0, 50.0, 1),
        Test(("MCV", "MCV"), ("fL", "fL"), 80, 100, 0),
        Test(("Neutrophils", "Neutrophils"), ("x10^9/L", "x10^9/L"), 2.0, 7.5, 1),
        Test(("Lymphocytes", "Lymphocytes"), ("x10^9/L", "x10^9/L"), 1.0, 4.0, 1),
    ),
    "RENAL PROFILE": (
        Test(("Sodium", "Sodium"), ("mmol/L", "mmol/L"), 135, 145, 0),
        Test(("Potassium", "Potassium"), ("mmol/L", "mmol/L"), 3.5, 5.3, 1),
        Test(("Chloride", "Chloride"), ("mmol/L", "mmol/L"), 98, 107, 0),
        Test(("Bicarbonate", "Bicarbonate"), ("mmol/L", "mmol/L"), 22, 29, 0),
        Test(("Urea", "Urea"), ("mmol/L", "mg/dL"), 2.5, 7.8, 1, 2.8),
        Test(("Creatinine", "Creatinine"), ("umol/L", "mg/dL"), 59, 104, 0, 0.0113),
        Test(("eGFR", "eGFR"), ("mL/min/1.73m2", "mL/min/1.73m2"), 60, None, 0),
    ),
    "LIVER FUNCTION": (
        Test(("ALT", "ALT"), ("U/L", "U/L"), None, 41, 0),
        Test(("AST", "AST"), ("U/L", "U/L"), None, 40, 0),
        Test(("ALP", "ALP"), ("U/L", "U/L"), 30, 130, 0),
        Test(("GGT", "GGT"), ("U/L", "U/L"), None, 60, 0),
        Test(("Bilirubin", "Bilirubin"), ("umol/L", "mg/dL"), None, 21, 0, 0.0585),
        Test(("Albumin", "Albumin"), ("g/L", "g/dL"), 35, 50, 0, 0.1),
    ),
    "LIPID PROFILE": (
        Test(("Total cholesterol", "Total cholesterol"), ("mmol/L", "mg/dL"), None, 5.0, 1, 38.67),
        Test(("LDL cholesterol", "LDL cholesterol"), ("mmol/L", "mg/dL"), None, 3.0, 1, 38.67),
        Test(("HDL cholesterol", "HDL cholesterol"), ("mmol/L", "mg/dL"), 1.0, None, 1, 38.67),
        Test(("Triglycerides", "Triglycerides"), ("mmol/L", "mg/dL"), None, 1.7, 1, 88.57),
    ),
    "DIABETES": (
        Test(("Glucose (fasting)", "Glucose, fasting"), ("mmol/L", "mg/dL"), 3.9, 5.5, 1, 18.0),
        Test(("HbA1c", "HbA1c"), ("mmol/mol", "%"), 20, 41, 0, us_range=(4.0, 5.6, 1)),
    ),
    "ENDOCRINOLOGY": (
        Test(("TSH", "TSH"), ("mU/L", "mIU/L"), 0.27, 4.20, 2),
        Test(("Free T4", "Free T4"), ("pmol/L", "ng/dL"), 12.0, 22.0, 1, 0.0777),
    ),
    "HAEMATINICS AND INFLAMMATION": (
        Test(("CRP", "CRP"), ("mg/L", "mg/L"), None, 5.0, 1),
        Test(("Ferritin", "Ferritin"), ("ug/L", "ng/mL"), 30, 400, 0),
        Test(("Vitamin B12", "Vitamin B12"), ("ng/L", "pg/mL"), 197, 771, 0),
        Test(("Folate", "Folate"), ("ug/L", "ng/mL"), 3.9, 26.8, 1),
    ),
    "COAGULATION": (
        Test(("INR", "INR"), ("", ""), 0.8, 1.2, 1),
        Test(("Prothrombin time", "Prothrombin time"), ("s", "s"), 10.0, 13.5, 1),
    ),
    "BONE PROFILE": (
        Test(("Calcium (adjusted)", "Calcium, corrected"), ("mmol/L", "mg/dL"), 2.20, 2.60, 2, 4.0),
        Test(("Phosphate", "Phosphate"), ("mmol/L", "mg/dL"), 0.80, 1.50, 2, 3.1),
        Test(("Magnesium", "Magnesium"), ("mmol/L", "mg/dL"), 0.70, 1.00, 2, 2.43),
    ),
}

# Column orders and their headers; "result+flag" prints the flag after the value in one cell.
LAYOUTS = (
    (("Test", "Result", "Flag", "Units", "Reference range"), ("name", "value", "flag", "unit", "range")),
    (("Investigation", "Result", "Units", "Ref. range", "Flag"), ("name", "value", "unit", "range", "flag")),
    (("Analyte", "Value", "Reference interval", "Units", "Flag"), ("name", "value", "range", "unit", "flag")),
    (("Test name", "Result", "Units", "Normal range"), ("name", "value+flag", "unit", "range")),
    (("TEST", "RESULT", "FLAG", "UNITS", "REFERENCE"), ("name", "value", "flag", "unit", "range")),
)
RULES = ("none", "header", "lines", "grid")
LABS = (
    "Northfield Pathology Laboratory",
    "St Bride's Hospital Blood Sciences",
    "Riverside Clinical Laboratories",
    "Meadowbank Medical Laboratory",
    "Harbour View Diagnostics",
    "Kingsgate University Hospital Pathology",
)
GIVEN = ("Margaret", "James", "Aisha", "Tomasz", "Priya", "Daniel", "Grace", "Oluwaseun", "Elena", "Robert")
FAMILY = ("Thompson", "Okafor", "Kowalski", "Patel", "Nguyen", "Hughes", "Fernandes", "O'Brien", "Larsen", "Ahmed")
CLINICIANS = ("Dr A. Patel", "Dr S. Morgan", "Dr J. Whitfield", "Dr R. Chen", "Dr L. Mensah", "Dr K. Novak")
MEDICATIONS = (
    ("Metformin", ("500", "1000"), "mg", "twice daily"),
    ("Ramipril", ("2.5", "5", "10"), "mg", "once daily"),
    ("Atorvastatin", ("20", "40", "80"), "mg", "at night"),
    ("Amlodipine", ("5", "10"), "mg", "once daily"),
    ("Bisoprolol", ("1.25", "2.5", "5"), "mg", "once daily"),
    ("Furosemide", ("20", "40"), "mg", "in the morning"),
    ("Apixaban", ("2.5", "5"), "mg", "twice daily"),
    ("Levothyroxine", ("50", "75", "100"), "micrograms", "once daily"),
    ("Omeprazole", ("20", "40"), "mg", "once daily"),
    ("Sertraline", ("50", "100"), "mg", "once daily"),
)
DIAGNOSES = (
    "community-acquired pneumonia",
    "an exacerbation of heart failure",
    "a urinary tract infection with acute kidney injury",
    "new atrial fibrillation",
    "a fall with a minor head injury",
    "diabetic ketoacidosis",
)


@dataclass
class Page:
    """A page being drawn: its image, the lines of text as rendered and the facts it states."""

    image: Image.Image
    lines: list[tuple[float, list[str]]] = field(default_factory=list)  # (top y, cells)
    fields: list[dict[str, str]] = field(default_factory=list)

    def write(self, draw: ImageDraw.ImageDraw, y: float, cells: list[tuple[float, str, FreeTypeFont]]) -> None:
        for x, text, font in cells:
            draw.text((x, y), text, font=font, fill=(20, 20, 20))
        self.lines.append((y, [text for _, text, _ in cells if text]))

    def text(self) -> str:
        ordered = sorted(self.lines, key=lambda line: line[0])
        return "\n".join(CELL_SEPARATOR.join(cells) for _, cells in ordered if cells)


@dataclass(frozen=True)
class Fonts:
    regular: FreeTypeFont
    bold: FreeTypeFont
    small: FreeTypeFont
    title: FreeTypeFont
    name: str
    size: int


def plan(count: int = 40, seed: int = 0) -> list[tuple[str, list[str]]]:
    """(kind, degradations) per page: one page in four is a letter, one in five is left clean."""
    pages = []
    for index in range(count):
        rng = random.Random(f"plan:{seed}:{index}")
        kind = "letter" if index % 4 == 3 else "lab"
        clean = index % 5 == 0
        degradations = [] if clean else sorted(rng.sample(DEGRADATIONS, rng.randint(1, 3)), key=DEGRADATIONS.index)
        pages.append((kind, degradations))
    return pages


def generate(out_dir: Path, count: int = 40, seed: int = 0) -> list[Path]:
    """Draw `count` pages into out_dir as page-NNN.png with page-NNN.json beside each; returns the PNG paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (kind, degradations) in enumerate(plan(count, seed)):
        rng = random.Random(f"page:{seed}:{index}")
        page, fonts = _draw_lab(rng) if kind == "lab" else _draw_letter(rng)
        image = degrade(page.image, degradations, rng)
        path = out_dir / f"page-{index:03d}.png"
        image.save(path, optimize=False)
        truth = {
            "kind": kind,
            "text": page.text(),
            "fields": page.fields,
            "degradations": degradations,
            "font": fonts.name,
            "font_size": fonts.size,
        }
        path.with_suffix(".json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
        paths.append(path)
    return paths


def _font(filename: str, size: int) -> FreeTypeFont:
    for directory in FONT_DIRS:
        if (directory / filename).is_file():
            return ImageFont.truetype(str(directory / filename), size)
    # Pillow always ships a scalable fallback, so a machine without system fonts still renders pages.
    return ImageFont.load_default(size=size)


def _fonts(rng: random.Random) -> Fonts:
    regular, bold = FONT_FACES[rng.randrange(len(FONT_FACES))]
    size = rng.choice((20, 22, 24, 26))
    name = regular if any((d / regular).is_file() for d in FONT_DIRS) else "pillow-default"
    return Fonts(
        regular=_font(regular, size),
        bold=_font(bold, size),
        small=_font(regular, size - 4),
        title=_font(bold, size + 10),
        name=name,
        size=size,
    )


def _patient(rng: random.Random) -> dict[str, str]:
    return {
        "name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
        "dob": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1938, 2002)}",
        "mrn": f"{rng.randint(10_000_000, 99_999_999)}",
        "sex": rng.choice(("F", "M")),
        "date": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2024",
    }


def _header(page: Page, draw: ImageDraw.ImageDraw, fonts: Fonts, title: str, pairs: list[tuple[str, str]]) -> float:
    """Title line, then key-value pairs two to a row (left and right half); returns the next free y."""
    y = MARGIN
    page.write(draw, y, [(MARGIN, title, fonts.title)])
    y += fonts.size * 2.6
    half = PAGE_SIZE[0] // 2
    for i in range(0, len(pairs), 2):
        row = zip((MARGIN, half), pairs[i : i + 2], strict=False)
        cells = [(float(x), f"{key}: {value}", fonts.regular) for x, (key, value) in row]
        page.write(draw, y, cells)
        y += fonts.size * 1.6
    return y + fonts.size


def _value(test: Test, rng: random.Random, us: bool) -> tuple[str, str, str]:
    """(value, range, flag) as printed; about one result in four is out of range."""
    factor = test.us_factor if us else 1.0
    low = test.low * factor if test.low is not None else None
    high = test.high * factor if test.high is not None else None
    decimals = test.decimals if factor == 1.0 else (1 if (high or low or 0) < 20 else 0)
    if us and test.us_range:
        low, high, decimals = test.us_range
    lo = low if low is not None else high * 0.3
    hi = high if high is not None else low * 2.2
    roll = rng.random()
    if roll < 0.13 and high is not None:
        value, flag = rng.uniform(hi * 1.08, hi * 1.8), "H"
    elif roll < 0.26 and low is not None:
        value, flag = rng.uniform(lo * 0.45, lo * 0.93), "L"
    else:
        value, flag = rng.uniform(lo + (hi - lo) * 0.05, hi - (hi - lo) * 0.05), ""
    text = f"{value:.{decimals}f}"
    if low is None:
        ref = f"<{high:.{decimals}f}"
    elif high is None:
        ref = f">{low:.{decimals}f}"
    else:
        ref = f"{low:.{decimals}f}-{high:.{decimals}f}"
    return text, ref, flag


def _draw_lab(rng: random.Random) -> tuple[Page, Fonts]:
    fonts = _fonts(rng)
    us = rng.random() < 0.4
    page = Page(Image.new("RGB", PAGE_SIZE, (255, 255, 255)))
    draw = ImageDraw.Draw(page.image)
    patient = _patient(rng)
    pairs = [
        ("Patient", patient["name"]),
        ("MRN", patient["mrn"]),
        ("DOB", patient["dob"]),
        ("Sex", patient["sex"]),
        ("Collected", patient["date"]),
        ("Requested by", rng.choice(CLINICIANS)),
    ]
    y = _header(page, draw, fonts, rng.choice(LABS), pairs)
    headers, columns = LAYOUTS[rng.randrange(len(LAYOUTS))]
    rules = rng.choice(RULES)
    spaced_ranges = rng.random() < 0.3  # some labs print "13.0 - 17.0"
    panels = rng.sample(sorted(PANELS), rng.randint(2, 3))
    rows = []
    for panel in panels:
        tests = PANELS[panel]
        chosen = sorted(rng.sample(range(len(tests)), min(len(tests), rng.randint(3, 6))))
        body = []
        for i in chosen:
            test = tests[i]
            value, ref, flag = _value(test, rng, us)
            if spaced_ranges and "-" in ref:
                ref = ref.replace("-", " - ")
            unit = test.units[us]
            name = test.names[us]
            body.append({"name": name, "value": value, "unit": unit, "range": ref, "flag": flag})
        rows.append((panel, body))
    y = _table(page, draw, fonts, y, headers, columns, rows, rules)
    footer = [
        "Results outside the reference range are flagged H (high) or L (low).",
        f"Authorised by {rng.choice(CLINICIANS)}, Consultant Chemical Pathologist",
    ]
    for line in footer:
        page.write(draw, y, [(MARGIN, line, fonts.small)])
        y += fonts.size * 1.5
    return page, fonts


def _cell(row: dict[str, str], column: str) -> str:
    if column == "value+flag":
        return f"{row['value']} {row['flag']}".strip()
    return row[column]


def _table(
    page: Page,
    draw: ImageDraw.ImageDraw,
    fonts: Fonts,
    y: float,
    headers: tuple[str, ...],
    columns: tuple[str, ...],
    rows: list[tuple[str, list[dict[str, str]]]],
    rules: str,
) -> float:
    """Columns as wide as their widest cell plus a two-em gap; optional shading and rules."""
    gap = fonts.size * 2.0
    cells = [list(headers)] + [[_cell(r, c) for c in columns] for _, body in rows for r in body]
    widths = [max(fonts.bold.getlength(row[i]) for row in cells) for i in range(len(columns))]
    xs = [float(MARGIN)]
    for w in widths[:-1]:
        xs.append(xs[-1] + w + gap)
    right = xs[-1] + widths[-1] + gap / 2
    pitch = fonts.size * 1.9
    top = y - fonts.size * 0.4
    if rules != "none":
        draw.rectangle((MARGIN - 10, top, right, top + pitch), fill=(225, 225, 225))
    page.write(draw, y, [(x, h, fonts.bold) for x, h in zip(xs, headers, strict=True)])
    y += pitch
    if rules != "none":
        draw.line((MARGIN - 10, y - fonts.size * 0.4, right, y - fonts.size * 0.4), fill=(60, 60, 60), width=2)
    for panel, body in rows:
        page.write(draw, y, [(MARGIN, panel, fonts.bold)])
        y += pitch
        for row in body:
            font = fonts.bold if row["flag"] and rules == "grid" else fonts.regular
            page.write(draw, y, [(x, _cell(row, c), font) for x, c in zip(xs, columns, strict=True)])
            page.fields.append(row)
            y += pitch
            if rules in ("lines", "grid"):
                line_y = y - fonts.size * 0.4
                draw.line((MARGIN - 10, line_y, right, line_y), fill=(150, 150, 150), width=1)
    if rules == "grid":
        for x in [*xs[1:], right]:
            draw.line((x - gap / 2, top, x - gap / 2, y - fonts.size * 0.4), fill=(150, 150, 150), width=1)
    return y + fonts.size


def _wrap(text: str, font: FreeTypeFont, width: float) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def _draw_letter(rng: random.Random) -> tuple[Page, Fonts]:
    fonts = _fonts(rng)
    page = Page(Image.new("RGB", PAGE_SIZE, (255, 255, 255)))
    draw = ImageDraw.Draw(page.image)
    patient = _patient(rng)
    discharge = rng.random() < 0.5
    title = "Discharge Summary" if discharge else "Outpatient Clinic Letter"
    pairs = [
        ("Patient", patient["name"]),
        ("DOB", patient["dob"]),
        ("Hospital number", patient["mrn"]),
        ("Date", patient["date"]),
    ]
    y = _header(page, draw, fonts, title, pairs)
    medications = rng.sample(MEDICATIONS, rng.randint(3, 5))
    doses = [(name, rng.choice(strengths), unit, how) for name, strengths, unit, how in medications]
    first, second = doses[0], doses[1]
    gp = rng.choice(CLINICIANS)
    paragraphs = [
        f"Dear {gp},",
        (
            f"I saw {patient['name']} {'who was admitted with' if discharge else 'in clinic today after'} "
            f"{rng.choice(DIAGNOSES)}. {'She' if patient['sex'] == 'F' else 'He'} has made a steady recovery "
            f"and the observations are now within normal limits."
        ),
        (
            f"We have started {first[0]} {first[1]} {first[2]} {first[3]} and increased {second[0]} to "
            f"{second[1]} {second[2]} {second[3]}. Please check renal function and electrolytes in two weeks."
        ),
    ]
    width = PAGE_SIZE[0] - 2 * MARGIN
    for paragraph in paragraphs:
        for line in _wrap(paragraph, fonts.regular, width):
            page.write(draw, y, [(MARGIN, line, fonts.regular)])
            y += fonts.size * 1.45
        y += fonts.size * 0.8
    page.write(draw, y, [(MARGIN, "Medications on discharge:" if discharge else "Current medications:", fonts.bold)])
    y += fonts.size * 1.6
    for name, strength, unit, how in doses:
        page.write(draw, y, [(MARGIN + 30, f"{name} {strength} {unit} {how}", fonts.regular)])
        page.fields.append({"name": name, "value": strength, "unit": unit, "range": "", "flag": ""})
        y += fonts.size * 1.5
    y += fonts.size
    for line in ("Yours sincerely,", rng.choice(CLINICIANS), "Consultant Physician"):
        page.write(draw, y, [(MARGIN, line, fonts.regular)])
        y += fonts.size * 1.5
    return page, fonts


def degrade(image: Image.Image, degradations: list[str], rng: random.Random) -> Image.Image:
    """Apply the named degradations in a fixed, photo-like order (geometry, optics, light, sensor, codec)."""
    noise_rng = np.random.default_rng(rng.randrange(2**32))
    for name in DEGRADATIONS_ORDER:
        if name in degradations:
            image = _APPLY[name](image, rng, noise_rng)
    return image


def _skew(image: Image.Image, rng: random.Random, _: np.random.Generator) -> Image.Image:
    angle = rng.uniform(1.0, 4.0) * rng.choice((-1, 1))
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))


def _blur(image: Image.Image, rng: random.Random, _: np.random.Generator) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 2.0)))


def _uneven_light(image: Image.Image, rng: random.Random, _: np.random.Generator) -> Image.Image:
    # A lamp off to one side: brightness falls off linearly to 55-75 % across the page.
    width, height = image.size
    floor = rng.uniform(0.55, 0.75)
    xs = np.linspace(1.0, floor, width) if rng.random() < 0.5 else np.linspace(floor, 1.0, width)
    ys = np.linspace(1.0, rng.uniform(0.8, 1.0), height)
    gain = np.outer(ys, xs)[:, :, None]
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float32) * gain, 0, 255).astype(np.uint8))


def _low_contrast(image: Image.Image, rng: random.Random, _: np.random.Generator) -> Image.Image:
    ink, paper = rng.uniform(80, 110), rng.uniform(200, 230)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    return Image.fromarray((ink + pixels * (paper - ink)).astype(np.uint8))


def _noise(image: Image.Image, rng: random.Random, noise_rng: np.random.Generator) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + noise_rng.normal(0, rng.uniform(10, 28), pixels.shape[:2])[:, :, None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, rng: random.Random, _: np.random.Generator) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=rng.randint(10, 30))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


DEGRADATIONS_ORDER = ("skew", "blur", "uneven_light", "low_contrast", "noise", "jpeg")
_APPLY = {
    "skew": _skew,
    "blur": _blur,
    "uneven_light": _uneven_light,
    "low_contrast": _low_contrast,
    "noise": _noise,
    "jpeg": _jpeg,
}


def ground_truth(png: Path) -> dict:
    return json.loads(Path(png).with_suffix(".json").read_text())
