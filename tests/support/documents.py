"""Documents for upload tests: generated lab reports (perception/ocr/synthetic.py) as a patient would send them."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

from perception.ocr.synthetic import degrade, generate, ground_truth

GPS_IFD = 0x8825


def lab_report(directory: Path, seed: int = 0) -> tuple[Image.Image, dict]:
    """A clean generated lab-report page and its ground truth (fields: name, value, unit, range, flag)."""
    page = generate(directory, count=1, seed=seed)[0]
    truth = ground_truth(page)
    assert truth["kind"] == "lab"
    return Image.open(page).convert("RGB"), truth


def phone_photo(image: Image.Image, seed: int = 0) -> bytes:
    """The page as a phone would send it: slightly skewed and blurred, JPEG, with camera and GPS EXIF."""
    photo = degrade(image, ["skew", "blur"], random.Random(seed))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 40.0)}
    out = io.BytesIO()
    photo.convert("RGB").save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def pdf_of(images: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()
