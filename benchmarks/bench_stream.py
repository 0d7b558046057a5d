"""The real app (headless) receiving long replies at full speed, against a bare boto3 loop.

Method. This process runs the emulator at full speed (`tokens_per_second=None`) with
`long_reply` armed for every request, so each reply is exactly N tokens. For each N a fresh
child process (the app must not share a GIL with the server) alternates, REPS times:
- bare: `invoke_model_with_response_stream` on the same model, draining every event and
  decoding each chunk's JSON, timed from the call to the last event;
- app: `ChatApp().run_test(size=(120, 40))`, the prompt filled in, timed from pressing Enter
  (a key event sent through the driver, as a terminal's would arrive) until no stream is
  active and the reply is complete, plus one `pilot.pause()` so the last text is rendered.
stream_overhead is the median over the REPS pairs of app(20,000) / bare(20,000), each app run
paired with the bare run just before it in the same process (a shared 2-core machine drifts
between runs; a pair shares its conditions). stream_scaling = app(40,000) / app(10,000), the
minimum of each (the least disturbed run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import MAX_TOKENS, MODEL, REGION, BenchEnv, log, run_child

SIZES = (10_000, 20_000, 40_000)
REPS = 5


def bare_loop(url: str) -> tuple[float, int]:
    import boto3

    client = boto3.client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="AKIDBENCHMARK",
        aws_secret_access_key="benchmark-secret",
    )
    body = json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": "Tell me about streaming."}],
        }
    )
    started = time.perf_counter()
    response = client.invoke_model_with_response_stream(modelId=MODEL, body=body)
    chars = 0
    for event in response["body"]:
        chunk = json.loads(event["chunk"]["bytes"])
        if chunk.get("type") == "content_block_delta":
            chars += len(chunk["delta"]["text"])
    return time.perf_counter() - started, chars


async def app_once() -> tuple[float, int, str]:
    from textual import events

    from tui_chat.ui.app import WARM_UP_DELAY, ChatApp
    from tui_chat.ui.widgets.prompt import PromptInput

    app = ChatApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(WARM_UP_DELAY + 0.1)  # the client warm-up starts after the first frame
        for worker in list(app.workers):  # let it finish first
            if worker.group == "warmup":
                await worker.wait()
        await pilot.pause(0.2)
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.load_text("Tell me about streaming.")
        await pilot.pause()

        def done() -> bool:
            messages = app.conversation.messages
            return (
                not app.streams
                and bool(messages)
                and messages[-1].role == "assistant"
                and messages[-1].status != "streaming"
            )

        # Enter goes in through the driver, as a terminal's would: `pilot.press` also waits for
        # the app to idle and for animations, which cost ~0.15 s per press and is no part of
        # the app's streaming.
        enter = events.Key("enter", "\r")
        enter.set_sender(app)
        started = time.perf_counter()
        app._driver.send_message(enter)
        while not done():
            await asyncio.sleep(0.002)
        await pilot.pause()
        elapsed = time.perf_counter() - started
        reply = app.conversation.messages[-1]
        return elapsed, len(reply.content), reply.status


def child(tokens: int, reps: int) -> None:
    url = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]
    data = Path(os.environ["XDG_DATA_HOME"])
    bare, app = [], []
    for _ in range(reps):
        bare.append(bare_loop(url)[0])
        shutil.rmtree(data / "tui-chat", ignore_errors=True)
        elapsed, chars, status = asyncio.run(app_once())
        if status != "complete":
            raise SystemExit(f"the reply ended {status} after {chars} characters")
        app.append(elapsed)
    print(json.dumps({"tokens": tokens, "bare_s": bare, "app_s": app, "chars": chars}))


def run(reps: int = REPS, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    from tui_chat.emulator import Emulator, Fault

    results: dict[int, dict] = {}
    with BenchEnv() as env, Emulator(tokens_per_second=None, first_token_delay=0.0) as emulator:
        env.emulator_url = emulator.url
        for tokens in sizes:
            log(f"  headless stream: {tokens:,} tokens x{reps}")
            emulator.clear_faults()
            emulator.add_fault(Fault("long_reply", tokens=tokens, times=None))
            results[tokens] = run_child(
                "benchmarks.bench_stream",
                ["--child", str(tokens), "--reps", str(reps)],
                env.env(),
                600,
            )
    best = {n: (min(r["bare_s"]), min(r["app_s"])) for n, r in results.items()}
    figures: dict[str, float] = {}
    if 20_000 in best:
        # Each app run is paired with the bare loop run just before it (same machine state);
        # the figure is the median of those ratios, which one lucky or unlucky run cannot move.
        runs = results[20_000]
        figures["stream_overhead"] = statistics.median(
            app / bare for bare, app in zip(runs["bare_s"], runs["app_s"], strict=True)
        )
    if 10_000 in best and 40_000 in best:
        figures["stream_scaling"] = best[40_000][1] / best[10_000][1]
    details = {
        f"{n}": {"bare_s": bare, "app_s": app, "runs": results[n]}
        for n, (bare, app) in best.items()
    }
    return {"figures": figures, "details": details}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.reps)
        return
    print(json.dumps(run(args.reps), indent=2))


if __name__ == "__main__":
    sys.exit(main())
