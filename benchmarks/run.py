"""`make bench`: run every benchmark, print the table, write benchmarks/results.json.

    python -m benchmarks.run [--quick] [--only stream,pty,startup,long_chat] [--output FILE]
                             [--source DIR]

--source measures the tui_chat package in DIR (a prototype copy) instead of this checkout.

Each benchmark module documents its method in its docstring:
- bench_stream.py     stream_overhead, stream_scaling (headless app vs a bare boto3 loop)
- bench_startup.py    startup_ratio, startup_vs_reference (+ absolute times, cold and warm)
- bench_long_chat.py  open_long_chat_s, long_chat_rss_mb
- bench_pty.py        bytes_per_char (+ the reference's), cpu_per_kb, render_lag_ms,
                      key_latency_ms (+ p99, max), idle_bytes_per_s, idle_cpu_fraction,
                      slow_cpu_per_kb (the real app on a 120x40 pseudo-terminal)
Every figure comes from the emulator on loopback, and ratios compare runs made in the same
invocation, so a slow or busy machine moves both sides together.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
#: The same table as Markdown (date and machine included), for README and release notes.
TABLE = RESULTS.with_name("results.md")


def _bytes_goal(figures: dict[str, float]) -> bool:
    value = figures["bytes_per_char"]
    reference = figures.get("bytes_per_char_reference")
    return value <= 120 and (reference is None or value <= reference / 3)


#: figure -> (unit, goal in words, test)
GOALS: dict[str, tuple[str, str, Callable[[dict[str, float]], bool]]] = {
    "stream_overhead": ("x", "<= 1.3", lambda f: f["stream_overhead"] <= 1.3),
    "stream_scaling": ("x", "<= 4.4", lambda f: f["stream_scaling"] <= 4.4),
    "startup_ratio": ("x", "<= 1.3", lambda f: f["startup_ratio"] <= 1.3),
    "open_long_chat_s": ("s", "<= 0.5", lambda f: f["open_long_chat_s"] <= 0.5),
    "long_chat_rss_mb": ("MB", "<= 250", lambda f: f["long_chat_rss_mb"] <= 250),
    "bytes_per_char": ("B/char", "<= 120 and <= reference/3", _bytes_goal),
    "cpu_per_kb": ("x", "<= 0.25", lambda f: f["cpu_per_kb"] <= 0.25),
    "startup_vs_reference": ("x", "<= 1.5", lambda f: f["startup_vs_reference"] <= 1.5),
    "render_lag_ms": ("ms", "<= 250", lambda f: f["render_lag_ms"] <= 250),
    "key_latency_ms": ("ms", "<= 50", lambda f: f["key_latency_ms"] <= 50),
    "idle_bytes_per_s": ("B/s", "<= 50", lambda f: f["idle_bytes_per_s"] <= 50),
    "idle_cpu_fraction": ("of a core", "<= 0.01", lambda f: f["idle_cpu_fraction"] <= 0.01),
    "slow_cpu_per_kb": ("x", "<= 0.25", lambda f: f["slow_cpu_per_kb"] <= 0.25),
}
#: Figures reported alongside (absolute times, the reference's own numbers).
ALSO = {
    "bytes_per_char_reference": "B/char",
    "key_latency_p99_ms": "ms",
    "key_latency_max_ms": "ms",
    "startup_empty_s": "s",
    "startup_2000_warm_s": "s",
    "startup_2000_cold_s": "s",
    "startup_ratio_cold": "x",
    "startup_reference_s": "s",
}


def _benches(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    from benchmarks import bench_long_chat, bench_pty, bench_startup, bench_stream

    reps = 2 if quick else None
    return {
        "stream": lambda: bench_stream.run(reps or bench_stream.REPS),
        "startup": lambda: bench_startup.run(reps or bench_startup.REPS),
        "long_chat": lambda: bench_long_chat.run(reps or bench_long_chat.REPS),
        "pty": lambda: bench_pty.run(1 if quick else 3),
    }


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: dict[str, float]) -> list[str]:
    """The results as a Markdown table (for the terminal, README and notes alike)."""
    lines = ["| figure | measured | goal | |", "| --- | --- | --- | --- |"]
    for name, (unit, goal, test) in GOALS.items():
        if name not in figures:
            lines.append(f"| {name} | not run | {goal} | |")
            continue
        verdict = "pass" if test(figures) else "**FAIL**"
        lines.append(f"| {name} | {_fmt(figures[name])} {unit} | {goal} | {verdict} |")
    for name, unit in ALSO.items():
        if name in figures:
            lines.append(f"| {name} | {_fmt(figures[name])} {unit} | (reported) | |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the tui-chat benchmarks.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (noisier)")
    parser.add_argument("--only", default="", help="comma-separated: stream,startup,long_chat,pty")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--source", type=Path, help="folder holding the tui_chat to measure")
    args = parser.parse_args(argv)
    if args.source:
        os.environ["TUI_CHAT_BENCH_SOURCE"] = str(args.source.resolve())
        if "benchmarks.common" in sys.modules or "tui_chat" in sys.modules:
            parser.error("--source must be handled before tui_chat is imported")
    from benchmarks.common import SOURCE, log, machine

    benches = _benches(args.quick)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or list(benches)
    unknown = set(chosen) - set(benches)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    figures: dict[str, float] = {}
    details: dict[str, Any] = {}
    for name in chosen:
        log(f"{name}:")
        began = time.monotonic()
        result = benches[name]()
        figures.update(result["figures"])
        details[name] = {**result.get("details", {}), "seconds": time.monotonic() - began}
    elapsed = time.monotonic() - started
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    main_figures = {k: figures[k] for k in GOALS if k in figures}
    results = {
        "figures": main_figures,
        "bytes_per_char_reference": figures.get("bytes_per_char_reference"),
        "also": {k: figures[k] for k in ALSO if k in figures},
        "passed": {k: GOALS[k][2](figures) for k in main_figures},
        "machine": host,
        "source": str(SOURCE),
        "date": date,
        "elapsed_s": round(elapsed, 1),
        "details": details,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    heading = f"tui-chat benchmarks, {date}, {host}"
    lines = table(figures)
    if args.output == RESULTS:
        TABLE.write_text(f"{heading}\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n{heading}\n")
    print("\n".join(lines))
    print(
        f"\n{sum(results['passed'].values())}/{len(main_figures)} goals met; took {elapsed:.0f} s"
    )
    print(f"wrote {args.output}" + (f" and {TABLE}" if args.output == RESULTS else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
