"""``python -m tui_chat.emulator``: run the Bedrock emulator in the foreground until ctrl+c."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from tui_chat.emulator import Emulator, Fault
from tui_chat.emulator.faults import KINDS

_FAULT_FIELDS = {
    "after_tokens": int,
    "seconds": float,
    "tokens": int,
    "model": str,
    "operation": str,
}


def parse_fault(spec: str) -> Fault:
    """``KIND[:key=value,...]``, e.g. ``stream_throttling:after_tokens=5,times=2``.

    ``times`` defaults to 1; ``times=forever`` keeps the fault armed for every request.
    """
    kind, _, rest = spec.partition(":")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"unknown fault {kind!r} (choose from {', '.join(KINDS)})")
    options: dict[str, object] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        key = key.strip()
        try:
            if key == "times":
                options["times"] = None if value in ("forever", "inf", "0") else int(value)
            elif key in _FAULT_FIELDS and sep:
                options[key] = _FAULT_FIELDS[key](value)
            else:
                raise ValueError
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad fault option {item!r} in {spec!r}") from None
    return Fault(kind, **options)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tui_chat.emulator",
        description="A local Amazon Bedrock emulator (runtime and control plane) for boto3.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument(
        "--speed",
        choices=("realistic", "full"),
        default="realistic",
        help="realistic: tens of tokens per second after a short delay; full: no pacing at all",
    )
    parser.add_argument("--tps", type=float, help="tokens per second (implies realistic pacing)")
    parser.add_argument(
        "--first-token-delay", type=float, default=0.4, help="seconds before the first token"
    )
    parser.add_argument(
        "--fault",
        action="extend",
        nargs="+",
        default=[],
        type=parse_fault,
        metavar="KIND[:key=value,...]",
        help=f"arm one or more faults (repeatable); kinds: {', '.join(KINDS)}",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.tps is not None:
        tps: float | None = args.tps
    else:
        tps = None if args.speed == "full" else 40.0
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    emulator = Emulator(
        tokens_per_second=tps,
        first_token_delay=args.first_token_delay,
        host=args.host,
        port=args.port,
    )
    for fault in args.fault:
        emulator.add_fault(fault)
    emulator.start()
    print(f"Bedrock emulator listening on {emulator.url}")
    print(f"export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={emulator.url}")
    print(f"export AWS_ENDPOINT_URL_BEDROCK={emulator.url}")
    print("export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=dummy")
    print("export AWS_DEFAULT_REGION=us-east-1")
    print("Press ctrl+c to stop.", flush=True)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    print("Bedrock emulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
