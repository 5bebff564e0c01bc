"""How an evaluation command runs (simulate, evaluate_memory, grade, make_rubrics): its model clients (any
OpenAI-compatible server, the configured one, or the default CPU model started for the run) and a database of its
own, so simulated patients never enter the clinic's record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from agent.model.client import ModelClient, ModelConfig, TimedClient, default_client

CHILD = "CONTINUUM_SIMULATION_CHILD"


def served_model(base_url: str, timeout: float = 5.0) -> str | None:
    """The first model a server lists at /models, or None when it does not answer."""
    try:
        answer = httpx.get(base_url.rstrip("/") + "/models", timeout=timeout)
        answer.raise_for_status()
        models = answer.json().get("data") or []
        return str(models[0]["id"]) if models else ""
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        return None


def client_for(url: str, name: str, max_tokens: int) -> ModelClient:
    """A client for any OpenAI-compatible server (vLLM, llama.cpp); the model name is asked of the server."""
    listed = served_model(url)
    if listed is None:
        raise CommandError(f"the model server at {url} does not answer (GET {url.rstrip('/')}/models failed)")
    base = ModelConfig.from_settings()
    return ModelClient(ModelConfig(base_url=url, model=name or listed or base.model, api_key=base.api_key,
                                   timeout=base.timeout, connect_timeout=base.connect_timeout,
                                   max_retries=base.max_retries, max_tokens=max_tokens,
                                   temperature=base.temperature))


def add_run_arguments(parser, database: str) -> None:
    """The options every evaluation command shares: its model, its database, its progress bar."""
    parser.add_argument("--model", default="", help="OpenAI-compatible base URL of the agent's model (default: the "
                                                    "configured model; if it does not answer, the default CPU "
                                                    "model is started for the run)")
    parser.add_argument("--model-name", default="", help="model name to send (default: what the server lists)")
    parser.add_argument("--database", default="", help=f"SQLite file for the simulated patients (default: "
                                                       f"var/{database})")
    parser.add_argument("--in-place", action="store_true",
                        help="use the configured database instead of a database of its own")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def prepare_simulation_process() -> None:
    """Nobody watches a simulated conversation: its events go to an in-process channel layer, not to Redis; and
    a child running in its own database migrates it first."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if os.environ.get(CHILD) == "1":
        call_command("migrate", verbosity=0, interactive=False)


def rerun_in_own_database(command: str, argv: list[str], database: Path, stderr) -> None:
    """manage.py <command> <argv> in a child process whose database is the SQLite file `database` (migrated
    there), so simulated patients never enter the clinic's record."""
    env = {**os.environ, CHILD: "1", "SQLITE_PATH": str(database), "DATABASE_URL": ""}
    stderr.write(f"simulated patients go to {database} (not the clinic's database)")
    code = subprocess.call([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), command, *argv], env=env)
    if code:
        raise CommandError(f"{command} stopped (exit status {code})", returncode=code)


class ModelClients:
    """The doctor's, the patient simulator's and the grader's clients; starts the CPU model if it must."""

    def __init__(self, options: dict) -> None:
        self.options = options
        self.service = None

    def __enter__(self) -> tuple[TimedClient, ModelClient | None, ModelClient | None]:
        options = self.options
        if options["model"]:
            doctor = client_for(options["model"], options["model_name"], settings.MODEL_MAX_TOKENS)
        elif served_model(settings.MODEL_BASE_URL) is not None:
            doctor = default_client()
        else:
            doctor = self.start_local_model()
        # The report splits each case's time between the model and the harness: the doctor gets a client of its
        # own, whose waiting time no other role adds to.
        patient = grader = doctor
        doctor = TimedClient(doctor.config)
        if options["patient_model"]:
            patient = None if options["patient_model"] == "none" else client_for(options["patient_model"], "", 200)
        if options["grader_model"]:
            grader = None if options["grader_model"] == "none" else client_for(options["grader_model"], "", 100)
        return doctor, patient, grader

    def start_local_model(self) -> ModelClient:
        from scripts.fetch_model import fetch
        from scripts.stack import free_port, start_model_server

        model_file = fetch(os.environ.get("LOCAL_MODEL", "default"))
        port = free_port()
        sys.stderr.write(f"no model server answers at {settings.MODEL_BASE_URL}: starting {model_file.name} "
                         f"on port {port} for this run\n")
        log = Path(settings.VAR_DIR) / "logs" / "simulate-model.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.service = start_model_server(model_file, port, "continuum-local", log)
        return client_for(f"http://127.0.0.1:{port}/v1", "continuum-local", settings.MODEL_MAX_TOKENS)

    def __exit__(self, *exc) -> None:
        if self.service is not None:
            self.service.stop()
