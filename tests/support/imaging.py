"""Imaging models for tests: untrained weights with the metadata training writes, and an admin's install."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command

from perception.imaging import registry
from perception.imaging.synthetic import CLASSES

# The smallest timm network that learns the generated patterns in seconds on two busy CPU cores.
TINY_ARCH, TINY_SIZE = "test_efficientnet", 32


def write_model(directory: Path, *, generated: bool, task: str = "skin-lesion", seed: int = 0) -> Path:
    """Untrained weights and the metadata train_classifier would write beside them; returns the weights file."""
    import torch

    torch.manual_seed(seed)
    model = registry.build(TINY_ARCH, list(CLASSES))
    weights = directory / registry.WEIGHTS_NAME
    sha256 = registry.save_weights(model, weights)
    registry.write_json(directory / registry.METADATA_NAME, {
        "task": task, "architecture": TINY_ARCH, "classes": list(CLASSES), "image_size": TINY_SIZE,
        "sha256": sha256, "trained_at": "2025-01-01T00:00:00+00:00",
        "training_data": {"dir": str(directory), "generated": generated, "seed": 0, "val_fraction": 0.2}})
    return weights


def held_out_metrics(directory: Path, **overrides) -> Path:
    metrics = {"split": "held-out", "generated": False, "accuracy": 0.91, "n": 300,
               "per_class": {name: {"precision": 0.9, "recall": 0.9, "support": 100} for name in CLASSES}}
    path = directory / "held-out-metrics.json"
    path.write_text(json.dumps(metrics | overrides))
    return path


def install(weights: Path, metrics: Path, user: str = "ada", task: str = "skin-lesion") -> None:
    call_command("install_classifier", task=task, weights=str(weights), metrics=str(metrics),
                 held_out_description="300 dermatoscope photos from clinic B, 2024, labelled by two dermatologists",
                 installed_by=user)
