"""Crash safety: the real app on a terminal, killed with SIGKILL at random moments while replies
stream and conversations are saved. Afterwards, read with SessionStore in this process (loading
recovers checkpoints): every session file parses, no finished message is lost, every prompt that
was sent is there once, and a reply that was streaming comes back from its checkpoint as
`interrupted`.

A trial kills the app at a random moment, just after a reply was checkpointed, or while a large
conversation is being written. Each trial has its own seed (its moment, reply lengths, the size
of the conversation it continues, when it starts a new one), so a failure names the seed that
reproduces it. The CI variant runs one trial of each kind; `-m slow` runs 60, their moments
spread over the whole window.
"""

from __future__ import annotations

import os
import random
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui_chat import files
from tui_chat.conversation import Conversation, Message
from tui_chat.emulator import Emulator, Fault
from tui_chat.params import Params
from tui_chat.store import SessionStore

from .conftest import KEY_CTRL_N, MODEL, PtyApp, emulator_env, sessions_dir, write_config

#: Kill times are spread over this many seconds after the app is ready.
WINDOW = 6.0
SLOW_TRIALS = 60
#: How a trial chooses its moment: at a random time; just after a reply was checkpointed (it
#: must come back as `interrupted`); or while a (large) conversation is being written.
MODES = ("random", "checkpoint", "writing")


@dataclass
class Outcome:
    """What one trial saw, for the summary checks."""

    seed: int
    mode: str
    delay: float
    prompts_sent: int = 0
    replies_finished: int = 0
    recovered: int = 0  # checkpoints turned into `interrupted` replies
    killed_while_writing: bool = False


def seeded_conversation(seed: int, size: int) -> Conversation:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    params = Params(model=MODEL, max_tokens_to_sample=1024)
    conversation = Conversation(id=f"20260201T000000Z-{seed:06x}", params=params)
    for n in range(size):
        role = "user" if n % 2 == 0 else "assistant"
        text = f"seeded message {n} of trial {seed}. " + "Some ordinary words to save. " * 12
        conversation.messages.append(
            Message(role=role, content=text, created=start + timedelta(seconds=n))
        )
    conversation.messages[-1].content += f" READY-{seed}"
    conversation.refresh_title()
    conversation.created = conversation.updated = start
    return conversation


def fingerprints(conversation: Conversation) -> list[tuple[str, str, str, str]]:
    return [(m.role, m.created.isoformat(), m.status, m.content) for m in conversation.messages]


def snapshot(store: SessionStore) -> dict[str, list[tuple[str, str, str, str]]]:
    """Every conversation as saved right now (read only: nothing is recovered)."""
    found = {}
    for summary in store.list().conversations:
        found[summary.id] = fingerprints(store.load(summary.id, recover=False))
    return found


def writing(directory: Path) -> bool:
    """An atomic write in progress (its temporary file exists)."""
    try:
        return any(name.endswith(".tmp") for name in os.listdir(directory))
    except FileNotFoundError:
        return False


def run_trial(seed: int, mode: str, fraction: float, root: Path, emulator: Emulator) -> Outcome:
    """One app run killed with SIGKILL. `fraction` (0-1) places the kill within the window."""
    rng = random.Random(seed)
    home = root / f"trial-{seed}"
    for name in ("config", "data", "cache", "state"):
        (home / name).mkdir(parents=True)
    write_config(home, f'[defaults]\nmodel = "{MODEL}"\n[bedrock]\nmax_attempts = 1\n')
    folder = sessions_dir(home)
    store = SessionStore(folder)
    # A conversation to continue; a long one makes every save take a while.
    size = 1200 if mode == "writing" else rng.choice([2, 2, 40, 400])
    seeded = seeded_conversation(seed, size)
    store.save(seeded)
    saved = snapshot(store)
    delay = 0.2 + fraction * (WINDOW if mode == "random" else WINDOW / 3)
    outcome = Outcome(seed, mode, round(delay, 2))
    emulator.clear_faults()
    emulator.requests.clear()
    typed: list[str] = []

    app = PtyApp(emulator_env(home, emulator)).start()

    def type_next() -> None:
        # Now and then the next prompt starts a new conversation (not when the kill must land
        # in a write of the large one).
        if typed and mode != "writing" and rng.random() < 0.25:
            app.write(KEY_CTRL_N)
            app.wait_quiet(0.2)
        prompt = f"trial {seed} prompt {len(typed)} " + " ".join(
            rng.choice(["alpha", "bravo", "charlie", "delta", "echo"]) for _ in range(4)
        )
        # 200 tokens a second: a reply lasts 1 to 4.5 s (checkpoints come every 2 s).
        low = 700 if mode == "checkpoint" else 200
        emulator.add_fault(Fault("long_reply", tokens=rng.randint(low, 900)))
        app.type(prompt)
        typed.append(prompt)

    try:
        app.wait_for_text(f"READY-{seed}", timeout=30)
        app.wait_quiet(0.2)
        kill_at = time.monotonic() + delay
        checkpointed_at = None
        expected_total = sum(len(m) for m in saved.values())
        waiting = False
        while True:
            now = time.monotonic()
            if (
                mode == "checkpoint"
                and checkpointed_at is None
                and any(folder.glob("*.partial.toml"))
            ):
                checkpointed_at = now
                kill_at = now + rng.uniform(0.0, 0.4)
            if mode == "writing" and now >= kill_at:
                # The next save of the large conversation: the prompt (typed now if the app
                # is idle) or the reply. Watch closely: the file is written in milliseconds.
                if not waiting:
                    type_next()
                deadline = now + 8
                while not writing(folder) and time.monotonic() < deadline:
                    pass
                outcome.killed_while_writing = writing(folder)
                app.kill()
                break
            if now >= kill_at and (mode != "checkpoint" or checkpointed_at is not None):
                app.kill()
                break
            if now > kill_at + 15:
                raise AssertionError(f"seed {seed}: the moment to kill never came")
            if not waiting:
                type_next()
                expected_total += 2
                waiting = True
            elif sum(s.message_count for s in store.list().conversations) >= expected_total:
                saved = snapshot(store)
                outcome.replies_finished += 1
                waiting = False
            time.sleep(0.02)
    finally:
        app.close()
        emulator.clear_faults()

    verify(store, folder, saved, typed, emulator, outcome)
    return outcome


