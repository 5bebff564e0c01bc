from django.contrib import admin
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the run command and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("fhir/", include("fhir.urls")),
    path("evidence/", include("webapp.evidence.urls")),
    path("uploads/", include("webapp.uploads.urls")),
    path("", include("webapp.dashboard.urls")),
    path("", include("webapp.followup.urls")),
    path("alerts/", include("webapp.alerts.urls")),
    path("", include("webapp.myrecord.urls")),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("", include("webapp.chat.urls")),
]
