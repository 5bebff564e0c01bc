"""manage.py install_classifier --task T --weights FILE --metrics metrics.json --held-out-description "..."
--installed-by USER: an administrator marks a model VALIDATED, stating its metrics on a held-out set of real
images. Refused for models trained on generated images, unknown provenance, or metrics not on a held-out set."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from perception.imaging.install import InstallRefused, do_install_classifier


class Command(BaseCommand):
    help = "Install an image classifier as validated, with its held-out metrics."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--task", required=True)
        parser.add_argument("--weights", required=True, type=Path)
        parser.add_argument("--metrics", required=True, type=Path)
        parser.add_argument("--held-out-description", required=True)
        parser.add_argument("--installed-by", required=True)

    def handle(self, *args, task: str, weights: Path, metrics: Path, held_out_description: str,
               installed_by: str, **options) -> None:
        # Paths arrive as str from call_command (no argparse conversion).
        weights, metrics = Path(weights), Path(metrics)
        try:
            stated = json.loads(metrics.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read metrics {metrics}: {error}") from error
        try:
            record = do_install_classifier(task, weights, stated, held_out_description, installed_by)
        except InstallRefused as error:
            raise CommandError(f"not installed: {error}") from error
        self.stdout.write(f"installed {record}: held-out accuracy {record.metrics['accuracy']} "
                          f"(n={record.metrics['n']}), sha256 {record.sha256}")
