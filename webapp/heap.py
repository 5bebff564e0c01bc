"""The garbage collector and long-lived server processes.

A worker or web process holds about 230,000 objects once Django, the apps and the agent are loaded, and they live
as long as the process. CPython's full (generation 2) collection walks every one of them: about 100 ms here, every
few dozen turns, a pause that lands on whichever turn is running (in the web process, on every open socket at
once). Moving what is alive at start into the permanent generation (``gc.freeze``) leaves full collections only
the objects made since; in a forked pool process it also keeps the shared pages shared (no reference-count writes
from the collector).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once a process has loaded what it keeps for its life, before it serves."""
    gc.collect()  # what is garbage now should be freed, not frozen
    gc.freeze()