def verify(
    store: SessionStore,
    folder: Path,
    finished: dict[str, list[tuple[str, str, str, str]]],
    typed: list[str],
    emulator: Emulator,
    outcome: Outcome,
) -> None:
    seed = outcome.seed
    where = f"seed {seed} ({outcome.mode})"
    # Every file in the folder parses: conversations and checkpoints alike.
    sidecars = {}
    for path in sorted(folder.glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        if path.name.endswith(".partial.toml"):
            sidecars[path.name[: -len(".partial.toml")]] = document["message"]
    assert store.list(verify=True).problems == [], where

    conversations = {}
    for summary in store.list().conversations:
        before = store.load(summary.id, recover=False)
        after = store.load(summary.id)  # recovers a checkpoint left behind
        conversations[summary.id] = after
        prints = fingerprints(after)
        # Nothing that was saved finished is lost or changed.
        kept = finished.get(summary.id, [])
        assert prints[: len(kept)] == kept, f"{where}: {summary.id} lost saved messages"
        side = sidecars.get(summary.id)
        if side is None:
            assert prints[: len(before.messages)] == fingerprints(before), where
            continue
        created = side["created"].isoformat()
        known = [
            m for m in before.messages if m.role == "assistant" and m.created.isoformat() == created
        ]
        if known:
            # The reply had been saved before the kill: the checkpoint was stale.
            assert known[0].status in ("complete", "interrupted"), where
            continue
        last = after.messages[-1]
        assert (last.role, last.status) == ("assistant", "interrupted"), where
        assert last.content == side["content"], where
        assert len(after.messages) == len(before.messages) + 1, where
        outcome.recovered += 1
    assert not list(folder.glob("*.partial.toml")), f"{where}: a checkpoint was left behind"
    assert store.list(verify=True).problems == [], where
    # A temporary file the kill left behind is cleared away by a listing (its writer is gone;
    # the tests make "old enough" immediate).
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")], where

    # Every prompt that reached Bedrock was saved first, exactly once.
    sent_bodies = [str(r.body) for r in emulator.requests]
    users = [m.content for c in conversations.values() for m in c.messages if m.role == "user"]
    for prompt in typed:
        if any(prompt in body for body in sent_bodies):
            outcome.prompts_sent += 1
            assert users.count(prompt) == 1, f"{where}: {prompt!r} saved {users.count(prompt)}x"
        else:
            assert users.count(prompt) <= 1, where


def run_trials(plans: list[tuple[int, str, float]], root: Path, emulator) -> list[Outcome]:
    outcomes = [run_trial(seed, mode, fraction, root, emulator) for seed, mode, fraction in plans]
    summary = "\n".join(
        f"seed {o.seed:>3} {o.mode:<10} after {o.delay:>4}s: sent {o.prompts_sent}, finished "
        f"{o.replies_finished}, recovered {o.recovered}, killed while writing "
        f"{o.killed_while_writing}"
        for o in outcomes
    )
    print(f"\ncrash trials:\n{summary}")
    return outcomes


@pytest.fixture(autouse=True)
def stale_at_once(monkeypatch):
    monkeypatch.setattr(files, "STALE_TEMPORARY_SECONDS", 0.0)


def test_sigkill_while_streaming_and_saving_loses_nothing(tmp_path, paced_emulator):
    """Three kills: just after a checkpoint, in the middle of writing a large conversation,
    and at a random moment a few replies in."""
    plans = [(1, "checkpoint", 0.5), (2, "writing", 0.5), (3, "random", 0.4)]
    outcomes = run_trials(plans, tmp_path, paced_emulator)
    assert sum(o.prompts_sent for o in outcomes) >= len(plans)
    assert outcomes[0].recovered == 1, "the checkpointed reply was not recovered"
    assert outcomes[1].killed_while_writing


@pytest.mark.slow
def test_sigkill_matrix(tmp_path, paced_emulator):
    """60 kills, 20 of each kind, their moments spread evenly over the window and jittered by
    each trial's seed."""
    rng = random.Random(2026)
    per_mode = SLOW_TRIALS // len(MODES)
    plans = [
        (100 + n, MODES[n % len(MODES)], ((n // len(MODES)) + rng.random()) / per_mode)
        for n in range(SLOW_TRIALS)
    ]
    outcomes = run_trials(plans, tmp_path, paced_emulator)
    by_mode = {mode: [o for o in outcomes if o.mode == mode] for mode in MODES}
    assert all(o.recovered == 1 for o in by_mode["checkpoint"])
    assert sum(o.killed_while_writing for o in by_mode["writing"]) >= per_mode * 3 // 4
    assert sum(o.replies_finished for o in outcomes) >= 10
