"""Shared fixtures: the cast, the scripted model, the real model server, live stacks, the browser."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in the main thread; Django would
# otherwise refuse database calls from tests that also drive the browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from scripts.fetch_model import model_path
from scripts.stack import Service, free_port, start_model_server
from tests.support.scripted_model import ScriptedModel

# The evidence index the system under test reads: private to this session (never var/), empty until a test asks
# for `evidence_corpus`; live stacks inherit it through the environment.
os.environ["EVIDENCE_INDEX_PATH"] = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                 f"continuum-test-evidence-{os.getpid()}", "local.sqlite3")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(autouse=True)
def fast_password_hashing(request, settings) -> None:
    """Hash with MD5 in-process (seconds per test saved); e2e tests keep the real hashers their servers use."""
    if request.node.get_closest_marker("e2e") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_evidence_index(settings) -> None:
    settings.EVIDENCE_INDEX_PATH = os.environ["EVIDENCE_INDEX_PATH"]


@pytest.fixture(scope="session")
def evidence_corpus():
    """The whole corpus in this session's local evidence index (the one the system under test reads)."""
    from tests.support.evidence import build_local

    yield build_local(Path(os.environ["EVIDENCE_INDEX_PATH"]))
    import shutil

    shutil.rmtree(Path(os.environ["EVIDENCE_INDEX_PATH"]).parent, ignore_errors=True)


@pytest.fixture(scope="session")
def evidence_elasticsearch(elasticsearch_url: str):
    """The whole corpus in an index of the real Elasticsearch node."""
    from tests.support.evidence import build_elasticsearch

    index = build_elasticsearch(elasticsearch_url)
    yield index
    index.drop()


@pytest.fixture
def cast(db):
    from tests.support.cast import make_cast

    return make_cast()


@pytest.fixture
def scripted_model() -> Iterator[ScriptedModel]:
    server = ScriptedModel().start()
    yield server
    server.stop()


class ModelServer:
    """The real llama.cpp server with the small model, stoppable and restartable."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.file = model_path(name)
        if not self.file.exists():
            pytest.fail(f"model {self.file} missing: run scripts/setup.sh --test")
        self.port = free_port()
        self.workdir = workdir
        self.service: Service | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ModelServer:
        self.service = start_model_server(self.file, self.port, "continuum-local", self.workdir / "model.log")
        return self

    def stop(self) -> None:
        if self.service:
            self.service.stop()


@pytest.fixture(scope="session")
def real_model(tmp_path_factory) -> Iterator[ModelServer]:
    """The real CPU model server (Qwen2.5-Coder-0.5B), shared by the session."""
    server = ModelServer("small", tmp_path_factory.mktemp("model")).start()
    yield server
    server.stop()


@pytest.fixture
def live_stack_factory(transactional_db):
    """Start LiveStack(model_url, ...) instances; all stopped after the test."""
    from tests.support.live import LiveStack

    stacks: list[LiveStack] = []

    def start(model_url: str, worker: bool = True, own_redis: bool = False, **env: str) -> LiveStack:
        stack = LiveStack(model_url, own_redis=own_redis, extra_env=env)
        stacks.append(stack)
        return stack.start(worker=worker)

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium missing: run scripts/setup.sh --test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser):
    context = browser.new_context()
    yield context
    context.close()


logging.getLogger("httpx").setLevel(logging.WARNING)


@pytest.fixture
def ehr_token(cast) -> str:
    """A backend EHR client's token with system-wide read and write."""
    from tests.support.fhir import client_token

    return client_token(cast["ehr"], "system/*.read system/*.write")


@pytest.fixture
def api(ehr_token):
    """The FHIR REST API as that EHR client."""
    from tests.support.fhir import FhirClient

    return FhirClient(token=ehr_token)


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    """The node scripts/with_test_services.py started (CONTINUUM_TEST_ELASTICSEARCH_URL)."""
    url = os.environ.get("CONTINUUM_TEST_ELASTICSEARCH_URL")
    if not url:
        pytest.fail("CONTINUUM_TEST_ELASTICSEARCH_URL is not set: run the tests through "
                    "python -m scripts.with_test_services")
    return url


@pytest.fixture(scope="session")
def elasticsearch_client(elasticsearch_url: str):
    """A client of the real node that scripts/with_test_services.py starts; fails without one."""
    url = elasticsearch_url

    from elasticsearch import Elasticsearch

    # Not ping()/info(): the node has no root endpoint (GET / answers 405), see docs/evidence.md.
    client = Elasticsearch(url, request_timeout=30)
    client.cluster.health(wait_for_status="green", timeout="30s")
    yield client
    client.close()
