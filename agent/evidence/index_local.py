"""The embedded evidence index (no ELASTICSEARCH_URL): one SQLite file with FTS5 for BM25 over the analysed
text and the passages' vectors, searched by a matrix product in memory. It is also the fallback when
Elasticsearch is down, and ingestion always fills it."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import numpy as np

from agent.evidence.corpus import Passage
from agent.evidence.embed import DIMENSIONS
from agent.evidence.index import EvidenceUnavailable, Filters
from agent.evidence.text import analysed

# A filtered lexical search ranks this many times k candidates before filtering (see lexical).
LEXICAL_POOL_FACTOR = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    n INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, content_hash TEXT NOT NULL, data TEXT NOT NULL,
    language TEXT NOT NULL, population TEXT NOT NULL, evidence_type TEXT NOT NULL, vector BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS passage_terms USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_matrices: dict[str, tuple[int, dict]] = {}  # path -> (generation, arrays): shared by the indexes of a process
_decoded: dict[tuple[str, int], dict[str, Passage]] = {}  # (path, generation) -> passages by id, as get() found them
DECODED_KEPT = 5000  # passages kept decoded per index (the whole real corpus is 1,890)
_matrix_lock = threading.Lock()


class LocalIndex:
    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self, create: bool = False) -> sqlite3.Connection:
        if not create and not self.path.exists():
            raise EvidenceUnavailable(f"the local evidence index {self.path} has not been built "
                                      "(run manage.py ingest_evidence)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        if create:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        return db

    def count(self) -> int:
        with self._connect(create=True) as db:
            return db.execute("SELECT count(*) FROM passages").fetchone()[0]

    def hashes(self) -> dict[str, str]:
        with self._connect(create=True) as db:
            return dict(db.execute("SELECT id, content_hash FROM passages").fetchall())

    def upsert(self, passages: list[Passage], vectors: np.ndarray) -> None:
        if not passages:
            return
        db = self._connect(create=True)
        try:
            with db:
                self._delete(db, [p.id for p in passages])
                for passage, vector in zip(passages, vectors, strict=True):
                    cursor = db.execute(
                        "INSERT INTO passages (id, content_hash, data, language, population, evidence_type, vector)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (passage.id, passage.content_hash, json.dumps(passage.to_dict()), passage.language,
                         "|" + "|".join(passage.population) + "|" if passage.population else "",
                         passage.evidence_type, np.asarray(vector, dtype=np.float32).tobytes()))
                    db.execute("INSERT INTO passage_terms (rowid, terms) VALUES (?, ?)",
                               (cursor.lastrowid, analysed(passage.indexed_text)))
                self._bump(db)
        finally:
            db.close()

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        db = self._connect(create=True)
        try:
            with db:
                self._delete(db, ids)
                self._bump(db)
        finally:
            db.close()

    @staticmethod
    def _delete(db: sqlite3.Connection, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            db.execute(f"DELETE FROM passage_terms WHERE rowid IN (SELECT n FROM passages WHERE id IN ({marks}))", part)
            db.execute(f"DELETE FROM passages WHERE id IN ({marks})", part)

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
                   "SET value = CAST(value AS INTEGER) + 1")

    def get(self, ids: list[str]) -> dict[str, Passage]:
        """Passages by id. Decoded ones are kept per index generation: decoding the forty or so candidates of a
        hybrid search cost more than the rest of the search (1.3 of 2 ms)."""
        if not ids:
            return {}
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            key = (str(self.path.resolve()), int(row[0]) if row else 0)
            with _matrix_lock:
                cache = _decoded.setdefault(key, {})
                found = {pid: cache[pid] for pid in ids if pid in cache}
            missing = [pid for pid in ids if pid not in found]
            if missing:
                rows = db.execute(f"SELECT data FROM passages WHERE id IN ({','.join('?' * len(missing))})",
                                  missing).fetchall()
                decoded = {p.id: p for p in (Passage.from_dict(json.loads(row[0])) for row in rows)}
                found.update(decoded)
                with _matrix_lock:
                    for stale in [k for k in _decoded if k[0] == key[0] and k != key]:
                        del _decoded[stale]  # the index changed: what was decoded before may be out of date
                    if len(cache) + len(decoded) > DECODED_KEPT:
                        cache.clear()
                    cache.update(decoded)
        return found

    def lexical(self, analysed_query: str, k: int, filters: Filters) -> list[tuple[str, float]]:
        terms = sorted(set(analysed_query.split()))
        if not terms:
            return []
        # Each term is quoted (and quotes doubled) so nothing in the patient's words is FTS5 syntax.
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        where, params = _where(filters)
        with self._connect() as db:
            # Rank in FTS5 alone first: a common-word query matches much of a large index, and joining every match
            # to its passage row (for the filters) costs more than scoring it. The first k of the best `pool` that
            # pass the filters are exactly the filtered top k; only when fewer than k pass is the join needed.
            pool = k * LEXICAL_POOL_FACTOR if where else k
            ranked = db.execute("SELECT rowid, bm25(passage_terms) AS score FROM passage_terms "
                                "WHERE passage_terms MATCH ? ORDER BY score LIMIT ?", [match, pool]).fetchall()
            if not ranked:
                return []
            marks = ",".join("?" * len(ranked))
            ids = dict(db.execute(f"SELECT p.n, p.id FROM passages p WHERE p.n IN ({marks}){where}",
                                  [n for n, _ in ranked] + params).fetchall())
            found = [(ids[n], -float(score)) for n, score in ranked if n in ids][:k]
            if len(found) == k or len(ranked) < pool:
                return found
            sql = ("SELECT p.id, -bm25(passage_terms) FROM passage_terms JOIN passages p ON p.n = passage_terms.rowid "
                   f"WHERE passage_terms MATCH ?{where} ORDER BY bm25(passage_terms) LIMIT ?")
            return [(row[0], float(row[1])) for row in db.execute(sql, [match, *params, k]).fetchall()]

    def hybrid(self, analysed_query: str, vector: np.ndarray, k: int, filters: Filters
               ) -> tuple[list[tuple[str, float]], list[tuple[str, float]], dict[str, Passage]]:
        lexical, dense = self.lexical(analysed_query, k, filters), self.dense(vector, k, filters)
        return lexical, dense, self.get(list(dict.fromkeys(pid for pid, _ in lexical + dense)))

    def optimize(self) -> None:
        with self._connect() as db:  # merge FTS5's b-trees into one after a bulk load
            db.execute("INSERT INTO passage_terms(passage_terms) VALUES ('optimize')")

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[str, float]]:
        arrays = self._arrays()
        if not len(arrays["ids"]):
            return []
        scores = arrays["vectors"] @ np.asarray(vector, dtype=np.float32)
        mask = _mask(arrays, filters)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(arrays["ids"][i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _arrays(self) -> dict:
        """The vectors and filter columns, loaded once per change of the index (the generation counter)."""
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            generation = int(row[0]) if row else 0
            key = str(self.path.resolve())
            with _matrix_lock:
                cached = _matrices.get(key)
                if cached and cached[0] == generation:
                    return cached[1]
            rows = db.execute("SELECT id, vector, language, population, evidence_type FROM passages "
                              "ORDER BY n").fetchall()
        arrays = {
            "ids": [r[0] for r in rows],
            "vectors": (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), DIMENSIONS)
                        if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)),
            "language": np.array([r[2] for r in rows], dtype=object),
            "population": np.array([r[3] for r in rows], dtype=object),
            "evidence_type": np.array([r[4] for r in rows], dtype=object),
        }
        with _matrix_lock:
            _matrices[key] = (generation, arrays)
        return arrays


def _where(filters: Filters) -> tuple[str, list]:
    sql, params = "", []
    if filters.language:
        sql += " AND p.language = ?"
        params.append(filters.language)
    if filters.population:
        sql += " AND (p.population = '' OR p.population LIKE ?)"
        params.append(f"%|{filters.population}|%")
    if filters.evidence_types:
        sql += f" AND p.evidence_type IN ({','.join('?' * len(filters.evidence_types))})"
        params.extend(filters.evidence_types)
    return sql, params


def _mask(arrays: dict, filters: Filters) -> np.ndarray | None:
    mask = None

    def both(m: np.ndarray) -> np.ndarray:
        return m if mask is None else (mask & m)

    if filters.language:
        mask = both(arrays["language"] == filters.language)
    if filters.population:
        needle = f"|{filters.population}|"
        mask = both(np.array([p == "" or needle in p for p in arrays["population"]], dtype=bool))
    if filters.evidence_types:
        mask = both(np.isin(arrays["evidence_type"], list(filters.evidence_types)))
    return mask
