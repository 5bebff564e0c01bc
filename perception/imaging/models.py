"""The classifier registry: one row per trained model version; only an admin's install makes one validated."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ClassifierModel(models.Model):
    task = models.CharField(max_length=64, help_text="what the model reads, e.g. skin-lesion, chest-xray")
    architecture = models.CharField(max_length=128, help_text="timm model name")
    version = models.PositiveIntegerField()
    classes = models.JSONField(help_text="class names in output order")
    image_size = models.PositiveIntegerField()
    # Relative to settings.IMAGING_MODELS_DIR, so the directory can move with its files.
    weights_path = models.CharField(max_length=512)
    sha256 = models.CharField(max_length=64, help_text="of the weights file; checked before every load")
    metrics = models.JSONField(default=dict, help_text="accuracy, per_class, n, split (and the set it was run on)")
    training_data = models.JSONField(default=dict, help_text="where the training images came from, "
                                                             "incl. generated: true|false")
    trained_at = models.DateTimeField(null=True, blank=True)
    validated = models.BooleanField(default=False)
    held_out_description = models.TextField(blank=True)
    installed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    installed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "-version"]
        constraints = [models.UniqueConstraint(fields=["task", "version"], name="imaging_task_version_unique")]

    def __str__(self) -> str:
        state = "validated" if self.validated else "not validated"
        return f"{self.task} v{self.version} ({self.architecture}, {state})"

    @property
    def trained_on_generated_data(self) -> bool:
        # Unknown provenance counts as generated: nothing unproven may be validated.
        return self.training_data.get("generated", True) is not False
