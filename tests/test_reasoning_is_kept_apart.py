"""Reasoning (<think> blocks) is split from the answer, whatever the chunk boundaries."""

import pytest

from agent.model.reasoning import ReasoningSplitter


def split(chunks: list[str]) -> tuple[str, str, str]:
    splitter = ReasoningSplitter()
    shown = "".join(splitter.feed(c) for c in chunks) + splitter.finish()
    return shown, splitter.answer_text, splitter.reasoning_text


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100])
def test_think_block_is_removed_at_any_chunking(size):
    text = "<think>The patient may have a migraine.</think>Please tell me when it started."
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    shown, answer, reasoning = split(chunks)
    assert shown == "Please tell me when it started."
    assert answer == "Please tell me when it started."
    assert reasoning == "The patient may have a migraine."


def test_text_that_only_looks_like_a_tag_is_shown():
    shown, answer, reasoning = split(["a <b> c <thin", "king> d <"])
    assert shown == "a <b> c <thinking> d <"
    assert reasoning == ""


def test_unclosed_think_is_never_shown():
    shown, answer, reasoning = split(["Hello. <think>secret", " plan"])
    assert shown == "Hello. "
    assert reasoning == "secret plan"


def test_reasoning_field_is_collected_apart():
    splitter = ReasoningSplitter()
    splitter.add_reasoning("step one. ")
    splitter.add_reasoning("step two.")
    splitter.feed("Answer.")
    splitter.finish()
    assert splitter.reasoning_text == "step one. step two."
    assert splitter.answer_text == "Answer."
