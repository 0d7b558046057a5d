"""Opening a 2,000-message conversation: time until it is shown, and resident memory after.

Method. A conversation of 2,000 realistic Markdown turns (fixtures.long_chat: prose, lists,
code blocks; about 1 MB of TOML) is saved as the most recent one, so the app opens it at
launch. A fresh child process per run imports the app, then times `ChatApp()` through
`run_test(size=(120, 40))` until the message view shows that conversation with its last reply
mounted, plus one `pilot.pause()` so the frame is rendered: open_long_chat_s (median of warm
launches: a first, untimed launch leaves whatever the app caches, as any earlier use would). After
that, long_chat_rss_mb is the child's VmRSS (/proc/self/status, median). Another fresh
child measures an app with no conversations the same way, for the baseline (in details).
Also timed, informative: the same on a real terminal, from spawn until the last reply's end
marker is on screen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from benchmarks.common import BenchEnv, PtyProcess, app_command, log, median, rss_mb, run_child
from benchmarks.fixtures import LONG_CHAT_END, long_chat, write_conversation

REPS = 3
MESSAGES = 2000


async def open_once(expect: str | None) -> float:
    """Launch the app headless; seconds until `expect` (a conversation id) is shown with its
    last reply mounted, or with None until the app is up."""
    from tui_chat.ui.app import ChatApp
    from tui_chat.ui.widgets.message_view import AssistantTurn, MessageView

    def shown(view: MessageView) -> bool:
        if expect is None:
            return True
        if view.conversation_id != expect:
            return False
        turns = view.query(AssistantTurn)
        return bool(turns) and LONG_CHAT_END in turns.last().message.content

    started = time.perf_counter()
    app = ChatApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        while not shown(view):
            await asyncio.sleep(0.002)
        await pilot.pause()
        return time.perf_counter() - started


def child(conversation_id: str) -> None:
    """One launch in this fresh process: "-" for the empty app, else that conversation."""
    import tui_chat.ui.app  # noqa: F401 - imports are not part of opening

    expect = None if conversation_id == "-" else conversation_id
    seconds = asyncio.run(open_once(expect))
    print(json.dumps({"open_s": seconds, "rss_mb": rss_mb()}))


def _child(conversation_id: str, env: dict[str, str]) -> dict:
    return run_child("benchmarks.bench_long_chat", ["--child", conversation_id], env, 300)


def run(reps: int = REPS) -> dict[str, Any]:
    from tui_chat.emulator import Emulator

    runs: list[dict] = []
    empty: list[dict] = []
    pty_times: list[float] = []
    with BenchEnv() as env, Emulator(tokens_per_second=None, first_token_delay=0.0) as emulator:
        env.emulator_url = emulator.url
        conv = long_chat(MESSAGES)
        path = write_conversation(env.sessions_dir, conv)
        log(f"  long chat: {MESSAGES:,} messages, {path.stat().st_size / 1e6:.1f} MB")
        sessions = {"TUI_CHAT_SESSIONS_DIR": str(env.sessions_dir)}
        log("  long chat: first launch (cold caches)")
        cold = _child(conv.id, env.env(**sessions))
        for n in range(reps):
            log(f"  long chat run {n + 1}/{reps}")
            runs.append(_child(conv.id, env.env(**sessions)))
            empty.append(_child("-", env.env(TUI_CHAT_SESSIONS_DIR=str(env.root / "none"))))
            with PtyProcess(app_command(), env.env(**sessions)) as proc:
                _, seen = proc.wait_for(LONG_CHAT_END.encode(), 60)
                pty_times.append(seen - proc.spawned)
    return {
        "figures": {
            "open_long_chat_s": median(r["open_s"] for r in runs),
            "long_chat_rss_mb": median(r["rss_mb"] for r in runs),
        },
        "details": {
            "cold_open_s": cold["open_s"],
            "empty_app_s": median(r["open_s"] for r in empty),
            "empty_app_rss_mb": median(r["rss_mb"] for r in empty),
            "pty_spawn_to_shown_s": median(pty_times),
            "runs": runs,
            "empty_runs": empty,
            "pty_runs_s": pty_times,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(json.dumps(run(args.reps), indent=2))


if __name__ == "__main__":
    main()
