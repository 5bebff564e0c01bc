"""Weights on disk, their hashes, and the registry rows that point at them.

Every load hashes the file first and loads from the very bytes it hashed: a file changed after training or
installation (sha256 mismatch) is refused, never loaded.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import timm
import torch
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.dateparse import parse_datetime
from safetensors.torch import load as load_safetensors
from safetensors.torch import save_file

from perception.imaging.models import ClassifierModel

WEIGHTS_NAME, METADATA_NAME, METRICS_NAME = "model.safetensors", "metadata.json", "metrics.json"
# Workers share the host with the web app and each other: inference and training stay on two CPU threads.
MAX_THREADS = 2
# What a patient or clinician is told the images were, in the no-model message.
TASK_SUBJECTS = {"skin-lesion": "skin photos", "chest-xray": "chest X-rays"}


class WeightsMismatch(Exception):
    """The weights file is not the one the registry recorded."""


def on_cpu() -> None:
    torch.set_num_threads(min(torch.get_num_threads(), MAX_THREADS))


def task_subject(task: str) -> str:
    return TASK_SUBJECTS.get(task, f"{task} images")


def models_dir() -> Path:
    return Path(settings.IMAGING_MODELS_DIR)


def version_dir(task: str, version: int) -> Path:
    return models_dir() / task / f"v{version}"


def weights_file(record: ClassifierModel) -> Path:
    return models_dir() / record.weights_path


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    return sha256_of(Path(path).read_bytes())


def read_metadata(weights: Path) -> dict:
    path = Path(weights).parent / METADATA_NAME
    return json.loads(path.read_text()) if path.exists() else {}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def build(architecture: str, classes: list[str]) -> torch.nn.Module:
    return timm.create_model(architecture, pretrained=False, num_classes=len(classes))


def save_weights(model: torch.nn.Module, path: Path) -> str:
    """Writes the state dict as safetensors; returns the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return file_sha256(path)


def load(record: ClassifierModel) -> torch.nn.Module:
    """The record's model in eval mode, or WeightsMismatch. Cached per file state: a changed file (new mtime or
    size) is hashed and checked again before it is loaded."""
    path = weights_file(record)
    if not path.exists():
        raise WeightsMismatch(f"{record}: weights file {path} is missing")
    stat = path.stat()
    return _load(str(path), stat.st_mtime_ns, stat.st_size, record.sha256, record.architecture, tuple(record.classes))


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int, sha256: str, architecture: str,
          classes: tuple[str, ...]) -> torch.nn.Module:
    on_cpu()
    data = Path(path).read_bytes()
    if (actual := sha256_of(data)) != sha256:
        raise WeightsMismatch(f"weights file {path} has sha256 {actual}, the registry expects {sha256}; not loaded")
    model = build(architecture, list(classes))
    model.load_state_dict(load_safetensors(data))
    return model.eval()


def next_version(task: str) -> int:
    return (ClassifierModel.objects.filter(task=task).aggregate(v=Max("version"))["v"] or 0) + 1


@transaction.atomic
def register(metadata: dict, metrics: dict, weights: Path) -> ClassifierModel:
    """A registry row (never validated) for weights already written under IMAGING_MODELS_DIR."""
    return ClassifierModel.objects.create(
        task=metadata["task"], architecture=metadata["architecture"], version=metadata["version"],
        classes=metadata["classes"], image_size=metadata["image_size"],
        weights_path=str(Path(weights).relative_to(models_dir())), sha256=metadata["sha256"], metrics=metrics,
        training_data=metadata["training_data"], trained_at=parse_datetime(metadata.get("trained_at") or ""),
        validated=False)


def newest_validated(task: str) -> ClassifierModel | None:
    return ClassifierModel.objects.filter(task=task, validated=True).order_by("-version").first()


def find(task: str, version: int | None = None) -> ClassifierModel:
    """The given version of the task's model, or its newest one (validated or not)."""
    models = ClassifierModel.objects.filter(task=task)
    record = models.filter(version=version).first() if version else models.order_by("-version").first()
    if record is None:
        raise ClassifierModel.DoesNotExist(f"no {task} model" + (f" version {version}" if version else ""))
    return record
