"""Evidence retrieval: query latency on both indexes at 10k and 100k passages, and ingestion rate.

    python -m bench.evidence [--sizes 10000,100000] [--queries 200] [--backends local,elasticsearch]

The corpus has 1,890 real passages; for the timing, larger indexes are the real passages repeated with new ids
and their vectors slightly perturbed (so kNN does real work and no two vectors are equal). Queries are the 99
evaluation questions, each embedded once beforehand (embedding is timed separately: it is the same for both
indexes). Elasticsearch runs on a private node started here with the JIT settings the tests use. Results are
kept per configuration in bench/results/evidence.json, so an interrupted run resumes where it stopped.
No assertions: it prints figures for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "evidence.json"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def scaled(passages, vectors: np.ndarray, size: int, seed: int = 7):
    """`size` passages: the real ones, then copies with new ids and perturbed, renormalised vectors."""
    rng = np.random.default_rng(seed)
    out_p, out_v = [], []
    copy = 0
    while len(out_p) < size:
        for p, v in zip(passages, vectors, strict=True):
            if len(out_p) >= size:
                break
            if copy == 0:
                out_p.append(p)
                out_v.append(v)
                continue
            noisy = v + rng.normal(0, 0.02, v.shape).astype(np.float32)
            out_p.append(dataclasses.replace(p, id=f"ev-{copy:03x}{p.id[6:]}"))
            out_v.append(noisy / np.linalg.norm(noisy))
        copy += 1
    return out_p, np.asarray(out_v, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="local,elasticsearch")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="continuum-bench-evidence-"))
    work.chmod(0o755)  # the Elasticsearch node runs as an unprivileged user and must reach its folder
    os.environ.update(CONTINUUM_VAR_DIR=str(work), DJANGO_SETTINGS_MODULE="webapp.settings")
    import django

    django.setup()
    from django.conf import settings

    from agent.evidence import search as search_module
    from agent.evidence.corpus import read_corpus
    from agent.evidence.embed import embed_passages, embed_query
    from agent.evidence.eval.retrieval import questions
    from agent.evidence.index_elasticsearch import ElasticsearchIndex
    from agent.evidence.index_local import LocalIndex
    from agent.evidence.search import search_evidence

    results = {} if args.fresh or not RESULTS.exists() else json.loads(RESULTS.read_text())

    def save() -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True))

    passages = list(read_corpus())
    cache = Path(settings.EVIDENCE_EMBEDDING_CACHE)
    vectors = embed_passages([p.indexed_text for p in passages], cache=cache)
    texts = [q["question"] for q in questions()]
    if "embedding" not in results:
        sample = [p.indexed_text for p in passages[:64]]
        started = time.perf_counter()
        embed_passages(sample)  # no cache: the real cost
        passage_rate = len(sample) / (time.perf_counter() - started)
        query_ms = []
        for text in texts[:50]:
            started = time.perf_counter()
            embed_query(text)
            query_ms.append((time.perf_counter() - started) * 1000)
        results["embedding"] = {"passages_per_s": round(passage_rate, 1),
                                "query_p50_ms": round(pct(query_ms, 0.5), 1),
                                "query_p95_ms": round(pct(query_ms, 0.95), 1)}
        save()
    print(f"embedding: {results['embedding']}")
    query_vectors = {t: embed_query(t) for t in texts}
    search_module.embed_query = lambda text: query_vectors[text]  # the indexes are timed, not the embedding

    node = None
    try:
        for backend in args.backends.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                key = f"{backend}-{size}"
                if key in results:
                    print(f"{key}: {results[key]} (kept)")
                    continue
                bench_passages, bench_vectors = scaled(passages, vectors, size)
                if backend == "local":
                    index = LocalIndex(work / f"local-{size}.sqlite3")
                else:
                    if node is None:
                        from scripts.elasticsearch_node import elasticsearch_url, start_elasticsearch
                        from scripts.stack import free_port

                        port = free_port()
                        node = start_elasticsearch(port, work / "elasticsearch")
                    index = ElasticsearchIndex(elasticsearch_url(port), f"bench-{size}", timeout=60)
                    index.drop()
                started = time.perf_counter()
                for start in range(0, size, 2000):
                    index.upsert(bench_passages[start:start + 2000], bench_vectors[start:start + 2000])
                index.optimize()  # as ingest_evidence does after loading
                write_rate = size / (time.perf_counter() - started)
                for text in texts[:10]:  # warm caches, matrices and JIT
                    search_evidence(text, k=5, index=index)
                row = {"index_passages_per_s": round(write_rate, 1)}
                for mode in ("lexical", "dense", "hybrid"):
                    times = []
                    for i in range(args.queries):
                        started = time.perf_counter()
                        search_evidence(texts[i % len(texts)], k=5, mode=mode, index=index)
                        times.append((time.perf_counter() - started) * 1000)
                    row[mode] = {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 0.95), 1)}
                results[key] = row
                save()
                print(f"{key}: {row}", flush=True)
                if backend == "elasticsearch":
                    index.drop()
    finally:
        if node is not None:
            node.stop()


if __name__ == "__main__":
    main()
