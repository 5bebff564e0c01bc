"""The Django project: settings, ASGI and Celery entry points, web-facing apps."""

import os

# numpy's OpenBLAS starts a thread per core and lets it spin after each product; the only products here are small
# (a query against the evidence vectors: 20 µs on one thread), and the spinning thread took a core from the turn's
# embedding and PostgreSQL: in-process turns on PostgreSQL were 2-6 ms faster at p50 and 5-11 ms at p95 (five
# alternating pairs) with one thread. Before numpy loads, so every Continuum process gets it; an operator's own
# setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from webapp.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
