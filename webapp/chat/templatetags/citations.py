"""Citation markers in agent replies, "[ev-3f9a2c1b7d]", as numbered links to the citations page.

The same rules as static/chat.js (live messages): numbered by first appearance within the message, the same id
keeps its number, everything else is escaped text."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MARKER = re.compile(r"\[(ev-[0-9a-f]{10})\]")


@register.filter
def citations(text: str) -> SafeString:
    numbers: dict[str, int] = {}
    parts: list[str] = []
    position = 0
    for match in MARKER.finditer(text):
        citation_id = match.group(1)
        number = numbers.setdefault(citation_id, len(numbers) + 1)
        parts.append(escape(text[position:match.start()]))
        parts.append(format_html(
            '<sup class="citation"><a href="{}" target="_blank" rel="noopener" title="Source">[{}]</a></sup>',
            reverse("evidence_passage", args=[citation_id]), number))
        position = match.end()
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))
