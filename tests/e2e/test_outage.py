"""A network outage while `sbexport export --wait` waits: a subprocess talks to the loopback sim
through a TCP cable the test cuts (the port refuses connections) and mends on the same port."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time

import pytest

from .helpers import ALIGN, HL, PROJECT, VOLUME, add_profile, clean, hl

pytestmark = pytest.mark.e2e

OTHER = "batches/batch-01/S0102/alignments"


class Cable:
    """A TCP forwarder on a loopback port to the sim. ``cut()`` closes the listener and every
    connection through it, so the port refuses connections; ``mend()`` listens again on the same
    port."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = 0
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        self.up = threading.Event()
        self.accepting: threading.Thread | None = None
        self.mend()

    def mend(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self.up.set()
        self.accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self.accepting.start()

    def cut(self) -> None:
        self.up.clear()
        if self.accepting is not None:
            self.accepting.join()  # the listener is closed when this returns
        with self.lock:
            for s in self.conns:
                _close(s)
            self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self.up.is_set():
                try:
                    down, _ = listener.accept()
                except TimeoutError:
                    continue
                down.settimeout(None)
                up = socket.create_connection(self.target)
                with self.lock:
                    self.conns += [down, up]
                for a, b in ((down, up), (up, down)):
                    threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        _close(a)
        _close(b)


class Lines:
    """A subprocess's stderr, line by line, without blocking past a deadline."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.q: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.q.put(line)
        self.q.put("")

    def until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
            if not line:
                break
        self.proc.kill()
        raise AssertionError(f"{text!r} never came: {''.join(self.seen)}")

    def rest(self) -> str:
        while (line := self.q.get(timeout=60)) != "":
            self.seen.append(line)
        return "".join(self.seen)


def test_export_wait_rides_out_an_outage_and_gives_up_only_after_give_up_after(sim_server, env):
    server = sim_server("--job-seconds", "0.3")
    cable = Cable(int(server.url.rsplit(":", 1)[1].split("/")[0]))
    add_profile(env, f"http://127.0.0.1:{cable.port}/v2")

    # 1. the network goes down once the jobs are sent, and comes back: the wait goes on
    wait = ["--wait", "--poll-interval", "0.5", "--retries", "1", "--give-up-after", "1h"]
    proc = subprocess.Popen(
        [*HL, "export", "--project", PROJECT, "--path", ALIGN, "--volume", VOLUME, *wait],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = Lines(proc)
    log.until("run 1 submitted: ")
    cable.cut()
    down = log.until("network unreachable: ")
    cable.mend()
    stderr = log.rest()
    stdout = proc.stdout.read() if proc.stdout else ""
    r = subprocess.CompletedProcess(proc.args, proc.wait(30), stdout, stderr)
    clean(r)
    assert r.returncode == 0, stderr
    # a refused connection, or the kept-alive one dropped: the cause as the client saw it
    assert f"run 1: network unreachable: POST http://127.0.0.1:{cable.port}/v2/" in down
    assert "for up to 1h (--give-up-after)" in down
    assert "run 1: network back after " in stderr and "; watching again" in stderr
    assert "Run 1: 4 exported, 4 verified on the volume" in stdout

    # 2. an outage longer than --give-up-after: exit 4, how long, and the command that resumes
    r = hl(env, "export", "--project", PROJECT, "--path", OTHER, "--volume", VOLUME)
    assert r.returncode == 0, r.stderr
    cable.cut()
    r = hl(env, "jobs", "watch", "--run", "2", "--retries", "1", "--give-up-after", "1s")
    clean(r)
    assert r.returncode == 4, r.stderr
    error = r.stderr.strip().splitlines()[-1]
    assert error.startswith("sbexport jobs watch: error: gave up waiting for run 2: the network")
    assert "longer than --give-up-after 1s" in error and "The journal keeps every job" in error
    assert error.endswith("resume with: sbexport jobs watch --run 2")
    assert error.count("sbexport jobs watch --run 2") == 1
