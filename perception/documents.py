"""The text read from a document, kept on its DocumentReference as a second, text/plain attachment."""

from __future__ import annotations

import base64

TEXT_TYPE = "text/plain; charset=utf-8"


def with_text(document: dict, text: str) -> dict:
    """The DocumentReference with `text` as its read-text attachment (replacing an earlier one)."""
    content = [c for c in document.get("content", []) if not _is_text(c.get("attachment", {}))]
    content.append({"attachment": {"contentType": TEXT_TYPE, "title": "Text read by OCR",
                                   "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}})
    return {**document, "content": content}


def read_text(document: dict) -> str:
    """The text read from the document, or "" when none was read."""
    for content in document.get("content", []):
        attachment = content.get("attachment", {})
        if _is_text(attachment) and attachment.get("data"):
            return base64.b64decode(attachment["data"]).decode("utf-8", "replace")
    return ""


def _is_text(attachment: dict) -> bool:
    return attachment.get("contentType", "").startswith("text/plain")
