"""A failed or stopped ingest leaves no process behind (Prefect's temporary API server,
the worker pool), and serve's failing runs do not pile processes up."""
import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from conftest import REPO, SEED


def processes_marked(mark: str) -> list[psutil.Process]:
    """Live processes whose environment carries `mark`: every descendant of a run,
    also the ones re-parented to init after it exited."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("NEWSFOLD_TEST_MARK") == mark and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


@pytest.fixture
def drop(tmp_path):
    """Eight small files: four batches of two for two worker processes."""
    d = tmp_path / "drop"
    d.mkdir()
    for i in range(8):
        text = SEED[f"00{i % 5}"].read_text(encoding="utf-8")
        (d / f"f{i}.txt").write_text(f"{text}\n\nVariant {i}.\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """A Prefect home for this module's ingests (its database migrated by the first one): not the
    user's ~/.prefect, whose SQLite database another process may be writing meanwhile (an ingest
    or an evaluation run beside the tests)."""
    return tmp_path_factory.mktemp("prefect-home")


def start_ingest(drop, tmp_path, prefect_home, **env_extra):
    mark = uuid.uuid4().hex
    # no PREFECT_API_URL: the ingest starts Prefect's temporary server, as for a new user
    # (and Prefect's log level as a user's shell has it: in-process CLI tests may have set it)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API") and k != "PREFECT_LOGGING_LEVEL"}
    env.update(NEWSFOLD_TEST_MARK=mark, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
               PREFECT_HOME=str(prefect_home), **env_extra)
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "ingest", str(drop), "-w", str(tmp_path / "wh"),
                             "--batch-size", "2", "--workers", "2"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, mark


def assert_nothing_left(mark):
    deadline = time.monotonic() + 10  # the server gets 5 s to stop before it is killed
    while processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = processes_marked(mark)
    for p in left:
        p.kill()
    assert not left, [p.cmdline()[:4] for p in left]


def test_failed_ingest_leaves_no_process(drop, tmp_path, prefect_home):
    # a bug in the flow once the worker pool has run (a failing batch task alone no longer fails
    # the ingest: its files are retried one by one)
    fault = "before_plan"
    proc, mark = start_ingest(drop, tmp_path, prefect_home, NEWSFOLD_FAIL_AT=fault)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        f"newsfold: error: internal error: InjectedFault: injected fault at {fault} (NEWSFOLD_FAIL_AT) "
        "(run with --debug for the traceback)"]
    assert_nothing_left(mark)


def test_terminated_ingest_leaves_no_process(drop, tmp_path, prefect_home):
    proc, mark = start_ingest(drop, tmp_path, prefect_home)
    deadline = time.monotonic() + 240
    try:  # wait until the worker pool runs, then stop the ingest as `kill` or a service manager would
        while time.monotonic() < deadline and proc.poll() is None and not any(
                "spawn_main" in " ".join(c.cmdline()) for c in psutil.Process(proc.pid).children(recursive=True)):
            time.sleep(0.2)
    except psutil.NoSuchProcess:
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # where it waits: newsfold prints its threads' stacks on SIGUSR1
        proc.send_signal(signal.SIGUSR1)
        time.sleep(3)
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the ingest did not exit within 120 s of SIGTERM; its threads then:\n{err[-8000:]}")
    assert proc.returncode in (0, 130), err[-3000:]  # 0: it had finished before the signal came
    assert_nothing_left(mark)
