"""Start-up: what the CLI imports, and which Prefect API an ingest uses (flows/prefect_api.py).

Each scenario runs in a subprocess with its own Prefect home and a port where no
Prefect server runs, so neither the user's ~/.prefect nor this test session's
Prefect harness leaks in.
"""
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from conftest import REPO, SEEDS
from flows.prefect_api import _free_port

HEAVY = ("prefect", "numpy", "pyarrow", "duckdb", "pipeline.dedup")

_IMPORTS = """
import json, sys
from flows.cli import main
args = json.loads(sys.argv[1])
try:
    main(args)
except SystemExit:
    pass
print("\\nLOADED " + json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


def loaded_modules(*args: str) -> tuple[list[str], str]:
    proc = subprocess.run([sys.executable, "-c", _IMPORTS.format(heavy=HEAVY), json.dumps(args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    marker = proc.stdout.rsplit("\nLOADED ", 1)
    assert len(marker) == 2, proc.stderr
    return json.loads(marker[1]), marker[0]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["sql", "--help"], ["status", "--help"]])
def test_version_and_help_import_nothing_heavy(args):
    loaded, out = loaded_modules(*args)
    assert loaded == [], f"`newsfold {' '.join(args)}` imported {loaded}"
    assert out.strip()


def test_sql_does_not_import_prefect_or_the_pipeline():
    loaded, _ = loaded_modules("sql", "SELECT 1", "-w", "/no/such/warehouse")
    assert "prefect" not in loaded and "pipeline.dedup" not in loaded


def test_ingest_help_still_lists_the_dedup_options():
    _, out = loaded_modules("ingest", "--help")
    assert "--num-perm" in out and "--lead-bands" in out


@pytest.fixture
def isolated_env(tmp_path):
    """No configured Prefect API, a Prefect home of its own, and a port where no server listens."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_PROFILES_PATH": str(tmp_path / "none.toml"),
                "PREFECT_SERVER_API_PORT": str(_free_port()), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    return env


def find_api(env, cwd=REPO) -> dict:
    code = ("import json; from flows.prefect_api import PrefectAPI\n"
            "api = PrefectAPI().find()\n"
            "print(json.dumps({'kind': api.kind, 'url': api.url, 'server': api.server is not None}))\n"
            "api.stop()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args):
        pass


def test_a_server_running_at_prefects_local_address_is_reused(isolated_env):
    server = HTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**isolated_env, "PREFECT_SERVER_API_PORT": str(server.server_address[1])}
        api = find_api(env)
    finally:
        server.shutdown()
    assert api == {"kind": "running", "url": f"http://127.0.0.1:{server.server_address[1]}/api", "server": False}


def test_the_api_url_of_the_active_prefect_profile_is_used(isolated_env, tmp_path):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('active = "mine"\n[profiles.mine]\nPREFECT_API_URL = "http://10.1.2.3:4200/api"\n')
    api = find_api({**isolated_env, "PREFECT_PROFILES_PATH": str(profiles)})
    assert api == {"kind": "configured", "url": "http://10.1.2.3:4200/api", "server": False}


