"""Run RNN Playground as several web replicas behind HAProxy, sharing one Dask cluster.

On one machine, in this order: a Dask scheduler, its worker processes (single-threaded, started
from the repository root so that they import ``rnn_core``), K Streamlit replicas of ``app.py``
each told the scheduler's address (``RNN_PLAYGROUND_SCHEDULER``) and its own name
(``RNN_PLAYGROUND_REPLICA``), and HAProxy with sticky sessions in front of them
(``deploy/haproxy.cfg``). Each stage waits, for a bounded time, until it is really usable
(the scheduler answers, the workers have joined and can import ``rnn_core``, every replica
answers ``/_stcore/health``, HAProxy's own health checks see every replica up) before the next
starts; any failure stops what was started and names the log to read. Everything listens on
loopback unless told otherwise, and is stopped in reverse order on Ctrl+C or SIGTERM.

Usage (from anywhere; see deploy/README.md)::

    python deploy/launch.py                       # http://127.0.0.1:8080, 2 replicas, 2 workers
    python deploy/launch.py --replicas 3 --workers 4 --port 9000
    python deploy/launch.py --scheduler tcp://10.0.0.5:8786 --workers 0   # an existing cluster
    python deploy/launch.py --print-config        # the HAProxy configuration it would use

The tests (tests/deploy) drive the same :class:`Deployment` on free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HAPROXY_TEMPLATE = Path(__file__).with_name("haproxy.cfg")
BACKEND = "replicas"  # the backend section's name in haproxy.cfg
SBIN_HAPROXY = ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")  # often not on a user's PATH
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

SCHEDULER_TIMEOUT = 30.0
WORKERS_TIMEOUT = 60.0
REPLICA_TIMEOUT = 60.0
HAPROXY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
"""Seconds each stage may take to become usable, and each process to exit once asked to."""


class DeploymentError(RuntimeError):
    """A piece of the deployment did not start; the message names it and its log."""


def haproxy_binary() -> str | None:
    """HAProxy's executable: ``$HAPROXY`` if set, else ``haproxy`` on the PATH or in the sbin
    folders; ``None`` if there is none."""
    given = os.environ.get("HAPROXY")
    for candidate in [given] if given else [shutil.which("haproxy"), *SBIN_HAPROXY]:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def render_haproxy_config(bind: str, servers: Sequence[tuple[str, str, int]], stats_socket: str) -> str:
    """``deploy/haproxy.cfg`` filled in: listening on ``bind`` (``host:port``), one ``server``
    line per ``(name, host, port)``, whose sticky cookie value is the replica's name."""
    for name, _, _ in servers:
        if not NAME.match(name):
            raise DeploymentError(f"replica name {name!r} is not a short name of letters, digits, '-', '_'")
    lines = "\n".join(f"    server {name} {host}:{port} cookie {name}" for name, host, port in servers)
    template = string.Template(HAPROXY_TEMPLATE.read_text())
    return template.substitute(bind=bind, stats_socket=stats_socket, servers=lines)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def backend_status(stats_socket: str) -> dict[str, tuple[str, str]]:
    """``{server: (status, last check)}`` of the replicas backend, from HAProxy's stats socket,
    e.g. ``{"web1": ("UP", "L7OK")}``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        sock.connect(stats_socket)
        sock.sendall(b"show stat\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    lines = b"".join(chunks).decode().splitlines()
    if not lines or not lines[0].startswith("#"):
        return {}
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {
        row["svname"]: (row.get("status", ""), row.get("check_status", ""))
        for row in rows
        if row.get("pxname") == BACKEND and row.get("svname") not in ("BACKEND", "FRONTEND")
    }


@dataclass
class Process:
    """One started program and where its output goes."""

    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise DeploymentError(
                f"{self.name} exited with status {self.popen.returncode}; its log {self.log} ends:\n"
                f"{self.tail()}"
            )


def _wait(condition: Callable[[], bool], timeout: float, what: str, process: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            process.check_alive()
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    where = f"; its log {process.log} ends:\n{process.tail()}" if process else ""
    raise DeploymentError(f"timed out after {timeout:.0f} s waiting for {what}{where}")


def _port_open(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1.0):
        return True


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2.0) as response:
        return response.status == 200 and response.read().strip() == b"ok"


@dataclass
class Deployment:
    """A scheduler, workers, Streamlit replicas and HAProxy started together; a context manager.

    Parameters
    ----------
    port : int
        HAProxy's port: the app is served at ``http://<host>:<port>``.
    replica_ports : sequence of int
        One Streamlit replica per port, named ``names[i]`` (default ``web1``, ``web2``, ...).
    workers : int
        Dask worker processes to start (one thread each); ``0`` with ``scheduler`` uses the
        existing cluster's workers only.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``); ``None`` starts one on
        ``host:scheduler_port``.
    host : str
        The interface everything started here listens on; keep it loopback or private.
    run_dir : Path, optional
        Where the logs and the filled-in HAProxy configuration go (default: a new temporary folder).
    """

    port: int
    replica_ports: Sequence[int]
    workers: int = 2
    scheduler: str | None = None
    scheduler_port: int = 8786
    host: str = "127.0.0.1"
    run_dir: Path | None = None
    names: Sequence[str] | None = None
    processes: list[Process] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.names = list(self.names or [f"web{i + 1}" for i in range(len(self.replica_ports))])
        if len(self.names) != len(self.replica_ports) or len(set(self.names)) != len(self.names):
            raise DeploymentError("give each replica its own name and port")
        # A UNIX socket path must stay short (about 100 bytes), so it gets its own folder in /tmp.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="rnn-haproxy-"))
        self.stats_socket = str(self._socket_dir / "stats.sock")
        self.scheduler_address = self.scheduler or f"tcp://{self.host}:{self.scheduler_port}"
        # The same secret on every replica: XSRF tokens (file uploads) stay valid if HAProxy ever
        # has to move a browser to another replica.
        self.cookie_secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def haproxy_config(self) -> str:
        servers = [(n, self.host, p) for n, p in zip(self.names, self.replica_ports, strict=True)]
        return render_haproxy_config(f"{self.host}:{self.port}", servers, self.stats_socket)

    # ------------------------------------------------------------------ starting

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.run_dir / f"{name}.log"
        # A local-cluster setting of the parent (the test suite sets one) means nothing here.
        inherited = {k: v for k, v in os.environ.items() if k != "RNN_PLAYGROUND_WORKERS"}
        full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
        with log.open("w") as out:
            # Its own session: Ctrl+C in the launcher's terminal does not reach the children, which
            # are then stopped in order (front to back), and a stuck one can be killed as a group.
            popen = subprocess.Popen(
                cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start(self) -> Deployment:
        """Start every piece in turn; on any failure, stop what was started and raise."""
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="rnn-playground-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_cluster()
            self._start_replicas()
            self._start_haproxy()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_cluster(self) -> None:
        python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        # Even with no dashboard, Dask's scheduler and workers serve a small HTTP server (health,
        # Prometheus metrics, cluster information) on all interfaces unless told where: keep it
        # on this deployment's interface, on a free port.
        http = f"{self.host}:0"
        if self.scheduler is None:
            scheduler = self._spawn(
                "scheduler",
                [sys.executable, "-m", "dask", "scheduler", "--host", self.host,
                 "--port", str(self.scheduler_port), "--no-dashboard", "--dashboard-address", http],
                {"PYTHONPATH": python_path},
            )  # fmt: skip
            what = f"the Dask scheduler on port {self.scheduler_port}"
            _wait(lambda: _port_open(self.host, self.scheduler_port), SCHEDULER_TIMEOUT, what, scheduler)
        from distributed import Client

        try:
            client = Client(self.scheduler_address, timeout=f"{SCHEDULER_TIMEOUT:.0f}s", set_as_default=False)
        except OSError as exc:
            raise DeploymentError(f"no Dask scheduler answers at {self.scheduler_address}: {exc}") from exc
        try:
            present = len(client.scheduler_info()["workers"])
            worker = None
            if self.workers > 0:
                worker = self._spawn(
                    "workers",
                    [sys.executable, "-m", "dask", "worker", self.scheduler_address,
                     "--nworkers", str(self.workers), "--nthreads", "1", "--host", self.host,
                     "--no-dashboard", "--dashboard-address", http,
                     "--local-directory", str(self.run_dir / "dask-worker"), "--death-timeout", "60"],
                    {"PYTHONPATH": python_path},
                )  # fmt: skip
            self._check_workers(client, max(present + self.workers, 1), worker)
        finally:
            client.close()

    def _check_workers(self, client, wanted: int, worker: Process | None) -> None:
        """Wait until ``wanted`` workers have joined, then check that each can import the engine
        (a run is an ``rnn_core`` object the worker unpickles)."""
        deadline = time.monotonic() + WORKERS_TIMEOUT
        while (joined := len(client.scheduler_info()["workers"])) < wanted:
            if worker is not None:
                worker.check_alive()
            if time.monotonic() > deadline:
                where = f"; see {worker.log}" if worker else ""
                raise DeploymentError(
                    f"only {joined} of {wanted} Dask workers joined {self.scheduler_address} "
                    f"in {WORKERS_TIMEOUT:.0f} s{where}"
                )
            time.sleep(0.2)

        def engine_importable() -> bool:  # local, so Dask ships it by value, not by module name
            import importlib.util

            return importlib.util.find_spec("rnn_core") is not None

        missing = sorted(w for w, ok in client.run(engine_importable).items() if not ok)
        if missing:
            raise DeploymentError(
                f"Dask workers {', '.join(missing)} cannot import rnn_core; start them from the "
                "repository root or put it on their PYTHONPATH"
            )

    def _start_replicas(self) -> None:
        started = []
        for name, port in zip(self.names, self.replica_ports, strict=True):
            cmd = [
                sys.executable, "-m", "streamlit", "run", "serve.py",
                "--server.port", str(port),
                "--server.address", self.host,
                "--server.headless", "true",
                "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
            ]  # fmt: skip
            env = {
                "RNN_PLAYGROUND_SCHEDULER": self.scheduler_address,
                "RNN_PLAYGROUND_REPLICA": name,
                "STREAMLIT_SERVER_COOKIE_SECRET": self.cookie_secret,
            }
            started.append((self._spawn(f"replica-{name}", cmd, env), f"http://{self.host}:{port}"))
        for process, url in started:  # started together, so they warm up side by side
            _wait(lambda url=url: _healthy(url), REPLICA_TIMEOUT, f"{process.name} at {url}", process)

    def _start_haproxy(self) -> None:
        binary = haproxy_binary()
        if binary is None:
            raise DeploymentError("haproxy is not installed; run `bash scripts/ensure_haproxy.sh`")
        config = self.run_dir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        check = subprocess.run([binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise DeploymentError(f"haproxy rejects {config}:\n{check.stdout}{check.stderr}")
        haproxy = self._spawn("haproxy", [binary, "-db", "-f", str(config)])

        def all_up() -> bool:
            status = backend_status(self.stats_socket)
            return all(status.get(n) == ("UP", "L7OK") for n in self.names)

        _wait(all_up, HAPROXY_TIMEOUT, "HAProxy's health checks to see every replica up", haproxy)
        _wait(lambda: _healthy(self.url), HAPROXY_TIMEOUT, f"the app through HAProxy at {self.url}", haproxy)

    # ------------------------------------------------------------------ stopping

    def stop(self) -> None:
        """Stop everything started, front to back (HAProxy, replicas, workers, scheduler); a
        process that does not exit within :data:`STOP_TIMEOUT` is killed with its children."""
        order = ["haproxy", "replica", "workers", "scheduler"]
        tiers = [[p for p in self.processes if p.name.split("-")[0] == kind] for kind in order]
        for tier in tiers:
            for p in tier:
                if p.popen.poll() is None:
                    p.popen.terminate()
            for p in tier:
                try:
                    p.popen.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.popen.pid, signal.SIGKILL)
                    p.popen.wait(timeout=STOP_TIMEOUT)
        self.processes.clear()
        shutil.rmtree(self._socket_dir, ignore_errors=True)

    def __enter__(self) -> Deployment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port, the app's address")
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit replicas (default: 2)")
    parser.add_argument("--replica-port", type=int, default=8601, help="the first replica's port")
    parser.add_argument("--workers", type=int, help="Dask workers to start (default: 2; 0 with --scheduler)")
    parser.add_argument("--scheduler", help="an existing scheduler's address, instead of starting one")
    parser.add_argument("--scheduler-port", type=int, default=8786, help="the new scheduler's port")
    parser.add_argument("--run-dir", type=Path, help="folder for logs and the HAProxy config")
    parser.add_argument("--print-config", action="store_true", help="print the HAProxy config and exit")
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 0 if args.scheduler else 2
    if args.replicas < 1 or args.workers < 0 or (args.scheduler is None and args.workers < 1):
        parser.error("need at least one replica, and at least one worker unless --scheduler is given")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    deployment = Deployment(
        port=args.port,
        replica_ports=[args.replica_port + i for i in range(args.replicas)],
        workers=args.workers,
        scheduler=args.scheduler,
        scheduler_port=args.scheduler_port,
        host=args.host,
        run_dir=args.run_dir,
    )
    if args.print_config:
        print(deployment.haproxy_config(), end="")
        deployment.stop()
        return 0

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        deployment.start()
    except DeploymentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    replicas = ", ".join(deployment.names)
    print(
        f"RNN Playground: {deployment.url}  (replicas: {replicas}; Dask scheduler: "
        f"{deployment.scheduler_address}; logs: {deployment.run_dir})",
        flush=True,
    )
    try:
        while True:
            for p in deployment.processes:
                p.check_alive()
            time.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    except DeploymentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        deployment.stop()


if __name__ == "__main__":
    sys.exit(main())
