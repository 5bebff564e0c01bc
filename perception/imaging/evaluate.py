"""Metrics of a model on a folder-per-class set, and CPU inference time for the benchmark."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch
from PIL import Image

from perception.imaging import registry
from perception.imaging.data import Images, Sample, load_image_set, stratified_split, to_tensor
from perception.imaging.models import ClassifierModel


def metrics_from(y_true: list[int], y_pred: list[int], classes: list[str]) -> dict:
    """Accuracy, per-class precision/recall/support, and the confusion matrix (rows true, columns predicted)."""
    k = len(classes)
    confusion = [[0] * k for _ in range(k)]
    for t, p in zip(y_true, y_pred, strict=True):
        confusion[t][p] += 1
    per_class = {}
    for i, name in enumerate(classes):
        predicted, support = sum(row[i] for row in confusion), sum(confusion[i])
        per_class[name] = {"precision": round(confusion[i][i] / predicted, 4) if predicted else 0.0,
                           "recall": round(confusion[i][i] / support, 4) if support else 0.0, "support": support}
    n = len(y_true)
    correct = sum(confusion[i][i] for i in range(k))
    return {"accuracy": round(correct / n, 4) if n else 0.0, "n": n, "classes": classes,
            "per_class": per_class, "confusion_matrix": confusion}


@torch.inference_mode()
def predict_samples(model: torch.nn.Module, samples: list[Sample], image_size: int,
                    batch_size: int = 64) -> list[int]:
    loader = torch.utils.data.DataLoader(Images(samples, image_size), batch_size=batch_size)
    return [int(p) for x, _ in loader for p in model.eval()(x).argmax(dim=1)]


def evaluate_record(record: ClassifierModel, data: Path | None = None) -> dict:
    """The record's metrics on ``data`` (a held-out set), or without it on the validation split it was trained
    with (re-derived from the seed in its training metadata)."""
    model = registry.load(record)
    if data is None:
        source = record.training_data
        image_set = load_image_set(Path(source["dir"]), record.classes)
        _, samples = stratified_split(image_set, source["val_fraction"], source["seed"])
        split = "validation"
    else:
        image_set = load_image_set(Path(data), record.classes)
        samples, split = image_set.samples, "held-out"
    predicted = predict_samples(model, samples, record.image_size)
    return {**metrics_from([s.label for s in samples], predicted, record.classes), "split": split,
            "data": str(image_set.root), "generated": image_set.generated, "task": record.task,
            "version": record.version, "model_sha256": record.sha256}


def inference_ms(task_or_model: str | ClassifierModel, n: int = 50) -> dict:
    """Median and 95th-percentile milliseconds to classify one image on the CPU (batch of one, warm model),
    for the task's newest model (validated or not) or the given one."""
    record = registry.find(task_or_model) if isinstance(task_or_model, str) else task_or_model
    model = registry.load(record)
    image = Image.new("RGB", (record.image_size * 2, record.image_size * 2), (128, 90, 80))
    timings = []
    with torch.inference_mode():
        for i in range(n + 3):
            start = time.perf_counter()
            model(to_tensor(image, record.image_size)).softmax(dim=1)
            if i >= 3:  # the first calls allocate; they say nothing about steady state
                timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {"task": record.task, "version": record.version, "architecture": record.architecture,
            "image_size": record.image_size, "threads": torch.get_num_threads(), "n": n,
            "p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[min(n - 1, round(0.95 * (n - 1)))], 3)}
