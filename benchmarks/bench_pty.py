"""The app on a real terminal: bytes and CPU per character streamed, render lag, key latency.

Method. The real app (`python -m tui_chat`) runs on a pseudo-terminal of 120x40 with
TERM=xterm-256color and COLORTERM=truecolor, default theme, pointed at a Bedrock emulator
started in this process. A thread drains the terminal's master side continuously and records
every read with its time; all searching happens afterwards on the recorded bytes.

- Streaming run: the emulator is paced (`tokens_per_second=100`, no first-token delay) and
  armed with `scripted_reply`, so the reply is exactly the fixed ~8 KB Markdown text of
  `fixtures.streamed_reply()` sent one token (a word and its whitespace) per event. We type a
  prompt, wait for its echo, press Enter, and the measurement window runs from that Enter to
  one second after the emulator sent the last token.
  * bytes_per_char: bytes the app wrote in the window / characters of the reply.
  * cpu_per_kb: the app's CPU seconds (user + sys of every thread, /proc/<pid>/stat) in the
    window per KB of reply, divided by the reference app's in the same run.
  * render_lag_ms: the emulator's token encoder is wrapped (in this process) to timestamp each
    token as it is written to the socket. Marker words ZQ001, ZQ002, ... are planted in the
    reply's prose every ~25 tokens; the lag of a marker is the arrival on the terminal of its
    first complete occurrence minus the moment the emulator sent it (loopback: that is when it
    reaches the app's reader). The figure is the longest lag in the run.
- The reference app (benchmarks/reference_app.py stream) gets the same terminal and the same
  tokens at the same pace (it paces itself from the Enter key), into `Markdown.get_stream()` in
  an anchored VerticalScroll at Textual's defaults; the same window gives
  `bytes_per_char_reference` and the CPU the ratio is taken against.
- Key latency: while the same reply streams at 200 tokens/s, 40 distinct Greek/Cyrillic
  letters (absent from everything else on screen) are typed into the prompt ~120 ms apart;
  each key's latency is the arrival of its first echo minus the write. The figure is the p95;
  key_latency_p99_ms and key_latency_max_ms are the p99 and the worst key of the same run.
- Idle: the app is started, left to settle (IDLE_SETTLE s after its first frame, so the
  start-up work is done), then nothing happens for IDLE_SECONDS: idle_bytes_per_s is what it
  wrote to the terminal per second and idle_cpu_fraction its CPU time over that time.
- Slow model: the first SLOW_CHARS characters of the reply streamed at SLOW_TPS tokens/s (a
  large model's pace) to the app and to the reference; slow_cpu_per_kb is the app's CPU per KB
  over the reference's, in the same run (polling while waiting would show here).

Runs alternate app and reference; figures are the median over runs, except render_lag_ms:
the worst run's worst marker.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BenchEnv,
    PtyProcess,
    app_command,
    log,
    median,
    percentile,
    reference_command,
)
from benchmarks.fixtures import marker_words, streamed_reply

TPS = 100.0
KEY_TPS = 200.0
SETTLE = 1.0
KEYS = [chr(c) for c in range(0x03B1, 0x03CA)] + [chr(c) for c in range(0x0430, 0x0450)]
N_KEYS = 40
KEY_GAP = 0.12
DUMPS: list[Path] = []  # --dump: folders to save raw terminal output in
IDLE_SETTLE = 3.0
IDLE_SECONDS = 20.0
SLOW_TPS = 20.0
SLOW_CHARS = 1500


@contextmanager
def record_sends(sends: list[tuple[float, str]]) -> Iterator[None]:
    """Timestamp every token the emulator writes (wraps its stream encoder in this process)."""
    from tui_chat.emulator import server

    original = server.stream_encoder

    def timed_encoder(*args: Any, **kwargs: Any) -> Any:
        encoder = original(*args, **kwargs)
        token = encoder.token  # the encoder's own steps call it for every text token

        def timed(text: str, count: int) -> bytes:
            frame = token(text, count)
            sends.append((time.monotonic(), text))
            return frame

        encoder.token = timed
        return encoder

    server.stream_encoder = timed_encoder
    try:
        yield
    finally:
        server.stream_encoder = original


def _ready(proc: PtyProcess) -> None:
    """Wait for the first frame and for the screen to settle."""
    proc.wait_for(b"Quit", 30)
    proc.wait_quiet(0.4, 5)


def _type_prompt(proc: PtyProcess, text: str) -> None:
    start = len(proc.output.data)
    proc.write(text)
    proc.wait_for(text[-6:].encode(), 10, start)
    proc.wait_quiet(0.25, 3)


def _slow_text(text: str) -> str:
    """The reply's first SLOW_CHARS characters or so, cut at a paragraph."""
    cut = text.find("\n\n", SLOW_CHARS)
    return text if cut < 0 else text[:cut] + "\n"


