"""The one client for the core model: any OpenAI-compatible chat-completions server.

Production points it at vLLM; the embedded default at llama.cpp's server. The
same code path serves both. Retries before the stream starts are the SDK's
(bounded, with backoff); a failure mid-stream surfaces as ModelUnavailable and
the turn is retried as a whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
from django.conf import settings


class ModelUnavailable(Exception):
    """The model server could not be reached or failed; the turn should be retried later."""


@dataclass(frozen=True)
class ModelDelta:
    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    tool_calls: tuple[dict, ...] = ()  # native tool-call fragments: {index, id, name, arguments (a piece)}


@dataclass(frozen=True)
class Completion:
    content: str
    reasoning: str
    tool_calls: tuple[dict, ...]  # {id, name, arguments (the JSON text)}
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class ModelConfig:
    base_url: str
    model: str
    api_key: str
    timeout: float
    connect_timeout: float
    max_retries: int
    max_tokens: int
    temperature: float

    @classmethod
    def from_settings(cls) -> ModelConfig:
        return cls(
            base_url=settings.MODEL_BASE_URL,
            model=settings.MODEL_NAME,
            api_key=settings.MODEL_API_KEY,
            timeout=settings.MODEL_TIMEOUT_SECONDS,
            connect_timeout=settings.MODEL_CONNECT_TIMEOUT_SECONDS,
            max_retries=settings.MODEL_MAX_RETRIES,
            max_tokens=settings.MODEL_MAX_TOKENS,
            temperature=settings.MODEL_TEMPERATURE,
        )


_clients: dict[ModelConfig, ModelClient] = {}


def default_client() -> ModelClient:
    """The process's client for the configured model (building one costs tens of milliseconds)."""
    config = ModelConfig.from_settings()
    if config not in _clients:
        _clients[config] = ModelClient(config)
    return _clients[config]


class ModelClient:
    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig.from_settings()
        self._client = openai.OpenAI(
            base_url=self.config.base_url,
            api_key=self.config.api_key,
            max_retries=self.config.max_retries,
            timeout=httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout),
        )

    def _body(self, messages: list[dict], max_tokens: int | None, temperature: float | None, **extra) -> dict:
        body = {"model": self.config.model, "messages": messages, "max_tokens": max_tokens or self.config.max_tokens,
                "temperature": self.config.temperature if temperature is None else temperature}
        return body | {k: v for k, v in extra.items() if v is not None}

    def _post(self, body: dict, stream: bool):
        try:
            # The SDK's low-level post: same retries, timeouts, error mapping and SSE parsing as
            # chat.completions.create, without its parameter transform (about 10 ms a call), and with
            # cast_to=object the JSON comes back as plain dicts: building a typed model for every streamed
            # chunk cost more CPU than everything else the client does (bench/chat_roundtrip.py).
            if stream:
                return self._client.post("/chat/completions", body=body | {"stream": True}, cast_to=object,
                                         stream=True, stream_cls=openai.Stream[object])
            return self._client.post("/chat/completions", body=body, cast_to=object)
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError,
                openai.RateLimitError) as exc:
            raise ModelUnavailable(f"model server unavailable: {exc}") from exc
        except openai.APIStatusError as exc:
            raise ModelUnavailable(f"model server answered {exc.status_code}: {exc.message}") from exc

    def complete(self, messages: list[dict], *, response_format: dict | None = None, tools: list[dict] | None = None,
                 max_tokens: int | None = None, temperature: float | None = None) -> Completion:
        """One completion, not streamed: for decisions (which tools to call) rather than replies."""
        answer = self._post(self._body(messages, max_tokens, temperature, response_format=response_format,
                                       tools=tools or None), stream=False)
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not choices:
            raise ModelUnavailable("the model server answered without a choice")
        message = choices[0].get("message") or {}
        calls = tuple({"id": c.get("id"), "name": (c.get("function") or {}).get("name"),
                       "arguments": (c.get("function") or {}).get("arguments") or ""}
                      for c in message.get("tool_calls") or [])
        usage = answer.get("usage") or {}
        return Completion(content=message.get("content") or "", reasoning=_reasoning(message), tool_calls=calls,
                          prompt_tokens=usage.get("prompt_tokens") or 0,
                          completion_tokens=usage.get("completion_tokens") or 0)

    def stream_chat(self, messages: list[dict], *, max_tokens: int | None = None,
                    temperature: float | None = None, tools: list[dict] | None = None) -> Iterator[ModelDelta]:
        """Stream one completion. Always bounded by max_tokens; closing the iterator
        closes the HTTP response, which tells the server to stop generating."""
        stream = self._post(self._body(messages, max_tokens, temperature, tools=tools or None), stream=True)
        try:
            for chunk in stream:
                choices = chunk.get("choices") if isinstance(chunk, dict) else None
                if not choices:
                    continue
                choice = choices[0]
                delta = choice.get("delta") or {}
                calls = tuple({"index": c.get("index"), "id": c.get("id"),
                               "name": (c.get("function") or {}).get("name"),
                               "arguments": (c.get("function") or {}).get("arguments") or ""}
                              for c in delta.get("tool_calls") or [])
                yield ModelDelta(content=delta.get("content") or "", reasoning=_reasoning(delta),
                                 finish_reason=choice.get("finish_reason"), tool_calls=calls)
        except (openai.APIError, httpx.HTTPError) as exc:
            raise ModelUnavailable(f"model stream broke: {exc}") from exc
        finally:
            stream.close()


def _reasoning(message: dict) -> str:
    """vLLM's reasoning parser sends reasoning_content; some servers call it reasoning."""
    return message.get("reasoning_content") or message.get("reasoning") or ""


class TimedClient(ModelClient):
    """A client that adds up the time spent waiting on the model (not the caller's work between streamed
    deltas): evaluations report how much of a run is the model and how much the harness."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__(config)
        self.seconds = 0.0

    def complete(self, *args, **kwargs) -> Completion:
        started = time.monotonic()
        try:
            return super().complete(*args, **kwargs)
        finally:
            self.seconds += time.monotonic() - started

    def stream_chat(self, *args, **kwargs) -> Iterator[ModelDelta]:
        deltas = super().stream_chat(*args, **kwargs)
        try:
            while True:
                started = time.monotonic()
                try:
                    delta = next(deltas)
                except StopIteration:
                    return
                finally:
                    self.seconds += time.monotonic() - started
                yield delta
        finally:
            deltas.close()  # a caller that stops early still closes the response
