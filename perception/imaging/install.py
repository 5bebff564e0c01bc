"""do_install_classifier: the only way a model becomes validated.

An admin states held-out metrics for a weights file; the model must have been trained on real images
(the metadata written beside the weights says generated: false) and the metrics must come from a held-out
set of real images. Anything else is refused with the reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from perception.imaging import registry
from perception.imaging.models import ClassifierModel

HELD_OUT_SPLITS = {"test", "held-out"}


class InstallRefused(Exception):
    pass


def _installer(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise InstallRefused(f"no active user {username!r}")
    if not (user.is_superuser or getattr(user, "role", None) == "admin"):
        raise InstallRefused(f"{username} is not an administrator; only an administrator may install a model")
    return user


def check_metadata(task: str, metadata: dict, sha256: str) -> None:
    if not metadata:
        raise InstallRefused(f"no {registry.METADATA_NAME} beside the weights: where the training images came "
                             "from is unknown, so the model cannot be validated")
    if metadata.get("task") != task:
        raise InstallRefused(f"the weights were trained for task {metadata.get('task')!r}, not {task!r}")
    if metadata.get("sha256") != sha256:
        raise InstallRefused("the weights file is not the one its metadata describes (sha256 differs)")
    if metadata.get("training_data", {}).get("generated", True) is not False:
        raise InstallRefused("the model was trained on generated images (or their origin is not recorded); "
                             "a model trained on generated images is never validated")


def check_metrics(metrics: dict, classes: list[str], sha256: str) -> None:
    if metrics.get("split") not in HELD_OUT_SPLITS:
        raise InstallRefused(f"the metrics must be on a held-out set (split one of {sorted(HELD_OUT_SPLITS)}), "
                             f"not {metrics.get('split')!r}")
    if metrics.get("generated", False) is not False:
        raise InstallRefused("the held-out metrics were measured on generated images")
    accuracy, n = metrics.get("accuracy"), metrics.get("n")
    if not isinstance(accuracy, int | float) or not 0 <= accuracy <= 1 or not isinstance(n, int) or n <= 0:
        raise InstallRefused("the metrics need accuracy (0..1) and n (the number of held-out images)")
    if not isinstance(metrics.get("per_class"), dict) or not set(metrics["per_class"]) <= set(classes):
        raise InstallRefused(f"the metrics need per_class figures for the model's classes {classes}")
    if metrics.get("model_sha256", sha256) != sha256:
        raise InstallRefused("the metrics were measured on other weights (model_sha256 differs)")


def _place(task: str, version: int, weights: Path) -> Path:
    """The weights and their metadata under IMAGING_MODELS_DIR (copied there unless already inside)."""
    if weights.resolve().is_relative_to(registry.models_dir().resolve()):
        return weights.resolve()
    target = registry.version_dir(task, version)
    target.mkdir(parents=True, exist_ok=False)
    shutil.copy2(weights.parent / registry.METADATA_NAME, target / registry.METADATA_NAME)
    return Path(shutil.copy2(weights, target / registry.WEIGHTS_NAME))


@transaction.atomic
def do_install_classifier(task: str, weights: Path, metrics: dict, held_out_description: str,
                          installed_by: str) -> ClassifierModel:
    user = _installer(installed_by)
    if not held_out_description.strip():
        raise InstallRefused("describe the held-out set (where the images came from, how many, how labelled)")
    weights = Path(weights)
    if not weights.is_file():
        raise InstallRefused(f"no weights file {weights}")
    sha256 = registry.file_sha256(weights)
    metadata = registry.read_metadata(weights)
    check_metadata(task, metadata, sha256)
    check_metrics(metrics, metadata["classes"], sha256)
    record = ClassifierModel.objects.select_for_update().filter(task=task, sha256=sha256).first()
    if record is None:
        version = registry.next_version(task)
        placed = _place(task, version, weights)
        record = registry.register({**metadata, "version": version}, metrics, placed)
    record.metrics = metrics
    record.held_out_description = held_out_description.strip()
    record.validated, record.installed_by, record.installed_at = True, user, timezone.now()
    record.save()
    return record
