"""Image classifiers behind a registry: training on generated images, installation, prediction, FHIR."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from PIL import Image

from fhir.release import UNCONFIRMED, confirmation_of
from fhir.validation import validate_resource
from perception.imaging import registry
from perception.imaging.data import GENERATED_MARKER, load_image_set, stratified_split
from perception.imaging.evaluate import inference_ms
from perception.imaging.models import ClassifierModel
from perception.imaging.predict import NoValidatedModel, Prediction, as_observation, classify
from perception.imaging.synthetic import CLASSES, draw, generate
from tests.support.imaging import TINY_ARCH, TINY_SIZE, held_out_metrics, install, write_model


@pytest.fixture
def models_dir(settings, tmp_path: Path) -> Path:
    settings.IMAGING_MODELS_DIR = tmp_path / "models"
    return settings.IMAGING_MODELS_DIR


@pytest.fixture(scope="module")
def generated_set(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synthetic"), per_class=30, seed=1)


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_user(username="ada", password="x", role="admin")


def test_the_split_is_stratified_and_the_same_for_the_same_seed(generated_set: Path) -> None:
    image_set = load_image_set(generated_set)
    train, val = stratified_split(image_set, 0.2, seed=3)
    assert image_set.counts(val) == dict.fromkeys(CLASSES, 6)
    assert len(train) + len(val) == 90 and not {s.path for s in train} & {s.path for s in val}
    assert stratified_split(image_set, 0.2, seed=3) == (train, val)
    assert stratified_split(image_set, 0.2, seed=4)[1] != val


def test_generated_sets_carry_the_marker(generated_set: Path) -> None:
    assert (generated_set / GENERATED_MARKER).exists()
    assert load_image_set(generated_set).generated


@pytest.mark.django_db
def test_a_tiny_model_learns_the_generated_patterns_and_is_registered_not_validated(
        models_dir: Path, generated_set: Path, capsys) -> None:
    call_command("train_classifier", task="skin-lesion", data=str(generated_set), arch=TINY_ARCH, epochs=6,
                 image_size=TINY_SIZE, val_fraction=0.25, seed=0, lr=1e-2, no_progress=True)
    record = ClassifierModel.objects.get(task="skin-lesion")
    assert record.metrics["split"] == "validation" and record.metrics["n"] == 24
    assert record.metrics["accuracy"] >= 0.6, record.metrics  # chance is 1/3; seeded runs reach about 0.9
    assert set(record.metrics["per_class"]) == set(CLASSES)
    assert sum(map(sum, record.metrics["confusion_matrix"])) == 24
    assert not record.validated and record.trained_on_generated_data
    folder = models_dir / "skin-lesion" / "v1"
    assert registry.file_sha256(folder / registry.WEIGHTS_NAME) == record.sha256
    assert json.loads((folder / registry.METADATA_NAME).read_text())["training_data"]["generated"] is True
    assert json.loads((folder / registry.METRICS_NAME).read_text())["accuracy"] == record.metrics["accuracy"]
    assert "can never be validated" in capsys.readouterr().out

    result = classify(draw("dots", random.Random(5)), "skin-lesion")
    assert result == NoValidatedModel("skin-lesion", "No validated model is installed for skin photos, so no "
                                      "automated reading was made; a clinician will look at the image.")


@pytest.mark.django_db
def test_install_refuses_to_validate_a_model_trained_on_generated_images(models_dir: Path, tmp_path: Path,
                                                                          admin) -> None:
    (tmp_path / "trained").mkdir()
    weights = write_model(tmp_path / "trained", generated=True)
    with pytest.raises(CommandError, match="generated images"):
        install(weights, held_out_metrics(tmp_path))
    assert not ClassifierModel.objects.filter(validated=True).exists()


@pytest.mark.django_db
def test_install_refuses_metrics_that_are_not_on_a_held_out_set_of_real_images(models_dir: Path, tmp_path: Path,
                                                                             admin) -> None:
    (tmp_path / "trained").mkdir()
    weights = write_model(tmp_path / "trained", generated=False)
    with pytest.raises(CommandError, match="held-out set"):
        install(weights, held_out_metrics(tmp_path, split="validation"))
    with pytest.raises(CommandError, match="generated images"):
        install(weights, held_out_metrics(tmp_path, generated=True))
    assert not ClassifierModel.objects.exists()


@pytest.mark.django_db
def test_only_an_administrator_may_install(models_dir: Path, tmp_path: Path) -> None:
    get_user_model().objects.create_user(username="carl", password="x", role="clinician")
    (tmp_path / "trained").mkdir()
    weights = write_model(tmp_path / "trained", generated=False)
    with pytest.raises(CommandError, match="not an administrator"):
        install(weights, held_out_metrics(tmp_path), user="carl")


@pytest.mark.django_db
def test_an_installed_validated_model_predicts_probabilities_with_its_version(models_dir: Path, tmp_path: Path,
                                                                             admin) -> None:
    for version in (1, 2):
        (tmp_path / f"v{version}").mkdir()
        install(write_model(tmp_path / f"v{version}", generated=False, seed=version), held_out_metrics(tmp_path))
    newest = ClassifierModel.objects.get(task="skin-lesion", version=2)
    assert newest.validated and newest.installed_by == admin and newest.metrics["n"] == 300
    assert (models_dir / newest.weights_path).is_file()  # copied under IMAGING_MODELS_DIR

    prediction = classify(Image.new("RGB", (80, 60), (200, 70, 60)), "skin-lesion")
    assert isinstance(prediction, Prediction)
    assert (prediction.version, prediction.sha256, prediction.architecture) == (2, newest.sha256, TINY_ARCH)
    assert sum(p for _, p in prediction.probabilities) == pytest.approx(1, abs=1e-4)
    assert [p for _, p in prediction.probabilities] == sorted((p for _, p in prediction.probabilities),
                                                              reverse=True)
    assert {name for name, _ in prediction.probabilities} == set(CLASSES)
    assert "not a diagnosis" in prediction.disclaimer
    assert isinstance(classify(Image.new("RGB", (64, 64)), "chest-xray"), NoValidatedModel)


@pytest.mark.django_db
def test_a_tampered_weights_file_is_refused(models_dir: Path, tmp_path: Path, admin) -> None:
    (tmp_path / "trained").mkdir()
    install(write_model(tmp_path / "trained", generated=False), held_out_metrics(tmp_path))
    record = ClassifierModel.objects.get()
    weights = models_dir / record.weights_path
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(registry.WeightsMismatch, match="sha256"):
        classify(Image.new("RGB", (64, 64)), "skin-lesion")


@pytest.mark.django_db
def test_the_prediction_is_a_valid_preliminary_unconfirmed_observation(models_dir: Path, tmp_path: Path,
                                                                       admin) -> None:
    (tmp_path / "trained").mkdir()
    install(write_model(tmp_path / "trained", generated=False), held_out_metrics(tmp_path))
    prediction = classify(Image.new("RGB", (64, 64), (60, 190, 80)), "skin-lesion")
    observation = validate_resource(as_observation(prediction, subject="Patient/p1", derived_from="Media/m1"),
                                    "Observation")
    assert observation["status"] == "preliminary" and confirmation_of(observation) == UNCONFIRMED
    assert observation["code"]["text"] == "Automated image classification (skin-lesion)"
    assert [c["code"]["text"] for c in observation["component"]] == [n for n, _ in prediction.probabilities]
    assert all(c["valueQuantity"]["unit"] == "1" for c in observation["component"])
    assert "v1" in observation["device"]["display"] and prediction.sha256 in observation["method"]["text"]
    assert "not a diagnosis" in observation["note"][0]["text"]


@pytest.mark.django_db
def test_evaluate_classifier_prints_metrics_and_inference_time_is_measured(models_dir: Path, tmp_path: Path,
                                                                         generated_set: Path, capsys) -> None:
    folder = models_dir / "skin-lesion" / "v1"
    folder.mkdir(parents=True)
    weights = write_model(folder, generated=True)
    registry.register({**registry.read_metadata(weights), "version": 1}, {}, weights)
    call_command("evaluate_classifier", task="skin-lesion", data=str(generated_set), output=str(tmp_path / "m.json"))
    out = capsys.readouterr().out
    assert "accuracy" in out and "precision" in out and "held-out, n=90, GENERATED images" in out
    written = json.loads((tmp_path / "m.json").read_text())
    assert written["n"] == 90 and written["generated"] is True and written["version"] == 1

    timing = inference_ms("skin-lesion", n=5)
    assert 0 < timing["p50_ms"] <= timing["p95_ms"] and timing["n"] == 5
