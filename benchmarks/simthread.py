"""The simulated Platform served from a thread of the benchmark's own process, so that its
counters (requests, 429s, jobs) can be read directly while the client runs as a subprocess."""

from __future__ import annotations

import asyncio
import threading
import time

TOKEN = "bench0token000000000000000000000"


class SimThread:
    def __init__(self, world, settings) -> None:
        import uvicorn

        from sbexport_tui.sim.app import SimPlatform

        self.settings = settings
        self.platform = SimPlatform(world, settings, socket_mode=True)
        from sbexport_tui.sim.server import listen_socket

        # (a plain socket.socket() had every answer wait 40 ms for a delayed ACK)
        self.sock = listen_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v2"
        config = uvicorn.Config(
            self.platform, log_level="critical", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )

    def __enter__(self) -> SimThread:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def requests(self) -> int:
        return self.platform.gate.requests + self.platform.gate.responses_429

    @property
    def responses_429(self) -> int:
        return self.platform.gate.responses_429

    def _jobs(self, kind: str) -> list:
        world = self.platform.world
        return list((world.imports if kind == "import" else world.exports).values())

    def last_job_done(self, kind: str = "export") -> float | None:
        return max((j.done_at for j in self._jobs(kind)), default=None)

    def jobs(self, kind: str = "export") -> int:
        return len(self._jobs(kind))
