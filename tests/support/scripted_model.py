"""A scripted OpenAI-compatible chat-completions server: the one stand-in for the model.

Tests queue what it should answer (text, reasoning, pace, HTTP errors, hangs);
with nothing queued it answers "Scripted reply to: <the last user message>".
Each reply streams as server-sent events exactly as vLLM's server does.

In-process: ``ScriptedModel().start()``; standalone (benchmarks):
``python -m tests.support.scripted_model --port 8091 [--delay 0]``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    text: str | None = None  # None: echo the last user message
    reasoning: str = ""  # sent as reasoning_content deltas (vLLM's reasoning parser)
    delay: float | None = None  # seconds between chunks
    status: int = 200  # non-200: answer with this HTTP error
    words_per_chunk: int = 1
    tool_calls: list[dict] | None = None  # native tool calls to stream instead of text: {name, arguments}


@dataclass
class ScriptedModel:
    port: int = 0
    delay: float = 0.01
    scripts: deque[Script] = field(default_factory=deque)
    # Answers to decision calls (non-streamed, with a response_format: the JSON tool path); default: no tools.
    decisions: deque[str | int] = field(default_factory=deque)
    requests: list[dict] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)  # seconds spent answering each request
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    def decide(self, *answers: str | dict | int) -> None:
        """Queue what the next decision calls answer (a dict is sent as JSON, a string as it is: broken on purpose,
        an int as an HTTP error with that status)."""
        self.decisions.extend(a if isinstance(a, str | int) else json.dumps(a) for a in answers)

    @property
    def reply_requests(self) -> list[dict]:
        """The streamed requests (replies), without the decision calls."""
        return [r for r in self.requests if r.get("stream")]

    def start(self) -> ScriptedModel:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                model.requests.append(body)
                started = time.monotonic()
                if not body.get("stream") and body.get("response_format"):
                    answer = model.decisions.popleft() if model.decisions else '{"tool_calls": []}'
                    if isinstance(answer, int):
                        self._json(answer, {"error": {"message": f"scripted error {answer}"}})
                    else:
                        self._json(200, _completion(answer, ""))
                    model.durations.append(time.monotonic() - started)
                    return
                script = model.scripts.popleft() if model.scripts else Script()
                if script.status != 200:
                    self._json(script.status, {"error": {"message": f"scripted error {script.status}"}})
                    return
                text = script.text
                if text is None:
                    last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
                    text = f"Scripted reply to: {last[:80]}"
                delay = model.delay if script.delay is None else script.delay
                if body.get("stream"):
                    self._stream(script, text, delay)
                else:
                    self._json(200, _completion(text, script.reasoning, script.tool_calls))
                model.durations.append(time.monotonic() - started)

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, script: Script, text: str, delay: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for piece in _chunks(script.reasoning, script.words_per_chunk):
                        self._event({"reasoning_content": piece})
                        time.sleep(delay)
                    if script.tool_calls:
                        for i, call in enumerate(script.tool_calls):
                            arguments = call["arguments"]
                            arguments = arguments if isinstance(arguments, str) else json.dumps(arguments)
                            self._event({"tool_calls": [{"index": i, "id": f"call_{i}", "type": "function",
                                                         "function": {"name": call["name"], "arguments": ""}}]})
                            for half in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2:]):
                                self._event({"tool_calls": [{"index": i, "function": {"arguments": half}}]})
                        self._event({}, finish="tool_calls")
                        self.wfile.write(b"data: [DONE]\n\n")
                        self.wfile.flush()
                        return
                    for piece in _chunks(text, script.words_per_chunk):
                        self._event({"content": piece})
                        time.sleep(delay)
                    self._event({}, finish="stop")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: stop generating, as a real server should

            def _event(self, delta: dict, finish: str | None = None) -> None:
                chunk = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": "scripted",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def _chunks(text: str, words: int) -> list[str]:
    if not text:
        return []
    parts = text.split(" ")
    out = []
    for i in range(0, len(parts), words):
        piece = " ".join(parts[i:i + words])
        out.append(piece if i == 0 else " " + piece)
    return out


def _completion(text: str, reasoning: str, tool_calls: list[dict] | None = None) -> dict:
    message = {"role": "assistant", "content": None if tool_calls else text}
    if reasoning:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = [{"id": f"call_{i}", "type": "function", "function": {
            "name": call["name"], "arguments": call["arguments"] if isinstance(call["arguments"], str)
            else json.dumps(call["arguments"])}} for i, call in enumerate(tool_calls)]
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()), "model": "scripted",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between streamed chunks")
    args = parser.parse_args()
    server = ScriptedModel(port=args.port, delay=args.delay).start()
    print(f"scripted model at {server.base_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
