"""One frame of a DICOM image -> an 8-bit PNG a person can look at (a preview, not a diagnostic display).

Grey images: stored values -> Modality LUT (rescale slope/intercept, to e.g. Hounsfield units) -> a linear VOI
window -> MONOCHROME1 inverted so that higher values are brighter. A VOI LUT Sequence without a window is not
applied (min/max is used). Colour images are converted to RGB and scaled by their bit depth, never windowed.
Non-square pixels (PixelSpacing) are corrected, and images are only ever shrunk to ``max_side``, not enlarged.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, convert_color_space, get_decoder
from pydicom.uid import ImplicitVRLittleEndian

from perception.dicom.read import DicomError

# (center, width) in Hounsfield units: the usual CT reading windows.
CT_WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}
_YBR = {"YBR_FULL", "YBR_FULL_422"}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def preview_png(ds: Dataset, *, window: tuple[float, float] | None = None, max_side: int = 1024,
                frame: int = 0) -> bytes:
    """The chosen frame as PNG bytes; ``window`` is (center, width) in modality units (HU for CT)."""
    pixels, photometric = _decode_frame(ds, frame)
    if pixels.ndim == 3 or photometric == "PALETTE COLOR":
        image = _colour(ds, pixels, photometric)
    else:
        grey = apply_modality_lut(pixels, ds).astype(np.float64)
        image = _windowed(grey, window or _file_window(ds))
        if photometric == "MONOCHROME1":
            image = 255 - image
    return _png(_resized(Image.fromarray(image), ds, max_side))


def _decode_frame(ds: Dataset, frame: int) -> tuple[np.ndarray, str]:
    if "PixelData" not in ds:
        kind = "float pixel data, which previews do not support" if any(k in ds for k in _PIXEL_KEYWORDS) else \
            "no Pixel Data"
        raise DicomError(f"the DICOM file holds no image to preview ({kind})")
    frames = _frame_count(ds)
    if not 0 <= frame < frames:
        raise DicomError(f"frame {frame} does not exist: the image has {frames} frame(s)")
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None) or ImplicitVRLittleEndian
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise DicomError(f"pixel data in transfer syntax {syntax} cannot be decoded: no decoder exists") from None
    if not decoder.is_available:
        raise DicomError(f"pixel data compressed as {syntax.name} cannot be decoded here: "
                         f"no installed decoder supports it ({'; '.join(decoder.missing_dependencies)})")
    try:
        pixels, info = decoder.as_array(ds, index=frame, as_rgb=False)
    except (RuntimeError, ValueError, KeyError, AttributeError, NotImplementedError) as error:
        raise DicomError(f"the pixel data could not be decoded ({syntax.name}): {error}") from None
    return pixels, str(info.get("photometric_interpretation", ds.get("PhotometricInterpretation", "")))


def _frame_count(ds: Dataset) -> int:
    try:
        return max(int(ds.get("NumberOfFrames") or 1), 1)
    except (TypeError, ValueError):
        return 1


def _file_window(ds: Dataset) -> tuple[float, float] | None:
    """The file's first WindowCenter/WindowWidth pair, or None when absent or unusable."""
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None or center == "" or width == "":
        return None
    try:
        return float(_first(center)), float(_first(width))
    except (TypeError, ValueError, IndexError):
        return None


def _first(value: object) -> object:
    """Multi-valued windows list alternatives (e.g. soft tissue, bone); the first is the writer's default."""
    return value[0] if isinstance(value, MultiValue | list | tuple) else value


def _windowed(values: np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    """Linear window onto 0..255; without a window the image's own range is used."""
    if window is None:
        low, high = float(values.min()), float(values.max())
    else:
        center, width = window
        if width <= 0:
            raise DicomError(f"window width must be positive, got {width}")
        low, high = center - width / 2, center + width / 2
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (np.clip(values, low, high) - low) / (high - low) * 255.0
    return np.rint(scaled).astype(np.uint8)


def _colour(ds: Dataset, pixels: np.ndarray, photometric: str) -> np.ndarray:
    if photometric == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
        bits = 16 if pixels.dtype.itemsize > 1 else 8
    else:
        if photometric in _YBR:
            pixels = convert_color_space(pixels, photometric, "RGB")
        elif photometric != "RGB":
            raise DicomError(f"photometric interpretation {photometric!r} is not supported for previews")
        bits = int(ds.get("BitsStored") or 8)
    if bits <= 8:
        return pixels.astype(np.uint8)
    return np.rint(pixels.astype(np.float64) / (2 ** bits - 1) * 255.0).astype(np.uint8)


def _resized(image: Image.Image, ds: Dataset, max_side: int) -> Image.Image:
    width, height = image.size
    try:
        row_spacing, column_spacing = (float(v) for v in ds.get("PixelSpacing") or (1.0, 1.0))
        aspect = row_spacing / column_spacing if row_spacing > 0 and column_spacing > 0 else 1.0
    except (TypeError, ValueError):
        aspect = 1.0
    height = height * aspect  # rows further apart than columns look taller
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
