"""Keep the model's reasoning apart from its answer, while streaming.

Reasoning arrives either in its own field (vLLM's ``reasoning_content``) or
inline as ``<think>...</think>`` in the text (Qwen3, DeepSeek-R1 and others).
``ReasoningSplitter`` takes text chunks as they come and returns only what is
safe to show, holding back a partial tag until it can tell.
"""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class ReasoningSplitter:
    def __init__(self) -> None:
        self.answer: list[str] = []
        self.reasoning: list[str] = []
        self._inside = False
        self._buffer = ""

    def feed(self, chunk: str) -> str:
        """Add streamed text; return the answer text that can be shown now."""
        self._buffer += chunk
        shown: list[str] = []
        while self._buffer:
            tag = CLOSE if self._inside else OPEN
            at = self._buffer.find(tag)
            if at >= 0:
                self._emit(self._buffer[:at], shown)
                self._buffer = self._buffer[at + len(tag):]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(self._buffer, tag)
            self._emit(self._buffer[: len(self._buffer) - keep], shown)
            self._buffer = self._buffer[len(self._buffer) - keep:]
            break
        return "".join(shown)

    def add_reasoning(self, text: str) -> None:
        self.reasoning.append(text)

    def finish(self) -> str:
        """End of stream: a dangling partial tag is plain text (or reasoning if unclosed)."""
        rest, self._buffer = self._buffer, ""
        shown: list[str] = []
        self._emit(rest, shown)
        return "".join(shown)

    def _emit(self, text: str, shown: list[str]) -> None:
        if not text:
            return
        if self._inside:
            self.reasoning.append(text)
        else:
            self.answer.append(text)
            shown.append(text)

    @property
    def answer_text(self) -> str:
        return "".join(self.answer).strip()

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning).strip()


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that could begin ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
