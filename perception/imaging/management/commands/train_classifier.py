"""manage.py train_classifier --task NAME --data DIR: train a timm classifier from scratch on DIR/<class>/*.png|jpg,
write weights, metadata and validation metrics under IMAGING_MODELS_DIR and register it, NOT validated
(install_classifier validates, with held-out metrics)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from perception.imaging.train import DEFAULT_ARCH, TrainingOptions, train


class Command(BaseCommand):
    help = "Train an image classifier on a folder-per-class set and register it (not validated)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--task", required=True)
        parser.add_argument("--data", required=True, type=Path)
        parser.add_argument("--arch", default=DEFAULT_ARCH)
        parser.add_argument("--epochs", type=int, default=10)
        parser.add_argument("--image-size", type=int, default=64)
        parser.add_argument("--val-fraction", type=float, default=0.2)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--lr", type=float, default=3e-3)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, task: str, data: Path, no_progress: bool = False, **options) -> None:
        training = TrainingOptions(arch=options["arch"], epochs=options["epochs"], image_size=options["image_size"],
                                   val_fraction=options["val_fraction"], seed=options["seed"],
                                   batch_size=options["batch_size"], lr=options["lr"])
        try:
            record = train(task, data, training, progress=None if no_progress else self.stderr._out)
        except (ValueError, RuntimeError) as error:
            raise CommandError(str(error)) from error
        generated = " (trained on GENERATED images: can never be validated)" if record.trained_on_generated_data else ""
        self.stdout.write(f"registered {record}{generated}; weights {record.weights_path} sha256 {record.sha256}")
        self.stdout.write(json.dumps({k: record.metrics[k] for k in ("split", "accuracy", "n", "per_class",
                                                                     "confusion_matrix")}))
