"""Import FHIR bundles (Synthea output, EHR exports) into the record; safe to run again."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from fhir.access import SYSTEM
from fhir.errors import FhirError
from fhir.jsonnum import loads
from fhir.maintenance import refresh_statistics
from fhir.store import Repository
from fhir.sync import ImportReport, import_bundle


class Command(BaseCommand):
    help = "Import FHIR Bundle JSON files (or every *.json in a folder); idempotent, one transaction per bundle."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help="bundle files or folders of them")
        parser.add_argument("--quiet-progress", action="store_true", help="no progress bar")

    def handle(self, *args, paths: list[str], quiet_progress: bool, **options) -> None:
        files: list[Path] = []
        for name in paths:
            path = Path(name)
            if path.is_dir():
                files += sorted(path.rglob("*.json"))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{name}: no such file or folder")
        # An import is the server's own act on behalf of whoever runs the command; it is audited as such.
        repo = Repository(SYSTEM, channel="import")
        total, failed = ImportReport(), []
        for path in tqdm(files, unit="bundle", disable=quiet_progress or len(files) < 2):
            try:
                report = import_bundle(repo, loads(path.read_bytes()))
            except (FhirError, ValueError) as error:
                failed.append(f"{path.name}: {error}")
                continue
            total.add(report)
            self.stdout.write(f"{path.name}: {report.summary()}")
        refresh_statistics()  # a large import changes the shape of the data the SQLite planner plans for
        self.stdout.write(f"imported {len(files) - len(failed)} of {len(files)} bundles: {total.summary()}")
        for resource_type in sorted(set(total.created) | set(total.updated)):
            self.stdout.write(f"  {resource_type}: {total.created[resource_type]} created, "
                              f"{total.updated[resource_type]} updated")
        if failed:
            raise CommandError("failed:\n" + "\n".join(failed))
