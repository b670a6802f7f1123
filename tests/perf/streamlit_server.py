"""Start `streamlit run dashboard.py` on a free loopback port and wait until it answers its health check: the one
way the browser tests and the serving benchmark start a real server."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict, args: tuple[str, ...] = (), pin: tuple[str, ...] = (), output=subprocess.DEVNULL,
          timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """The server process (its environment `env`, extra streamlit `args`, run under `pin`, e.g. taskset) and its
    URL; RuntimeError when it does not answer within `timeout` seconds."""
    port = free_port()
    server = subprocess.Popen([*pin, sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port",
                               str(port), "--server.address", "127.0.0.1", *args], cwd=ROOT, env=env,
                              stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"streamlit did not start within {timeout:.0f} s")
