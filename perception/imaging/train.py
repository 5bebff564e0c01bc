"""Train a timm classifier from scratch on a folder-per-class set; register it (never validated).

Weights (safetensors), metadata (architecture, classes, where the images came from, generated or not)
and validation metrics are written side by side under IMAGING_MODELS_DIR/<task>/v<version>/.
"""

from __future__ import annotations

import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from perception.imaging import registry
from perception.imaging.data import MEAN, STD, Images, Sample, load_image_set, stratified_split
from perception.imaging.evaluate import metrics_from, predict_samples
from perception.imaging.models import ClassifierModel

DEFAULT_ARCH = "mobilenetv3_small_050"


@dataclass(frozen=True)
class TrainingOptions:
    arch: str = DEFAULT_ARCH
    epochs: int = 10
    image_size: int = 64
    val_fraction: float = 0.2
    seed: int = 0
    batch_size: int = 16
    lr: float = 3e-3


def _decoded(samples: list[Sample], image_size: int) -> list[tuple[torch.Tensor, int]]:
    # Decoded once: the sets this trains on fit in memory, and decoding dominated each epoch.
    images = Images(samples, image_size)
    return [images[i] for i in range(len(images))]


def fit(model: torch.nn.Module, samples: list[Sample], options: TrainingOptions, progress: TextIO | None) -> float:
    """Trains in place; returns the last epoch's mean loss."""
    decoded = _decoded(samples, options.image_size)
    generator = torch.Generator().manual_seed(options.seed)
    loader = torch.utils.data.DataLoader(decoded, batch_size=options.batch_size, shuffle=True, generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr, weight_decay=0.01)
    steps = options.epochs * len(loader)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=options.lr, total_steps=steps)
    bar = tqdm(total=steps, desc="training", unit="batch", file=progress or sys.stderr, disable=progress is None)
    epoch_loss = 0.0
    model.train()
    for epoch in range(options.epochs):
        losses = []
        for x, y in loader:
            # Flips as augmentation, on tensors (cheap): a lesion or a film reads the same mirrored.
            flip = torch.rand(x.shape[0], generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
        epoch_loss = sum(losses) / len(losses)
    bar.close()
    return epoch_loss


def train(task: str, data: Path, options: TrainingOptions = TrainingOptions(),
          progress: TextIO | None = None) -> ClassifierModel:
    registry.on_cpu()
    random.seed(options.seed)
    torch.manual_seed(options.seed)
    image_set = load_image_set(Path(data))
    train_samples, val_samples = stratified_split(image_set, options.val_fraction, options.seed)
    if not val_samples:
        raise ValueError("the validation split is empty: each class needs at least two images")
    model = registry.build(options.arch, image_set.classes)
    started = timezone.now()
    loss = fit(model, train_samples, options, progress)
    predicted = predict_samples(model, val_samples, options.image_size)
    metrics = {**metrics_from([s.label for s in val_samples], predicted, image_set.classes), "split": "validation",
               "data": str(image_set.root), "generated": image_set.generated}
    with transaction.atomic():
        version = registry.next_version(task)
        target = registry.version_dir(task, version)
        if target.exists():  # left by a run whose row was never written
            shutil.rmtree(target)
        weights = target / registry.WEIGHTS_NAME
        sha256 = registry.save_weights(model, weights)
        metrics["model_sha256"] = sha256
        metadata = {
            "task": task, "architecture": options.arch, "version": version, "classes": image_set.classes,
            "image_size": options.image_size, "mean": MEAN, "std": STD, "sha256": sha256,
            "trained_at": timezone.now().isoformat(), "training_seconds": round((timezone.now() - started)
                                                                                .total_seconds(), 2),
            "training": {"epochs": options.epochs, "batch_size": options.batch_size, "lr": options.lr,
                         "final_loss": round(loss, 4)},
            "training_data": {"dir": str(image_set.root.resolve()), "generated": image_set.generated,
                              "counts": image_set.counts(), "train": len(train_samples),
                              "validation": len(val_samples), "val_fraction": options.val_fraction,
                              "seed": options.seed},
        }
        registry.write_json(target / registry.METADATA_NAME, metadata)
        registry.write_json(target / registry.METRICS_NAME, metrics)
        return registry.register(metadata, metrics, weights)
