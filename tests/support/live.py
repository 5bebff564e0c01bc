"""Live stacks for end-to-end tests: a real ASGI server and Celery worker on the
test database, each stack on its own Redis database (or its own Redis)."""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from scripts.stack import Service, free_port, start_redis, start_web, start_worker

# Fast clocks so fault tests finish in seconds (production defaults are in settings.py).
FAST_TURNS = {
    "TURN_STALL_SECONDS": "3",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "TURN_RETRY_MAX_SECONDS": "2",
    "MODEL_MAX_RETRIES": "0",
    "MODEL_TIMEOUT_SECONDS": "60",
}
_redis_dbs = itertools.count(1)


def database_env() -> dict[str, str]:
    """Point child processes at the database this test session uses."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(s["NAME"])}
    return {"DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"}


@dataclass
class LiveStack:
    model_url: str
    own_redis: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="continuum-live-")))
    services: dict[str, Service] = field(default_factory=dict)
    redis_port: int = 0
    web_port: int = 0

    def start(self, worker: bool = True) -> LiveStack:
        if self.own_redis:
            self.redis_port = free_port()
            self.services["redis"] = start_redis(self.redis_port, self.workdir / "redis")
            redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        else:
            base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
            redis_url = f"{base}/{next(_redis_dbs) % 16}"
        self.env = dict(os.environ, **database_env(), **FAST_TURNS, REDIS_URL=redis_url,
                        MODEL_BASE_URL=self.model_url, CONTINUUM_VAR_DIR=str(self.workdir),
                        DJANGO_SETTINGS_MODULE="webapp.settings", PYTHONUNBUFFERED="1", **self.extra_env)
        self.web_port = free_port()
        self.services["web"] = start_web(self.env, self.web_port, self.workdir / "web.log")
        if worker:
            self.start_worker()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_worker(self, name: str = "w1", concurrency: int = 2) -> Service:
        service = start_worker(self.env, self.workdir / f"worker-{name}.log", name=name, concurrency=concurrency)
        self.services[f"worker-{name}"] = service
        return service

    def start_perception_worker(self, name: str = "p1", concurrency: int = 1) -> Service:
        """A worker on the `perception` queue only (uploads), as the run command starts one."""
        service = start_worker(self.env, self.workdir / f"perception-{name}.log", name=name,
                               concurrency=concurrency, beat=False, queue="perception")
        self.services[f"perception-{name}"] = service
        return service

    def restart_redis(self) -> None:
        """Kill Redis and start an empty one on the same port: its queue is lost."""
        self.services["redis"].kill()
        self.services["redis"] = start_redis(self.redis_port, self.workdir / "redis")

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{s.log_tail(4000)}" for name, s in self.services.items())

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
