"""Start and stop Continuum's processes: Redis, PostgreSQL, the model server,
the Celery worker and the ASGI server.

The run command (``scripts/run.sh`` -> ``python -m scripts.stack run``) and the
tests use these same functions, so what the tests start is what users run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class StartError(RuntimeError):
    pass


@dataclass
class Service:
    """A child process in its own process group, with its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    log_path: Path | None = None
    cwd: Path = ROOT
    user: str | None = None  # run as this user (PostgreSQL refuses root)
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Service:
        argv = self.argv
        if self.user and os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, as far as anyone can tell."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""


def wait_until(check: Callable[[], bool], timeout: float, what: str, service: Service | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and not service.alive:
            raise StartError(f"{what}: process exited\n{service.log_tail()}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise StartError(f"{what}: not ready after {timeout:.0f}s\n{service.log_tail() if service else ''}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --- Redis -----------------------------------------------------------------

def start_redis(port: int, workdir: Path) -> Service:
    """A private Redis with no persistence: a restart loses its queue, as a crash would."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    workdir.mkdir(parents=True, exist_ok=True)
    service = Service("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes"],
                      log_path=workdir / "redis.log").start()
    wait_until(lambda: port_open(port), 15, "redis", service)
    return service


# --- PostgreSQL ------------------------------------------------------------

def postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise StartError("PostgreSQL is not installed (scripts/install_services.sh installs it)")
    return str(found[-1])


def start_postgres(port: int, datadir: Path) -> Service:
    """A private cluster on loopback with trust auth, for tests and local runs."""
    user = "postgres" if os.geteuid() == 0 else None
    if not (datadir / "PG_VERSION").exists():
        datadir.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(datadir, user=user, group=user)
        argv = [postgres_bin("initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd="/")
    service = Service("postgres", [postgres_bin("postgres"), "-D", str(datadir), "-p", str(port), "-k", str(datadir),
                                   "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                   "-c", "max_connections=200"],
                      user=user, cwd=Path("/"), log_path=datadir.parent / f"postgres-{port}.log")
    if user and service.log_path:
        service.log_path.touch()
        shutil.chown(service.log_path, user=user, group=user)
    service.start()
    wait_until(lambda: port_open(port), 30, "postgres", service)
    return service


def create_database(port: int, name: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- The model server --------------------------------------------------------

def start_model_server(model_file: Path, port: int, alias: str, log_path: Path,
                       extra: list[str] | None = None) -> Service:
    """llama.cpp's OpenAI-compatible server on the CPU: the embedded default model backend."""
    argv = [PYTHON, "-m", "llama_cpp.server", "--model", str(model_file), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2),
            "--model_alias", alias, *(extra or [])]
    # llama_cpp.server also reads settings such as PORT, HOST and MODEL from the
    # environment, and they win over its flags: give it a clean one.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LD_LIBRARY_PATH", "TMPDIR")}
    service = Service("model", argv, env=env, log_path=log_path).start()
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/v1/models"), 120, "model server", service)
    return service


# --- Django processes ----------------------------------------------------------

def django_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "webapp.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def start_worker(env: dict[str, str], log_path: Path, name: str = "turns", concurrency: int = 2,
                 beat: bool = True, pool: str = "prefork", queue: str = "turns") -> Service:
    """A real Celery worker process (prefork unless told) on one queue: `turns` (agent turns) or `perception`
    (reading uploads). With beat, it also runs the reconcilers."""
    argv = [PYTHON, "-m", "celery", "-A", "webapp", "worker", "-Q", queue, "-c", str(concurrency), "-P", pool,
            "--loglevel", "INFO", "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        schedule = Path(env.get("CONTINUUM_VAR_DIR", ROOT / "var")) / f"celerybeat-{name}"
        argv += ["-B", "--schedule", str(schedule)]
    service = Service(f"worker-{name}", argv, env=env, log_path=log_path).start()
    wait_until(lambda: b"ready." in log_path.read_bytes(), 60, "celery worker", service)
    return service


def start_web(env: dict[str, str], port: int, log_path: Path, host: str = "127.0.0.1") -> Service:
    """The ASGI server: pages, static files and websockets in one process."""
    argv = [PYTHON, "-m", "uvicorn", "webapp.asgi:application", "--host", host, "--port", str(port),
            "--ws", "websockets", "--lifespan", "off", "--no-access-log", "--timeout-graceful-shutdown", "5"]
    service = Service("web", argv, env=env, log_path=log_path).start()
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60, "web server", service)
    return service


