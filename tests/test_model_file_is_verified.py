"""A model file is used only if its size and sha256 match the pinned values."""

import hashlib

from scripts.fetch_model import MODELS, ModelSpec, is_valid


def test_a_tampered_file_is_refused(tmp_path):
    good = b"weights" * 100
    spec = ModelSpec("m.gguf", "p{n}", "p{n}", "1", 1, len(good), hashlib.sha256(good).hexdigest())
    path = tmp_path / "m.gguf"
    path.write_bytes(good)
    assert is_valid(path, spec)
    path.write_bytes(good[:-1] + b"X")
    assert not is_valid(path, spec)
    path.write_bytes(good + b"extra")
    assert not is_valid(path, spec)


def test_the_pinned_models_have_full_hashes():
    for spec in MODELS.values():
        assert len(spec.sha256) == 64 and spec.size > 100_000_000
