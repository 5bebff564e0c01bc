"""Fetch the official FHIR R4 example resources (npm package hl7.fhir.r4.examples) and check its sha256.

The tests load every official example of the types we store and read each back
(tests/test_fhir_official_examples.py). The examples are CC0, published by HL7 as
an npm package; we fetch its tarball once with ``npm pack`` (or, where npm is not
installed, the same tarball from the npm registry over HTTPS) and refuse it unless
its size and sha256 match the pinned values below.

Usage: python scripts/fetch_fhir_examples.py [--print-path]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackageSpec:
    name: str
    version: str
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}.tgz"

    @property
    def tarball_url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.filename}"


EXAMPLES = PackageSpec(
    name="hl7.fhir.r4.examples",
    version="4.0.1",
    size=18_849_311,
    sha256="dce87f1b5b9341867033f7d1f544fa1b5232503f6d62813887ac6b8a8b6cb682",
)


def fhir_cache_dir() -> Path:
    root = os.environ.get("CONTINUUM_CACHE_DIR") or Path.home() / ".cache" / "continuum"
    return Path(root) / "fhir"


def examples_path() -> Path:
    return fhir_cache_dir() / EXAMPLES.filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, spec: PackageSpec = EXAMPLES) -> bool:
    return path.exists() and path.stat().st_size == spec.size and sha256_of(path) == spec.sha256


def _download(spec: PackageSpec, into: Path) -> Path:
    npm = shutil.which("npm")
    if npm:
        subprocess.run([npm, "pack", f"{spec.name}@{spec.version}", "--pack-destination", str(into),
                        "--silent", "--ignore-scripts"], check=True, stdout=subprocess.DEVNULL)
        return into / spec.filename
    target = into / spec.filename
    with urllib.request.urlopen(spec.tarball_url, timeout=120) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)
    return target


def fetch() -> Path:
    target = examples_path()
    if is_valid(target):  # 19 MB: hashing it is quicker than any download
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        how = "npm pack" if shutil.which("npm") else EXAMPLES.tarball_url
        print(f"fetch_fhir_examples: downloading {EXAMPLES.filename} ({how})", file=sys.stderr)
        partial = _download(EXAMPLES, Path(tmp))
        if not is_valid(partial):
            raise SystemExit(f"fetch_fhir_examples: {EXAMPLES.filename} failed its size/sha256 check; refusing it")
        partial.replace(target)
    print(f"fetch_fhir_examples: {target} verified", file=sys.stderr)
    return target


def read_examples(path: Path, resource_types: frozenset[str] | None = None) -> Iterator[tuple[str, dict]]:
    """(file name, resource) for each example in the package, in file-name order; optionally of some types only.

    Files are named ``package/<Type>-<id>.json``; the name filters before any JSON is parsed.
    """
    with tarfile.open(path, "r:gz") as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile() and m.name.startswith("package/")
                          and m.name.endswith(".json")), key=lambda m: m.name)
        for member in members:
            name = member.name.removeprefix("package/")
            if resource_types is not None and name.split("-", 1)[0] not in resource_types:
                continue
            resource = json.load(archive.extractfile(member))
            if isinstance(resource, dict) and "resourceType" in resource:
                yield name, resource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-path", action="store_true", help="print the package file's path")
    args = parser.parse_args()
    path = fetch()
    if args.print_path:
        print(path)


if __name__ == "__main__":
    main()
