"""The FHIR route table: one line per interaction."""

from django.urls import path, re_path, register_converter

from fhir import views


class ResourceTypeConverter:
    regex = "[A-Z][A-Za-z]{1,63}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter(ResourceTypeConverter):
    regex = "[A-Za-z0-9\\-.]{1,64}"


register_converter(ResourceTypeConverter, "rtype")
register_converter(IdConverter, "fid")

urlpatterns = [
    path("", views.system),
    path("metadata", views.metadata),
    path(".well-known/smart-configuration", views.smart_config),
    path("<rtype:resource_type>", views.type_level),
    path("<rtype:resource_type>/_search", views.type_search),
    path("<rtype:resource_type>/_history", views.type_history),
    path("<rtype:resource_type>/$validate", views.validate_operation),
    path("Patient/<fid:fhir_id>/$everything", views.patient_everything),
    path("<rtype:resource_type>/<fid:fhir_id>", views.instance),
    path("<rtype:resource_type>/<fid:fhir_id>/$validate", views.validate_operation),
    path("<rtype:resource_type>/<fid:fhir_id>/$confirm", views.confirm_operation),
    path("<rtype:resource_type>/<fid:fhir_id>/_history", views.instance_history),
    path("<rtype:resource_type>/<fid:fhir_id>/_history/<str:version_id>", views.vread),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
