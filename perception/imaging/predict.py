"""classify(): class probabilities from the newest validated model for a task, or a plain refusal.

A Prediction is an automated reading for a clinician to review, never a diagnosis; as FHIR it is a
preliminary Observation tagged unconfirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image

from fhir.release import UNCONFIRMED, with_confirmation
from perception.imaging import registry
from perception.imaging.data import to_tensor

DISCLAIMER = ("Automated image classification for clinician review; it is not a diagnosis. The probabilities say "
              "how closely the image resembles the model's training classes, nothing more.")


@dataclass(frozen=True)
class Prediction:
    task: str
    architecture: str
    version: int
    sha256: str
    probabilities: list[tuple[str, float]]  # most probable first
    disclaimer: str = DISCLAIMER

    @property
    def top(self) -> tuple[str, float]:
        return self.probabilities[0]


@dataclass(frozen=True)
class NoValidatedModel:
    task: str
    message: str


def no_model_message(task: str) -> str:
    return (f"No validated model is installed for {registry.task_subject(task)}, so no automated reading was made; "
            "a clinician will look at the image.")


def classify(image: Image.Image, task: str) -> Prediction | NoValidatedModel:
    record = registry.newest_validated(task)
    if record is None:
        return NoValidatedModel(task, no_model_message(task))
    model = registry.load(record)  # WeightsMismatch propagates: a tampered model must fail loudly, not quietly
    with torch.inference_mode():
        probabilities = model(to_tensor(image, record.image_size)).softmax(dim=1)[0].tolist()
    ranked = sorted(zip(record.classes, probabilities, strict=True), key=lambda pair: -pair[1])
    return Prediction(record.task, record.architecture, record.version, record.sha256,
                      [(name, round(p, 6)) for name, p in ranked])


def as_observation(prediction: Prediction, subject: str | None = None, derived_from: str | None = None) -> dict:
    """A preliminary, unconfirmed Observation with one component per class (probability, unit "1")."""
    model = f"{prediction.architecture} {prediction.task} classifier v{prediction.version}"
    resource: dict = {
        "resourceType": "Observation",
        "status": "preliminary",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "imaging", "display": "Imaging"}]}],
        "code": {"text": f"Automated image classification ({prediction.task})"},
        "method": {"text": f"{model} (timm; weights sha256 {prediction.sha256})"},
        "device": {"display": model},
        "component": [{"code": {"text": name},
                       "valueQuantity": {"value": probability, "unit": "1", "system": "http://unitsofmeasure.org",
                                         "code": "1"}}
                      for name, probability in prediction.probabilities],
        "note": [{"text": prediction.disclaimer + " Needs review by a clinician before anyone acts on it."}],
    }
    if subject:
        resource["subject"] = {"reference": subject}
    if derived_from:
        resource["derivedFrom"] = [{"reference": derived_from}]
    return with_confirmation(resource, UNCONFIRMED)
