"""`sbexport sim`: serve the simulated Platform on a loopback socket with uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any

from .settings import (
    FAULT_KINDS,
    HOSTILE_FAULTS,
    HOSTILE_VARIANTS,
    VARIANTS,
    SettingsError,
    SimSettings,
    parse_fault,
    parse_rate_limit,
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port; 0 picks a free one (default 8787)")
    p.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="T",
        help="accepted token (repeatable); a random one is made when none is given",
    )
    p.add_argument(
        "--job-seconds", type=float, default=10.0, metavar="S", help="time scale of export jobs"
    )
    p.add_argument(
        "--job-rate",
        type=float,
        default=None,
        metavar="MB/S",
        help="jobs take their file's size at this rate (+-30%%) instead of --job-seconds: a "
        "2 KB file seconds, a 150 GB one about an hour at 40 MB/s",
    )
    p.add_argument(
        "--latency-ms", type=float, default=0.0, metavar="L", help="latency added to every request"
    )
    p.add_argument(
        "--rate-limit", default="1000/300", metavar="N/SECONDS", help="per-token rate limit"
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND=RATE",
        help="inject a fault with a probability per request; kinds: "
        + ", ".join(sorted(FAULT_KINDS)),
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the demo world and of the faults")
    p.add_argument(
        "--world",
        default="demo",
        metavar="demo|cohort:N",
        help="demo (default), or cohort:N: the demo plus demo/cohort, N files of a sequencing "
        "cohort in three flat folders, and the bucket demo/cohort-delivery with the same N "
        "objects to import (for scale: cohort:100000)",
    )
    p.add_argument(
        "--hang-seconds",
        type=float,
        default=35.0,
        metavar="S",
        help="how long a 'timeout' fault holds the connection after acting (default 35)",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="behave one way where the docs are silent (repeatable): "
        + "; ".join(f"{k}: {v}" for k, v in VARIANTS.items()),
    )
    p.add_argument(
        "--hostile",
        action="store_true",
        help="for each request, apply each of these variants by a seeded coin toss, and roll "
        "per-job errors and wrong answers now and then: "
        + ", ".join(HOSTILE_VARIANTS)
        + "; faults "
        + ", ".join(f"{k}={v:g}" for k, v in HOSTILE_FAULTS.items()),
    )
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")


def settings_from_args(args: argparse.Namespace) -> SimSettings:
    limit, window = parse_rate_limit(args.rate_limit)
    faults = dict(parse_fault(f) for f in args.fault)
    kw = {"tokens": args.token} if args.token else {}
    return SimSettings(
        job_seconds=args.job_seconds,
        job_rate=None if args.job_rate is None else args.job_rate * 1e6,
        latency_ms=args.latency_ms,
        rate_limit=limit,
        rate_window=window,
        faults=faults,
        seed=args.seed,
        hang_seconds=args.hang_seconds,
        variants=frozenset(args.variant),
        hostile=getattr(args, "hostile", False),
        **kw,
    )


def listen_socket(host: str, port: int) -> Any:
    """The sim's listening socket. IPPROTO_TCP is named so that asyncio turns Nagle's algorithm
    off on each connection (it does so only for sockets that say TCP; a plain socket says 0):
    else an answer written in two parts waits for the client's delayed ACK, 40 ms a request
    that the real Platform does not add."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog until uvicorn serves them
    except OSError:
        sock.close()
        raise
    return sock


def run(args: argparse.Namespace) -> int:
    import asyncio  # not at the top: `sbexport --help` builds this parser, and must stay light
    import logging

    try:
        settings = settings_from_args(args)
    except SettingsError as e:
        print(f"sbexport sim: {e}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"sbexport sim: refusing to listen on {args.host}: the simulator is for this machine "
            "only. Use --host 127.0.0.1, or add --allow-remote if you really mean it.",
            file=sys.stderr,
        )
        return 2
    try:
        sock = listen_socket(args.host, args.port)
    except OSError as e:
        print(
            f"sbexport sim: cannot listen on {args.host}:{args.port}: {e.strerror or e}. "
            "Pick another --port, or --port 0 for a free one.",
            file=sys.stderr,
        )
        return 2
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    from .app import SimPlatform  # starlette and the world: only once the sim really starts
    from .demo import build_world

    try:
        world = build_world(getattr(args, "world", "demo"), settings.seed)
    except ValueError as e:
        print(f"sbexport sim: {e}", file=sys.stderr)
        sock.close()
        return 2
    platform = SimPlatform(world, settings, socket_mode=True)
    print(f"Simulated Seven Bridges Platform at http://{host}:{port}/v2", flush=True)
    for t in settings.tokens:
        print(f"Accepted token: {t}", flush=True)
    faults = ", ".join(f"{k}={v}" for k, v in settings.faults.items()) or "none"
    print(
        (
            f"Jobs at {settings.job_rate / 1e6:g} MB/s"
            if settings.job_rate
            else f"Jobs scale {settings.job_seconds:g}s"
        )
        + f", latency {settings.latency_ms:g} ms, rate limit "
        f"{settings.rate_limit}/{settings.rate_window:g}s, faults: {faults}, seed {settings.seed}, "
        f"variants: {', '.join(sorted(settings.variants)) or 'none'}"
        + (", hostile" if settings.hostile else "")
        + ". Ctrl-C stops.",
        flush=True,
    )
    import uvicorn

    config = uvicorn.Config(
        platform, log_level="critical", access_log=False, lifespan="off", date_header=False
    )
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    return 0
