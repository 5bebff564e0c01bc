"""manage.py evaluate_classifier --task NAME [--data DIR] [--version V] [--output FILE]: a registered model's
metrics on a folder-per-class set (without --data, on the validation split it was trained with). The --output
file is what install_classifier --metrics takes."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from perception.imaging import registry
from perception.imaging.evaluate import evaluate_record
from perception.imaging.models import ClassifierModel


class Command(BaseCommand):
    help = "Evaluate a registered image classifier and print its metrics."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        # --version names the model version here; Django's own --version (its release) gives way.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--task", required=True)
        parser.add_argument("--data", type=Path)
        parser.add_argument("--version", type=int)
        parser.add_argument("--output", type=Path, help="also write the metrics as JSON here")

    def handle(self, *args, task: str, data: Path | None = None, version: int | None = None,
               output: Path | None = None, **options) -> None:
        try:
            record = registry.find(task, version)
            metrics = evaluate_record(record, data)
        except (ClassifierModel.DoesNotExist, registry.WeightsMismatch, ValueError, KeyError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{record} on {metrics['data']} ({metrics['split']}, n={metrics['n']}"
                          f"{', GENERATED images' if metrics['generated'] else ''})")
        self.stdout.write(f"accuracy {metrics['accuracy']:.4f}")
        for name, figures in metrics["per_class"].items():
            self.stdout.write(f"  {name:20s} precision {figures['precision']:.4f} recall {figures['recall']:.4f} "
                              f"support {figures['support']}")
        self.stdout.write(f"confusion matrix (rows true, columns predicted; {', '.join(record.classes)}): "
                          f"{metrics['confusion_matrix']}")
        if output:
            registry.write_json(Path(output), metrics)
            self.stdout.write(f"metrics written to {output}")
        self.stdout.write(json.dumps({"accuracy": metrics["accuracy"], "n": metrics["n"]}))
