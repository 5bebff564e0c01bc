"""Continuum's processes run numpy's OpenBLAS on one thread (webapp/__init__.py): its products here are small, and
a second thread spinning after each one took a core from the turn's embedding and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

THREADS = """
import ctypes, glob, os
import webapp  # what uvicorn (webapp.asgi), Celery (-A webapp) and manage.py import first
import numpy
found = glob.glob(os.path.join(os.path.dirname(numpy.__file__) + ".libs", "libscipy_openblas*.so"))
lib = ctypes.CDLL(found[0])
print(lib.scipy_openblas_get_num_threads64_())
"""


def blas_threads(env_value: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if env_value is not None:
        env["OPENBLAS_NUM_THREADS"] = env_value
    out = subprocess.run([sys.executable, "-c", THREADS], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenBLAS uses one thread anyway")
def test_one_thread_unless_the_operator_says_otherwise():
    assert blas_threads(None) == 1
    assert blas_threads("2") == 2
