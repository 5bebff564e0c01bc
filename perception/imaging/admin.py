from django.contrib import admin

from perception.imaging.models import ClassifierModel


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ("task", "version", "architecture", "validated", "installed_by", "installed_at", "trained_at")
    list_filter = ("task", "validated")
    # Validation goes through install_classifier (which checks provenance and held-out metrics), never a checkbox;
    # weights and their hash are fixed once written.
    readonly_fields = ("task", "architecture", "version", "classes", "image_size", "weights_path", "sha256",
                       "metrics", "training_data", "trained_at", "validated", "held_out_description",
                       "installed_by", "installed_at", "created_at")

    def has_add_permission(self, request) -> bool:
        return False
