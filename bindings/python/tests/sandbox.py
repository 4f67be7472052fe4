"""A pytest plugin that runs the real ``vizochok sandbox`` binary on a free
loopback port. The binary comes from ``VIZOCHOK_BIN`` or the usual cargo
target directories (``cargo build -p vizochok-cli`` builds it)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEMO_KEY = "pk_demo"
DEMO_STORE = "demo-store"
#: How long the sandbox may take to accept connections.
START_TIMEOUT_S = 30.0


def find_binary() -> Path:
    """The sandbox binary, or a clear failure saying how to build it."""
    candidates = []
    if os.environ.get("VIZOCHOK_BIN"):
        candidates.append(Path(os.environ["VIZOCHOK_BIN"]))
    for target in (os.environ.get("CARGO_TARGET_DIR"), Path.home() / ".cache/vizochok/target", ROOT / "target"):
        if target:
            candidates += [Path(target) / "debug/vizochok", Path(target) / "release/vizochok"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    pytest.fail(
        "the sandbox binary was not found; build it with `cargo build -p vizochok-cli` "
        f"or set VIZOCHOK_BIN (looked in {', '.join(map(str, candidates))})"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Sandbox:
    """One sandbox process; ``restart()`` keeps its port and state directory."""

    def __init__(self, binary: Path, workdir: Path, config: Optional[dict[str, Any]], state: bool) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/v1/ws"
        self.state_dir: Optional[Path] = workdir / "state" if state else None
        self.config_file: Optional[Path] = None
        if config is not None:
            self.config_file = workdir / "sandbox.json"
            self.config_file.write_text(json.dumps(config), encoding="utf-8")
        self.log_file = workdir / "sandbox.log"
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.start()

    def start(self) -> None:
        args = [str(self.binary), "sandbox", "--addr", f"127.0.0.1:{self.port}"]
        if self.config_file is not None:
            args += ["--config", str(self.config_file)]
        if self.state_dir is not None:
            self.state_dir.mkdir(exist_ok=True)
            args += ["--state", str(self.state_dir)]
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # poll until it accepts connections (it prints nothing we need)
            if self.process.poll() is not None:
                pytest.fail(f"the sandbox exited with {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the sandbox did not listen on port {self.port}:\n{self.log()}")
                time.sleep(0.02)

    def stop(self) -> None:
        """Stops the process (SIGTERM, then SIGKILL) and waits for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""


SandboxFactory = Callable[..., Sandbox]


@pytest.fixture(scope="session")
def sandbox_binary() -> Path:
    return find_binary()


@pytest.fixture
def start_sandbox(sandbox_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxFactory]:
    """``start_sandbox(config=None, state=False)`` starts a sandbox; all stop at the end."""
    started: list[Sandbox] = []

    def start(config: Optional[dict[str, Any]] = None, state: bool = False) -> Sandbox:
        sandbox = Sandbox(sandbox_binary, tmp_path_factory.mktemp("sandbox"), config, state)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: SandboxFactory) -> Sandbox:
    """The demo store on a free port, defaults otherwise."""
    return start_sandbox()