# --- The run command ---------------------------------------------------------------

def run(host: str, port: int, elasticsearch: bool = False) -> None:
    """Everything on one machine, on embedded defaults unless the environment says otherwise. With
    `elasticsearch`, a local Elasticsearch node (scripts/elasticsearch_node.py) serves evidence retrieval."""
    sys.path.insert(0, str(ROOT))
    from scripts.fetch_model import fetch

    var = Path(os.environ.get("CONTINUUM_VAR_DIR", ROOT / "var"))
    logs = var / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = django_env()
    services: list[Service] = []
    restartable: dict[str, Callable[[], Service]] = {}

    def stop_all(*_):
        for service in reversed(services):
            service.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    try:
        if not os.environ.get("REDIS_URL"):
            redis_port = int(os.environ.get("CONTINUUM_REDIS_PORT", "6390"))
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            restartable["redis"] = lambda: start_redis(redis_port, var / "redis")
            services.append(restartable["redis"]())
            print(f"redis       private, {env['REDIS_URL']}")
        if not os.environ.get("MODEL_BASE_URL"):
            model_port = int(os.environ.get("LOCAL_MODEL_PORT", "8011"))
            model_file = fetch(os.environ.get("LOCAL_MODEL", "default"))
            alias = os.environ.get("MODEL_NAME", "continuum-local")
            restartable["model"] = lambda: start_model_server(model_file, model_port, alias, logs / "model.log")
            print(f"model       starting llama.cpp server with {model_file.name} ...")
            services.append(restartable["model"]())
            print(f"model       http://127.0.0.1:{model_port}/v1 ({alias})")
        if elasticsearch and not os.environ.get("ELASTICSEARCH_URL"):
            from scripts.elasticsearch_node import elasticsearch_url, start_elasticsearch

            es_port = int(os.environ.get("CONTINUUM_ELASTICSEARCH_PORT", "9200"))
            print("elasticsearch starting a local node ...")
            services.append(start_elasticsearch(es_port, var / "elasticsearch"))
            env["ELASTICSEARCH_URL"] = elasticsearch_url(es_port)
            print(f"elasticsearch {env['ELASTICSEARCH_URL']}")
        manage("migrate", "--noinput", "-v", "0", env=env)
        # The evidence indexes: built on first start (minutes on 2 cores), then only what changed (seconds).
        manage("ingest_evidence", env=env)
        if os.environ.get("CONTINUUM_SEED_DEMO", "True") == "True":
            manage("seed_demo_users", env=env)
        restartable["worker"] = lambda: start_worker(env, logs / "worker.log")
        services.append(restartable["worker"]())
        # Perception has its own worker: one process, so OCR and imaging models load once and a long document
        # never holds up a chat turn.
        restartable["worker-perception"] = lambda: start_worker(env, logs / "perception.log", name="perception",
                                                                concurrency=1, beat=False, queue="perception")
        services.append(restartable["worker-perception"]())
        restartable["web"] = lambda: start_web(env, port, logs / "web.log", host=host)
        services.append(restartable["web"]())
    except Exception:
        for service in reversed(services):
            service.stop()
        raise
    print(f"\nContinuum is running at http://{host}:{port}/  (logs in {logs}; Ctrl-C stops everything)")
    print("Demo logins (password continuum-demo): alice, bob (patients); carol, dave (clinicians); root (admin)")
    sys.stdout.flush()
    # Supervise: a process that dies is restarted; the reconciler finishes its turns.
    while True:
        time.sleep(1)
        for i, service in enumerate(services):
            if not service.alive:
                key = max((k for k in restartable if service.name.startswith(k)), key=len)
                print(f"{service.name} exited ({service.proc.returncode}); restarting", file=sys.stderr)
                try:
                    services[i] = restartable[key]()
                except StartError as exc:
                    print(exc, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description="Continuum's process supervisor")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the whole system on this machine")
    run_parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run_parser.add_argument("--elasticsearch", action="store_true",
                            help="start a local Elasticsearch node for evidence retrieval (else the embedded index)")
    args = parser.parse_args()
    if args.command == "run":
        run(args.host, args.port, args.elasticsearch)


if __name__ == "__main__":
    main()
