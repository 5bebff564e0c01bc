"""Start and stop a private single-node Elasticsearch on loopback.

    python -m scripts.elasticsearch_node [--port 9200] [--dir var/elasticsearch]

runs one in the foreground until Ctrl-C; the test services (scripts/with_test_services.py)
start one with ``start_elasticsearch``. The node is the distribution that
scripts/fetch_elasticsearch.py fetches, on the JDK that ``java`` on PATH belongs to (or
``ES_JAVA_HOME``), with a 512 MB heap, ``discovery.type=single-node``, security off
and its config, data and logs in the given folder.

Elasticsearch refuses to run as root; as root we run it as ``nobody``, the way
scripts/stack.py runs PostgreSQL as ``postgres``. ``nobody`` cannot enter ``/root``, so
the distribution is then hard-linked (copied across file systems) into the folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import fetch_elasticsearch  # noqa: E402
from scripts.stack import Service, StartError, free_port, http_ok, wait_until  # noqa: E402

RUN_AS = "nobody"  # when started by root
HEAP = "512m"
# Start-up is mostly JIT compilation: the C1 compiler alone and no heap pre-touch start the node in about half the
# time on two busy cores. A node for benchmarks would drop these.
QUICK_START = ("-XX:TieredStopAtLevel=1", "-XX:-AlwaysPreTouch")


def java_home() -> Path:
    """``ES_JAVA_HOME``, else the JDK of ``java`` on PATH (Debian's openjdk-17 from install_services.sh --test)."""
    if os.environ.get("ES_JAVA_HOME"):
        return Path(os.environ["ES_JAVA_HOME"])
    java = shutil.which("java")
    if not java:
        raise StartError("no Java for Elasticsearch: run scripts/setup.sh --test (or set ES_JAVA_HOME)")
    return Path(java).resolve().parent.parent


def _link_tree(source: Path, target: Path) -> None:
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link)


def start_elasticsearch(port: int, workdir: Path, wait: bool = True, timeout: float = 120) -> Service:
    """A private node on 127.0.0.1:``port`` with its state under ``workdir``; returns once the cluster is green
    (or at once with ``wait=False``: then call ``wait_for_elasticsearch``)."""
    if not fetch_elasticsearch.is_installed():
        raise StartError("Elasticsearch is not fetched: run scripts/setup.sh --test "
                         "(or python scripts/fetch_elasticsearch.py)")
    user = RUN_AS if os.geteuid() == 0 else None
    workdir.mkdir(parents=True, exist_ok=True)
    es_home = fetch_elasticsearch.home()
    if user:
        es_home = workdir / "home"
        if not es_home.exists():
            _link_tree(fetch_elasticsearch.home(), es_home)
    config = workdir / "config"
    if not config.exists():
        shutil.copytree(fetch_elasticsearch.home() / "config", config)
    for folder in ("data", "logs", "tmp"):
        (workdir / folder).mkdir(exist_ok=True)
    log_path = workdir / "elasticsearch.out"
    log_path.touch()
    if user:
        for path in (workdir, config, *config.rglob("*"), *(workdir / f for f in ("data", "logs", "tmp")), log_path):
            shutil.chown(path, user=user)
        if subprocess.run(["runuser", "-u", user, "--", "test", "-w", str(workdir)]).returncode != 0:
            raise StartError(f"elasticsearch: {workdir} is not reachable by {user} (a parent folder is private)")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ")}
    env.update(ES_JAVA_HOME=str(java_home()), ES_PATH_CONF=str(config), ES_TMPDIR=str(workdir / "tmp"),
               ES_JAVA_OPTS=" ".join((f"-Xms{HEAP}", f"-Xmx{HEAP}", *QUICK_START)), CLI_JAVA_OPTS=" ".join(QUICK_START),
               HOME=str(workdir))
    settings = {
        "cluster.name": "continuum",
        "node.name": "continuum",
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",
        "http.port": port,
        "transport.port": free_port(),
        "xpack.security.enabled": "false",
        "path.data": workdir / "data",
        "path.logs": workdir / "logs",
        # Never turn indices read-only because the (shared) disk is nearly full.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    }
    argv = [str(es_home / "bin" / "elasticsearch"), *(f"-E{k}={v}" for k, v in settings.items())]
    service = Service("elasticsearch", argv, env=env, user=user, cwd=workdir, log_path=log_path).start()
    if wait:
        wait_for_elasticsearch(service, port, timeout)
    return service


def wait_for_elasticsearch(service: Service, port: int, timeout: float = 120) -> None:
    """Until the node answers and its cluster is green (GET / is no use: the distribution has no root endpoint)."""
    wait_until(lambda: http_ok(f"{elasticsearch_url(port)}/_cluster/health?wait_for_status=green&timeout=1s"),
               timeout, "elasticsearch", service)


def elasticsearch_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONTINUUM_ELASTICSEARCH_PORT", "9200")))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("CONTINUUM_VAR_DIR", "var")) / "elasticsearch")
    args = parser.parse_args()
    fetch_elasticsearch.fetch()
    node = start_elasticsearch(args.port, args.dir.resolve())
    print(f"ELASTICSEARCH_URL={elasticsearch_url(args.port)}", flush=True)

    def stop(*_) -> None:
        node.stop(timeout=30)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    node.proc.wait()
    raise SystemExit(f"elasticsearch exited\n{node.log_tail()}")


if __name__ == "__main__":
    main()
