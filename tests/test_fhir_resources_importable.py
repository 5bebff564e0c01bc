"""The project's own fhir/ package must not shadow the fhir.resources library."""


def test_both_fhir_packages_import():
    from fhir.resources.R4B.patient import Patient

    import fhir

    patient = Patient.model_validate({"resourceType": "Patient", "name": [{"family": "Archer"}]})
    assert patient.name[0].family == "Archer"
    assert any(path.endswith("/fhir") and "site-packages" not in path for path in fhir.__path__)
    assert any("site-packages" in path for path in fhir.__path__)