def app_stream(
    env: BenchEnv, emulator: Any, text: str, tps: float, keys: bool, markers: bool = True
) -> dict:
    """One streaming run of the real app; with `keys`, measure key echo latency instead."""
    from tui_chat.emulator import Fault

    emulator.tokens_per_second = tps
    emulator.first_token_delay = 0.0
    emulator.clear_faults()
    emulator.add_fault(Fault("scripted_reply", text=text))
    env.reset_data()
    sends: list[tuple[float, str]] = []
    result: dict[str, Any] = {}
    with PtyProcess(app_command(), env.env()) as proc, record_sends(sends):
        _ready(proc)
        _type_prompt(proc, "Tell me about streaming qwzx")
        cpu0 = proc.cpu()
        enter = proc.write("\r")
        enter_offset = len(proc.output.data)
        if keys:
            result = _type_keys(proc, sends)
        deadline = time.monotonic() + len(text) / tps + 60
        n_tokens = len(_tokens(text))
        while True:  # until the last token has been sent
            if len(sends) >= n_tokens:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the reply did not finish streaming")
            time.sleep(0.05)
        end = sends[-1][0] + SETTLE
        time.sleep(max(0.0, end - time.monotonic()))
        cpu1 = proc.cpu()
        if keys:
            return result
        out = proc.output
        written = out.bytes_between(enter, end)
        for folder in DUMPS:
            stem = f"app-{int(time.time() * 1000)}"
            (folder / f"{stem}.out").write_bytes(bytes(out.data))
            reads = [[t - enter, offset] for t, offset in out.reads]
            (folder / f"{stem}.reads.json").write_text(json.dumps(reads))
        lags = [0.0]
        for word in marker_words(text) if markers else []:
            sent = next(t for t, tok in sends if word in tok)
            seen = out.first(word.encode(), enter_offset)
            if seen is None:
                raise AssertionError(f"marker {word} never reached the screen")
            lags.append((seen[1] - sent) * 1000)
        words = marker_words(text) if markers else []
        missing = [w for w in words if out.first(w.encode(), enter_offset) is None]
        return {
            "bytes": written,
            "chars": len(text),
            "bytes_per_char": written / len(text),
            "cpu_s": cpu1 - cpu0,
            "cpu_per_kb": (cpu1 - cpu0) / (len(text) / 1024),
            "lag_max_ms": max(lags),
            "lag_p50_ms": median(lags),
            "lags_ms": [round(lag) for lag in lags],
            "missing_markers": missing,
            "stream_s": sends[-1][0] - sends[0][0],
        }


def _type_keys(proc: PtyProcess, sends: list[tuple[float, str]]) -> dict:
    """Type distinct letters while the reply streams; each one's time to echo."""
    deadline = time.monotonic() + 10
    while not sends and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # well into the stream
    typed: list[tuple[str, float, int]] = []
    for key in KEYS[:N_KEYS]:
        offset = len(proc.output.data)
        typed.append((key, proc.write(key), offset))
        time.sleep(KEY_GAP)
    time.sleep(0.5)
    latencies = []
    for key, when, offset in typed:
        seen = proc.output.first(key.encode("utf-8"), offset)
        latencies.append(((seen[1] - when) * 1000) if seen else float("inf"))
    streaming_until = sends[-1][0] if sends else 0.0
    return {
        "key_latencies_ms": latencies,
        "key_p95_ms": percentile(latencies, 0.95),
        "key_p50_ms": median(latencies),
        "keys_while_streaming": sum(1 for _, when, _ in typed if when < streaming_until),
    }


def reference_stream(env: BenchEnv, text_file: Path, text: str, tps: float) -> dict:
    with PtyProcess(
        reference_command("stream", str(text_file), "--tps", str(tps)), env.env()
    ) as proc:
        _ready(proc)
        cpu0 = proc.cpu()
        enter = proc.write("\r")
        end = enter + (len(_tokens(text)) - 1) / tps + SETTLE
        time.sleep(max(0.0, end - time.monotonic()))
        cpu1 = proc.cpu()
        written = proc.output.bytes_between(enter, end)
        return {
            "bytes": written,
            "bytes_per_char": written / len(text),
            "cpu_s": cpu1 - cpu0,
            "cpu_per_kb": (cpu1 - cpu0) / (len(text) / 1024),
        }


