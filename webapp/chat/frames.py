"""The websocket protocol: frames a browser may send, validated before anything else."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SendFrame(_Frame):
    type: Literal["send"]
    text: str
    client_id: Annotated[str, Field(max_length=64)] = ""


class ResumeFrame(_Frame):
    type: Literal["resume"]
    after: Annotated[int, Field(ge=0)] = 0


class PingFrame(_Frame):
    type: Literal["ping"]


Frame = Annotated[SendFrame | ResumeFrame | PingFrame, Field(discriminator="type")]
_adapter: TypeAdapter = TypeAdapter(Frame)


class BadFrame(ValueError):
    pass


def parse_frame(raw: str) -> SendFrame | ResumeFrame | PingFrame:
    try:
        return _adapter.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "frame"
        raise BadFrame(f"{where}: {first.get('msg', 'invalid')}") from None
