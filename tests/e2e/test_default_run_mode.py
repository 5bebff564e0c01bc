"""The run command on embedded defaults (SQLite, private Redis, the default 1.5B model on the
CPU, a real worker) holds a real conversation; Ctrl-C stops every process it started."""

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from scripts.stack import ROOT, free_port, http_ok, wait_until
from tests.support.chat_client import ChatSocket, conversation_path, login, run_async

pytestmark = pytest.mark.e2e

GREETING = "Hello! I am new here. What can you help me with between my clinic visits?"
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "MODEL_BASE_URL", "MODEL_NAME", "SQLITE_PATH")


def test_run_command_serves_a_real_conversation_with_the_default_model():
    var = Path(tempfile.mkdtemp(prefix="continuum-run-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(CONTINUUM_VAR_DIR=str(var), PORT=str(port), LOCAL_MODEL_PORT=str(free_port()),
               CONTINUUM_REDIS_PORT=str(free_port()), MODEL_MAX_TOKENS="48")
    log = open(var / "run.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "scripts.stack", "run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(base + "/healthz"), 240, "run command")
        http = login(base, "alice", "continuum-demo")

        async def chat():
            socket = await ChatSocket.open(base, conversation_path(http), dict(http.cookies))
            # No symptom: the model's own words stream (a complaint would start history taking, whose questions
            # may replace a model reply that does not ask one).
            await socket.say(GREETING)
            reply = await socket.reply_to(240)
            await socket.close()
            return reply, socket.events

        reply, events = run_async(chat())
        assert reply["text"].strip()
        assert any(e["type"] == "turn.delta" for e in events)
        db = sqlite3.connect(var / "continuum.sqlite3")
        rows = db.execute("SELECT author, text FROM chat_message ORDER BY id").fetchall()
        assert rows[0] == ("patient", GREETING)
        assert rows[1] == ("agent", reply["text"])
        model_log = (var / "logs" / "model.log").read_text(errors="replace").lower()
        assert "qwen2.5 coder 1.5b instruct" in model_log  # the GGUF's general.name: the default model
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert not http_ok(base + "/healthz")
