"""Start a private PostgreSQL and Redis, run a command against them, stop them.

    python -m scripts.with_test_services -- pytest ...

The command gets DATABASE_URL and REDIS_URL pointing at the two services; the
exit code is the command's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    pg_port, redis_port = free_port(), free_port()
    postgres = start_postgres(pg_port, work / "pg")
    redis = start_redis(redis_port, work / "redis")
    try:
        create_database(pg_port, "continuum")
        env = dict(os.environ,
                   DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg_port}/continuum",
                   REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                   CONTINUUM_TEST_REDIS_PORT=str(redis_port))
        print(f"test services: PostgreSQL on {pg_port}, Redis on {redis_port}", flush=True)
        return subprocess.run(argv, cwd=ROOT, env=env).returncode
    finally:
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