def _tokens(text: str) -> list[str]:
    from tui_chat.emulator.demo_model import tokenize

    return tokenize(text)


def run(runs: int = 3, reference: bool = True, keys: bool = True) -> dict[str, Any]:
    from tui_chat.emulator import Emulator

    text = streamed_reply()
    app_runs, ref_runs = [], []
    with BenchEnv() as env, Emulator(tokens_per_second=TPS, first_token_delay=0.0) as emulator:
        env.emulator_url = emulator.url
        text_file = env.root / "reply.md"
        text_file.write_text(text, encoding="utf-8")
        for n in range(runs):
            log(f"  pty stream run {n + 1}/{runs}: app")
            app_runs.append(app_stream(env, emulator, text, TPS, keys=False))
            if reference:
                log(f"  pty stream run {n + 1}/{runs}: reference")
                ref_runs.append(reference_stream(env, text_file, text, TPS))
        key_run = {}
        if keys:
            log("  key latency run")
            key_run = app_stream(env, emulator, text, KEY_TPS, keys=True)
        idle_run, slow_runs = {}, []
        if reference:
            log(f"  idle run ({IDLE_SECONDS:.0f} s)")
            idle_run = idle(env)
            slow = _slow_text(text)
            slow_file = env.root / "slow.md"
            slow_file.write_text(slow, encoding="utf-8")
            log(f"  slow model run ({SLOW_TPS:.0f} tokens/s): app")
            slow_runs.append(app_stream(env, emulator, slow, SLOW_TPS, keys=False, markers=False))
            log(f"  slow model run ({SLOW_TPS:.0f} tokens/s): reference")
            slow_runs.append(reference_stream(env, slow_file, slow, SLOW_TPS))
    figures = {
        "bytes_per_char": median(r["bytes_per_char"] for r in app_runs),
        "render_lag_ms": max(r["lag_max_ms"] for r in app_runs),
    }
    details: dict[str, Any] = {
        "reply_chars": len(text),
        "reply_tokens": len(_tokens(text)),
        "markers": len(marker_words(text)),
        "app_cpu_s_per_kb": median(r["cpu_per_kb"] for r in app_runs),
        "app_runs": app_runs,
    }
    if ref_runs:
        ratios = [
            a["cpu_per_kb"] / r["cpu_per_kb"] for a, r in zip(app_runs, ref_runs, strict=True)
        ]
        figures["bytes_per_char_reference"] = median(r["bytes_per_char"] for r in ref_runs)
        figures["cpu_per_kb"] = median(ratios)
        details["reference_cpu_s_per_kb"] = median(r["cpu_per_kb"] for r in ref_runs)
        details["reference_runs"] = ref_runs
    if key_run:
        figures["key_latency_ms"] = key_run["key_p95_ms"]
        figures["key_latency_p99_ms"] = percentile(key_run["key_latencies_ms"], 0.99)
        figures["key_latency_max_ms"] = max(key_run["key_latencies_ms"])
        details["keys"] = key_run
    if idle_run:
        figures["idle_bytes_per_s"] = idle_run["bytes_per_s"]
        figures["idle_cpu_fraction"] = idle_run["cpu_fraction"]
        details["idle"] = idle_run
    if slow_runs:
        figures["slow_cpu_per_kb"] = slow_runs[0]["cpu_per_kb"] / slow_runs[1]["cpu_per_kb"]
        details["slow"] = slow_runs
    return {"figures": figures, "details": details}


def idle(env: BenchEnv) -> dict:
    """The app left alone: bytes to the terminal per second and the share of a core used."""
    env.reset_data()
    with PtyProcess(app_command(), env.env()) as proc:
        _ready(proc)
        time.sleep(IDLE_SETTLE)
        cpu0, start = proc.cpu(), time.monotonic()
        offset = len(proc.output.data)
        time.sleep(IDLE_SECONDS)
        cpu1, end = proc.cpu(), time.monotonic()
        written = len(proc.output.data) - offset
        return {
            "seconds": end - start,
            "bytes": written,
            "bytes_per_s": written / (end - start),
            "cpu_fraction": (cpu1 - cpu0) / (end - start),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="the app only")
    parser.add_argument("--no-keys", action="store_true", help="skip the key latency run")
    parser.add_argument("--dump", type=Path, help="save each app run's terminal output here")
    args = parser.parse_args()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        DUMPS.append(args.dump)
    result = run(args.runs, reference=not args.no_reference, keys=not args.no_keys)
    print(json.dumps(result["figures"], indent=2))
    if args.dump:
        (args.dump / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
