"""`newsfold serve` against a real `prefect server`: the path the README recommends for the UI.

Starts `prefect server start` on a free port with its own PREFECT_HOME, serves the
inbox as a deployment and waits until a scheduled run has committed a drop. Slow
(a server start and a flow-run subprocess), so it is marked; it still runs in the
README's test command.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SEED
from pipeline.warehouse import Warehouse

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, procs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{p.args[:4]} exited with {p.returncode} while waiting for {what}")
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def drops(warehouse: Path) -> int:
    if not (warehouse / "catalog.sqlite").exists():
        return 0
    try:
        with Warehouse(warehouse, read_only=True) as wh:
            return wh.sql("SELECT count(*) FROM drops").fetchone()[0]
    except Exception:  # the catalog is being created
        return 0


def stop(proc: subprocess.Popen) -> None:
    """End the process and everything it started (its own session)."""
    if proc.poll() is None:
        with_group = lambda sig: os.killpg(proc.pid, sig)  # noqa: E731
        try:
            with_group(signal.SIGTERM)
            proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def test_serve_with_a_prefect_server_commits_a_drop(tmp_path):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_RUNNER_POLL_FREQUENCY="2")
    prefect = Path(sys.executable).parent / "prefect"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SEED["001"], inbox)
    warehouse = tmp_path / "wh"
    server_log = open(tmp_path / "server.log", "w")
    serve_log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    serve = None
    try:
        wait_until(lambda: healthy(api + "/health"), 120, "the Prefect server", [server])
        serve = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--inbox", str(inbox),
                                  "-w", str(warehouse), "--interval", "5", "--scheduler", "prefect"],
                                 cwd=REPO, env={**env, "PREFECT_API_URL": api}, stdout=serve_log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: drops(warehouse) >= 1, 150, "a drop from a scheduled run", [server, serve])
        serve.send_signal(signal.SIGTERM)  # as a service manager stops it (Prefect's own handler hangs)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("newsfold serve did not stop on SIGTERM") from None
    except AssertionError as exc:
        logs = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                         for p in (tmp_path / "server.log", tmp_path / "serve.log"))
        raise AssertionError(f"{exc}\n{logs}") from None
    finally:
        for proc in (serve, server):
            if proc is not None:
                stop(proc)
        server_log.close()
        serve_log.close()
    with Warehouse(warehouse, read_only=True) as wh:
        assert wh.sql("SELECT count(*) FROM documents WHERE status = 'accepted'").fetchone()[0] == 1
