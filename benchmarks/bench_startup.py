"""Time to first frame on a real terminal: the app empty, the app with 2,000 saved
conversations (cold and warm listing index), and a bare Textual app for reference.

Method. Each launch spawns the program on a 120x40 pseudo-terminal (TERM=xterm-256color,
COLORTERM=truecolor) and times from spawn until the output contains "Quit": the footer's
last key, drawn in the first full frame. The program is then quit with ctrl+q. Launches are
interleaved (reference, empty, cold, warm) so noise hits every kind alike; figures are medians.
- empty: no saved conversations.
- cold: 2,000 conversations of 40 messages (fixtures.make_sessions) and no listing index in
  XDG_CACHE_HOME: the first launch after an upgrade or a cache wipe.
- warm: the same with the index left by an earlier launch (every launch after the first);
  the goal applies to this one.
startup_ratio = warm / empty; startup_vs_reference = empty / reference.
Also timed (informative): listing 2,000 conversations with SessionStore.list(), cold and warm.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks import bench_listing
from benchmarks.common import BenchEnv, PtyProcess, app_command, log, median, reference_command
from benchmarks.fixtures import make_sessions

REPS = 5
COUNT, MESSAGES = 2000, 40


def first_frame(argv: list[str], env: dict[str, str]) -> float:
    with PtyProcess(argv, env) as proc:
        _, seen = proc.wait_for(b"Quit", 30)
        proc.wait_quiet(0.2, 3)
        return seen - proc.spawned


def run(reps: int = REPS) -> dict[str, Any]:
    from tui_chat.emulator import Emulator

    times: dict[str, list[float]] = {"reference": [], "empty": [], "cold": [], "warm": []}
    with (
        BenchEnv() as empty,
        BenchEnv() as full,
        Emulator(tokens_per_second=None, first_token_delay=0.0) as emulator,
    ):
        empty.emulator_url = full.emulator_url = emulator.url
        log(f"  writing {COUNT:,} conversations of {MESSAGES} messages")
        make_sessions(full.sessions_dir, COUNT, MESSAGES)
        first_frame(app_command(), full.env())  # builds the index; also warms the disk cache
        for n in range(reps):
            log(f"  start-up round {n + 1}/{reps}")
            times["reference"].append(first_frame(reference_command("bare"), empty.env()))
            empty.reset_data()
            times["empty"].append(first_frame(app_command(), empty.env()))
            full.clear_cache()
            times["cold"].append(first_frame(app_command(), full.env()))
            times["warm"].append(first_frame(app_command(), full.env()))
        listing = bench_listing.run(COUNT, MESSAGES, directory=full.sessions_dir)
    med = {kind: median(values) for kind, values in times.items()}
    return {
        "figures": {
            "startup_ratio": med["warm"] / med["empty"],
            "startup_vs_reference": med["empty"] / med["reference"],
            "startup_empty_s": med["empty"],
            "startup_2000_warm_s": med["warm"],
            "startup_2000_cold_s": med["cold"],
            "startup_reference_s": med["reference"],
            "startup_ratio_cold": med["cold"] / med["empty"],
        },
        "details": {"launches_s": times, "listing": listing},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args()
    started = time.monotonic()
    result = run(args.reps)
    result["elapsed_s"] = time.monotonic() - started
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