def test_the_api_url_of_the_working_folders_prefect_toml_beats_the_profile(isolated_env, tmp_path):
    # newsfold sets PREFECT_API_URL before importing Prefect, and the variable outranks these
    # files in Prefect: so newsfold must read them itself
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('active = "mine"\n[profiles.mine]\nPREFECT_API_URL = "http://10.1.2.3:4200/api"\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "prefect.toml").write_text('[api]\nurl = "http://10.9.8.7:4200/api"\n')
    api = find_api({**isolated_env, "PREFECT_PROFILES_PATH": str(profiles)}, cwd=project)
    assert api == {"kind": "configured", "url": "http://10.9.8.7:4200/api", "server": False}
    (project / "prefect.toml").unlink()
    (project / "pyproject.toml").write_text('[tool.prefect.api]\nurl = "http://10.9.8.6:4200/api"\n')
    assert find_api({**isolated_env, "PREFECT_PROFILES_PATH": str(profiles)}, cwd=project)["url"] == \
        "http://10.9.8.6:4200/api"


def servers_using(prefect_home: str) -> list[int]:
    """Processes (here: Prefect API servers) whose environment holds this Prefect home."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if f"PREFECT_HOME={prefect_home}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


def run_cli(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_a_configured_api_that_does_not_answer_is_one_line(isolated_env, tmp_path):
    env = {**isolated_env, "PREFECT_API_URL": f"http://127.0.0.1:{_free_port()}/api"}
    proc = run_cli(["ingest", SEEDS, "-w", tmp_path / "wh"], env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"newsfold: error: the Prefect API at {env['PREFECT_API_URL']} (PREFECT_API_URL) does not answer; start "
        "the server or unset PREFECT_API_URL"]


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_a_temporary_server_that_misses_the_start_up_limit_is_one_line_and_stopped(isolated_env, tmp_path):
    env = {**isolated_env, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1"}
    proc = run_cli(["ingest", SEEDS, "-w", tmp_path / "wh"], env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "newsfold: error: Prefect's temporary API server did not answer within 1 s (busy machine?); retry, raise "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or keep a server running with "
        "`newsfold prefect-server start`"]
    assert servers_using(env["PREFECT_HOME"]) == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_an_ingest_with_a_temporary_server_is_a_recorded_flow_run_and_leaves_no_server(prefect_harness, isolated_env,
                                                                                      tmp_path):
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    # The temporary server writes to the harness's database, already migrated (a fresh one takes a minute
    # under load); nothing but the database is shared with the harness.
    database = PREFECT_API_DATABASE_CONNECTION_URL.value()
    env = {**isolated_env, "PREFECT_API_DATABASE_CONNECTION_URL": database}
    drop = tmp_path / "drop"
    drop.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(seed, drop)
    label = f"temporary-{tmp_path.name}"
    proc = run_cli(["ingest", drop, "-w", tmp_path / "wh", "--label", label], env)
    assert proc.returncode == 0, proc.stderr
    assert "Prefect             a temporary server, up in" in proc.stdout and "accepted            2" in proc.stdout
    assert servers_using(env["PREFECT_HOME"]) == []
    with sqlite3.connect(database.split(":///", 1)[1]) as db:
        runs = db.execute("SELECT id, state_type FROM flow_run WHERE json_extract(parameters, '$.label') = ?",
                          [label]).fetchall()
        assert [state for _, state in runs] == ["COMPLETED"]
        tasks = dict(db.execute("SELECT task_key, state_type FROM task_run WHERE flow_run_id = ?",
                                [runs[0][0]]).fetchall())
    assert any(k.startswith("process_task") for k in tasks) and set(tasks.values()) == {"COMPLETED"}


def test_an_ingest_reuses_a_running_server_and_its_run_shows_there(prefect_harness, isolated_env, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()  # the test harness's server, found as if started by `prefect-server start`
    env = {**isolated_env, "PREFECT_SERVER_API_PORT": url.rsplit(":", 1)[1].split("/")[0]}
    label = f"reuse-{tmp_path.name}"
    proc = run_cli(["ingest", SEEDS, "-w", tmp_path / "wh", "--label", label], env)
    assert proc.returncode == 0, proc.stderr
    assert f"Prefect             reused the server at {url} (already running on this machine)" in proc.stdout
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=20)
    assert any(r.parameters.get("label") == label and r.state_type.value == "COMPLETED" for r in runs)


class _EngineWithHeartbeats:
    """What Prefect's heartbeat thread uses of a flow run engine."""
    heartbeat_seconds = 30
    flow_run = None
    logger = logging.getLogger("test-heartbeats")

    def __init__(self):
        self.heartbeats = []

    def _build_heartbeat_event_template(self):
        return None, None

    def _emit_flow_run_heartbeat(self, resource, related):
        self.heartbeats.append(resource)


def test_a_flow_run_keeps_its_heartbeats_but_its_end_does_not_wait_for_them():
    import time

    from prefect import flow_engine

    from flows.prefect_api import _heartbeats_not_waited_for

    original = flow_engine._send_heartbeats
    engine = _EngineWithHeartbeats()
    with _heartbeats_not_waited_for():
        t0 = time.perf_counter()
        with flow_engine._send_heartbeats(engine):
            time.sleep(0.1)  # the thread sent its first heartbeat and sleeps its first 1 s step
        ended_after = time.perf_counter() - t0
    assert engine.heartbeats == [None]
    assert ended_after < 0.6  # joined, the run's end would wait for the step: ~1 s
    assert flow_engine._send_heartbeats is original


_LAGGING_EVENTS = """
import asyncio, json
from flows.prefect_api import prefect_api
from prefect.events import emit_event
from prefect.events.worker import EventsWorker

sent, failed = [], []
handle = EventsWorker._handle

async def lagging(self, event):  # a loaded machine: the worker is behind when the command ends
    await asyncio.sleep(0.2)
    try:
        await handle(self, event)
        sent.append(event.event)
    except Exception as exc:
        failed.append(repr(exc))
        raise

EventsWorker._handle = lagging
with prefect_api() as api, api.active():
    for i in range(5):
        emit_event(event="newsfold.test.lagging", resource={"prefect.resource.id": f"newsfold.test.{i}"})
EventsWorker.drain_all(timeout=60)  # what interpreter exit would do (after the server is stopped)
print(json.dumps({"sent": len(sent), "failed": failed}))
"""


def test_stopping_a_temporary_server_first_sends_the_events_prefect_still_holds(prefect_harness, isolated_env):
    """Stopped with events queued (an interrupted run's crash events on a busy machine), a
    command lost them, or waited ~7 s per event at exit as each failed against the stopped server."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    env = {**isolated_env, "PREFECT_API_DATABASE_CONNECTION_URL": PREFECT_API_DATABASE_CONNECTION_URL.value()}
    proc = subprocess.run([sys.executable, "-c", _LAGGING_EVENTS], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"sent": 5, "failed": []}
