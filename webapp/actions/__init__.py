"""State changes. Each do_* applies one change atomically and emits its events after commit."""
