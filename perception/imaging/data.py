"""Folder-per-class image sets: listing, the stratified split, tensors, and where the images came from."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms

# synthetic.py writes this file into every set it generates; its presence makes the set "generated".
GENERATED_MARKER = "GENERATED"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
# ImageNet statistics: the convention timm models are built around, recorded in each model's metadata.
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int


@dataclass(frozen=True)
class ImageSet:
    root: Path
    classes: list[str]
    samples: list[Sample]

    @property
    def generated(self) -> bool:
        return is_generated(self.root)

    def counts(self, samples: list[Sample] | None = None) -> dict[str, int]:
        counts = dict.fromkeys(self.classes, 0)
        for sample in self.samples if samples is None else samples:
            counts[self.classes[sample.label]] += 1
        return counts


def is_generated(root: Path) -> bool:
    return (Path(root) / GENERATED_MARKER).exists()


def load_image_set(root: Path, classes: list[str] | None = None) -> ImageSet:
    """root/<class>/*.png|jpg; with ``classes`` (a trained model's), labels follow that order and an unknown
    class folder is an error, so that evaluation never silently scores the wrong labels."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    found = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if classes is None:
        classes = found
    elif unknown := sorted(set(found) - set(classes)):
        raise ValueError(f"{root} has classes the model does not know: {', '.join(unknown)}")
    if len(classes) < 2:
        raise ValueError(f"{root} needs at least two class folders, found {found}")
    samples = [Sample(path, label) for label, name in enumerate(classes) if (root / name).is_dir()
               for path in sorted((root / name).iterdir()) if path.suffix.lower() in IMAGE_SUFFIXES]
    if not samples:
        raise ValueError(f"{root} holds no images")
    return ImageSet(root, list(classes), samples)


def stratified_split(image_set: ImageSet, val_fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Each class split in the same proportion, the same way for the same seed (every class keeps at least one
    training image and, where it has two, one validation image)."""
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be between 0 and 1")
    rng = random.Random(seed)
    train, val = [], []
    for label in range(len(image_set.classes)):
        members = [s for s in image_set.samples if s.label == label]
        rng.shuffle(members)
        n_val = min(len(members) - 1, max(1, round(len(members) * val_fraction))) if len(members) > 1 else 0
        val += members[:n_val]
        train += members[n_val:]
    return train, val


def preprocess(image_size: int, augment: bool = False) -> transforms.Compose:
    steps: list = [transforms.Resize((image_size, image_size))]
    if augment:
        steps.append(transforms.RandomHorizontalFlip())
    return transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(MEAN, STD)])


def to_tensor(image: Image.Image, image_size: int) -> torch.Tensor:
    """One image as a batch of one, as the model saw its training images."""
    return preprocess(image_size)(image.convert("RGB")).unsqueeze(0)


class Images(Dataset):
    def __init__(self, samples: list[Sample], image_size: int, augment: bool = False) -> None:
        self.samples = samples
        self.transform = preprocess(image_size, augment)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        sample = self.samples[index]
        with Image.open(sample.path) as image:
            return self.transform(image.convert("RGB")), sample.label
