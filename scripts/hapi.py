"""A real HAPI FHIR JPA R4 server beside Continuum's own: for the EHR-sync tests and the side-by-side benchmark.

    python -m scripts.hapi [--port 8090] [--dir var/hapi]     # its database in DIR/db, its log in DIR/hapi.log

runs one in the foreground until Ctrl-C. The server is scripts/hapi/ (a small Java app on
hapi-fhir-jpaserver-base, H2 in a file, Jetty), built by Maven from Maven Central into one jar,
var/hapi/build/continuum-hapi.jar. ``build()`` runs Maven only when a source is newer than the jar; the first
build downloads about 300 MB into ~/.m2. ``start_hapi`` returns the same ``Service`` as scripts/stack.py's
starters, once GET /fhir/metadata answers 200. No authentication: loopback only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.stack import ROOT, Service, StartError, http_ok, wait_until  # noqa: E402

SOURCE = ROOT / "scripts" / "hapi"
JAR = ROOT / "var" / "hapi" / "build" / "continuum-hapi.jar"  # pom.xml puts Maven's build folder under var/
HEAP = "1g"
STARTUP_TIMEOUT = 300  # about 40 s on an idle 2-core machine, the first start (schema creation) the longest


def _newest_source() -> float:
    files = [SOURCE / "pom.xml", *(p for p in (SOURCE / "src").rglob("*") if p.is_file())]
    return max(p.stat().st_mtime for p in files)


def build(force: bool = False) -> Path:
    """The server's jar, built with Maven when missing or older than its sources."""
    if JAR.exists() and not force and JAR.stat().st_mtime >= _newest_source():
        return JAR
    mvn = shutil.which("mvn")
    if not mvn:
        raise StartError("HAPI FHIR: Maven (mvn) is not installed; it builds scripts/hapi/ (Debian package maven)")
    log = ROOT / "var" / "hapi" / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log, "wb") as out:
        done = subprocess.run([mvn, "-q", "-B", "-f", str(SOURCE / "pom.xml"), "package"], cwd=ROOT,
                              stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0 or not JAR.exists():
        raise StartError(f"HAPI FHIR: the Maven build failed (log {log}):\n{log.read_text(errors='replace')[-3000:]}")
    print(f"hapi: built {JAR.relative_to(ROOT)} in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return JAR


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise StartError("HAPI FHIR: no Java 17 (java) on PATH: scripts/install_services.sh --test installs one")
    return found


def fhir_base(port: int) -> str:
    return f"http://127.0.0.1:{port}/fhir"


def start_hapi(port: int, workdir: Path, timeout: float = STARTUP_TIMEOUT) -> Service:
    """A HAPI FHIR server on 127.0.0.1:``port`` (base ``fhir_base(port)``), its H2 database in ``workdir``/db
    (kept between starts), its log in ``workdir``/hapi.log."""
    jar = build()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ", "JAVA_HOME")}
    env["HOME"] = str(workdir)
    argv = [java(), f"-Xmx{HEAP}", "-jar", str(jar), "--port", str(port), "--db", str(workdir / "db")]
    service = Service("hapi", argv, env=env, cwd=workdir, log_path=workdir / "hapi.log").start()
    try:
        wait_until(lambda: http_ok(f"{fhir_base(port)}/metadata"), timeout, "HAPI FHIR", service)
    except BaseException:  # not ready, or interrupted: leave no JVM behind
        service.stop()
        raise
    return service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HAPI_PORT", "8090")))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("CONTINUUM_VAR_DIR", ROOT / "var")) / "hapi",
                        help="where its database and log live (default var/hapi)")
    parser.add_argument("--build-only", action="store_true", help="build the jar and stop")
    args = parser.parse_args()
    if args.build_only:
        print(build())
        return
    def interrupt(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stop the server too (it runs in its own process group)
    t0 = time.monotonic()
    service = start_hapi(args.port, args.dir.resolve())
    print(f"HAPI FHIR is serving {fhir_base(args.port)} (started in {time.monotonic() - t0:.0f} s; "
          f"log {args.dir / 'hapi.log'}; Ctrl-C stops it)", flush=True)
    try:
        while service.alive:
            time.sleep(1)
        raise SystemExit(f"HAPI FHIR exited ({service.proc.returncode}):\n{service.log_tail()}")
    except KeyboardInterrupt:
        service.stop()


if __name__ == "__main__":
    main()
