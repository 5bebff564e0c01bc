"""Start a private PostgreSQL, Redis and Elasticsearch, run a command against them, stop them.

    python -m scripts.with_test_services -- pytest ...

The command gets DATABASE_URL and REDIS_URL pointing at the first two, and
CONTINUUM_TEST_ELASTICSEARCH_URL at the node: not ELASTICSEARCH_URL, so the system
under test keeps its embedded evidence index unless a test switches it (the
evidence tests run both backends). The exit code is the command's. CONTINUUM_TEST_ELASTICSEARCH=0
leaves Elasticsearch out (about 15 s saved; tests that need it then fail).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.elasticsearch_node import elasticsearch_url, start_elasticsearch, wait_for_elasticsearch
from scripts.stack import ROOT, create_database, free_port, start_postgres, start_redis


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: python -m scripts.with_test_services -- COMMAND ...")
    work = Path(os.environ.get("CONTINUUM_TEST_SERVICES_DIR", "/tmp/continuum-test-services"))
    shutil.rmtree(work, ignore_errors=True)  # a clean cluster each run
    work.mkdir(parents=True)
    work.chmod(0o755)
    pg_port, redis_port, es_port = free_port(), free_port(), free_port()
    with_elasticsearch = os.environ.get("CONTINUUM_TEST_ELASTICSEARCH", "1") != "0"
    # Elasticsearch starts slowest: launch it first and wait for it after the others.
    elastic = start_elasticsearch(es_port, work / "elasticsearch", wait=False) if with_elasticsearch else None
    services = [elastic] if elastic else []
    try:
        services.append(start_postgres(pg_port, work / "pg"))
        services.append(start_redis(redis_port, work / "redis"))
        create_database(pg_port, "continuum")
        env = dict(os.environ,
                   DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg_port}/continuum",
                   REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                   CONTINUUM_TEST_REDIS_PORT=str(redis_port))
        env.pop("ELASTICSEARCH_URL", None)
        env.pop("CONTINUUM_TEST_ELASTICSEARCH_URL", None)
        if elastic:
            wait_for_elasticsearch(elastic, es_port)
            env["CONTINUUM_TEST_ELASTICSEARCH_URL"] = elasticsearch_url(es_port)
        print(f"test services: PostgreSQL on {pg_port}, Redis on {redis_port}, "
              f"Elasticsearch {f'on {es_port}' if elastic else 'left out'}", flush=True)
        return subprocess.run(argv, cwd=ROOT, env=env).returncode
    finally:
        for service in reversed(services):
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
