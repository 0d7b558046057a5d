"""Time listing 2,000 saved conversations of 40 messages: cold (no index) and warm."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fixtures import make_sessions
from tui_chat.store import SessionStore


def run(count: int = 2000, n_messages: int = 40, directory: Path | None = None) -> dict[str, float]:
    """With `directory`, list the conversations already there (written by make_sessions)."""
    root = Path(tempfile.mkdtemp(prefix="tui-chat-bench-"))
    try:
        sessions, cache = directory or root / "sessions", root / "cache"
        if directory is None:
            make_sessions(sessions, count, n_messages)
        started = time.perf_counter()
        listing = SessionStore(sessions, cache_dir=cache).list()
        cold = time.perf_counter() - started
        assert len(listing.conversations) == count, listing.problems[:3]
        assert listing.conversations[0].message_count == n_messages
        warm_times = []
        for _ in range(5):
            started = time.perf_counter()
            SessionStore(sessions, cache_dir=cache).list()
            warm_times.append(time.perf_counter() - started)
        return {"list_cold_s": cold, "list_warm_s": min(warm_times)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    figures = run()
    for key, value in figures.items():
        print(f"{key:16} {value:8.3f}")
