from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from webapp.accounts.models import CareTeamMembership, PatientProfile, User


@admin.register(User)
class ContinuumUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = UserAdmin.fieldsets + (("Continuum", {"fields": ("role",)}),)


admin.site.register(PatientProfile)
admin.site.register(CareTeamMembership)
