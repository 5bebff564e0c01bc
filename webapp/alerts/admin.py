from django.contrib import admin

from webapp.alerts.models import Alert, AlertContact, ChainRank, Delivery


@admin.register(AlertContact)
class AlertContactAdmin(admin.ModelAdmin):
    list_display = ("clinician", "channel", "address", "active")
    list_filter = ("channel", "active")


@admin.register(ChainRank)
class ChainRankAdmin(admin.ModelAdmin):
    list_display = ("membership", "rank")


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ("step", "recipient", "channel", "address", "status", "attempts", "last_error", "created_at",
                       "claimed_at", "sent_at")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Read-only: alerts change through their actions (acknowledgement, escalation), never by hand."""

    list_display = ("flag_id", "patient", "level", "status", "step", "created_at", "acknowledged_by")
    list_filter = ("level", "status")
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False
