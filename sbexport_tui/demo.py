"""`sbexport --demo`: the app on the embedded simulated Platform."""

from __future__ import annotations

import argparse


def run_demo() -> int:
    # Until the interactive screens land, the demo serves the simulated Platform and says so.
    from .sim.server import add_arguments, run

    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--port", "0", "--token", "demo-token-not-a-secret"])
    print("sbexport demo: the interactive screens are not built yet.")
    print("Serving the simulated Platform with its demo world instead; point a client at it:")
    return run(args)
