"""Settings come from the environment, fail loudly on bad values, and are all documented."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp import settings as continuum_settings

ROOT = Path(__file__).resolve().parent.parent


def test_envbool_refuses_anything_but_true_or_false(monkeypatch):
    monkeypatch.setenv("CONTINUUM_X", "yes")
    with pytest.raises(ImproperlyConfigured, match="CONTINUUM_X must be True or False"):
        continuum_settings.envbool("CONTINUUM_X", False)


def test_envint_refuses_words(monkeypatch):
    monkeypatch.setenv("CONTINUUM_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="must be an integer"):
        continuum_settings.envint("CONTINUUM_N", 1)


def test_envsecret_reads_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("SOME_KEY_FILE", str(secret))
    assert continuum_settings.envsecret("SOME_KEY", "") == "s3cret"


def settings_in(env: dict[str, str], expression: str) -> str:
    code = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='webapp.settings'; " \
           f"from django.conf import settings; print({expression})"
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MODEL_BASE_URL")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_embedded_defaults_are_sqlite_private_redis_and_local_model(tmp_path):
    env = {"CONTINUUM_VAR_DIR": str(tmp_path)}
    assert settings_in(env, "settings.DATABASES['default']['ENGINE']") == "django.db.backends.sqlite3"
    assert settings_in(env, "settings.CELERY_BROKER_URL") == "redis://127.0.0.1:6390/0"
    assert settings_in(env, "settings.MODEL_BASE_URL") == "http://127.0.0.1:8011/v1"


def test_production_switches(tmp_path):
    env = {"CONTINUUM_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgres://u:p@db.example:5432/c",
           "REDIS_URL": "redis://cache.example:6379/2", "MODEL_BASE_URL": "http://vllm.example:8000/v1",
           "MODEL_NAME": "Qwen/Qwen3-8B"}
    assert settings_in(env, "settings.DATABASES['default']['ENGINE']") == "django.db.backends.postgresql"
    assert settings_in(env, "settings.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address']") == env["REDIS_URL"]
    assert settings_in(env, "settings.MODEL_NAME") == "Qwen/Qwen3-8B"


def test_every_variable_is_in_the_settings_table():
    table = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", table, flags=re.M))
    read = set(settings_in({}, "','.join(sorted(__import__('webapp.settings').settings.ENV_NAMES))").split(","))
    missing = read - documented
    assert not missing, f"document these in docs/settings.md: {sorted(missing)}"
    # Read by the run command's scripts, or (OPENBLAS_NUM_THREADS) by numpy's OpenBLAS, which webapp/__init__.py sets.
    stale = documented - read - {"HOST", "PORT", "CONTINUUM_REDIS_PORT", "CONTINUUM_CACHE_DIR", "CONTINUUM_SEED_DEMO",
                                 "OPENBLAS_NUM_THREADS"}
    assert not stale, f"docs/settings.md lists variables nothing reads: {sorted(stale)}"
