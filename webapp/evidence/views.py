"""The citations page: the passage an agent reply cites as [ev-…], with where it comes from.

Passages are published guidelines and drug labels, not patient data, so any logged-in user may read them."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agent.evidence.search import get_passage

CITATION_ID = re.compile(r"ev-[0-9a-f]{10}")


@require_GET
@login_required
def passage(request: HttpRequest, citation_id: str) -> HttpResponse:
    found = get_passage(citation_id)
    if found is None:
        well_formed = bool(CITATION_ID.fullmatch(citation_id))
        return render(request, "evidence/passage.html",
                      {"passage": None, "citation_id": citation_id if well_formed else ""}, status=404)
    # Only web addresses become links (never javascript: or data: from a corrupted index).
    link = found.url if found.url.startswith(("https://", "http://")) else ""
    return render(request, "evidence/passage.html", {"passage": found, "citation_id": found.id, "link": link})
