"""The Prefect API a newsfold command reports its flow runs to: reused when one runs, else started fast.

Every ingest is a Prefect flow run, so it needs a Prefect API. In order, newsfold uses:

1. the configured one: PREFECT_API_URL (environment, active Prefect profile, or any
   other Prefect settings source);
2. a Prefect server already running on this machine at Prefect's own address
   (PREFECT_SERVER_API_HOST:PREFECT_SERVER_API_PORT, default 127.0.0.1:4200): one
   started with `newsfold prefect-server start` (stopped with `newsfold prefect-server
   stop`), or a `prefect server start` in another terminal;
3. a temporary server for this one command, stopped when the command ends.

`PrefectAPI.note` says which one it used (the ingest summary prints it).
newsfold never leaves a server running on its own initiative: a server that
outlives a command (~250 MB, a port, writes to Prefect's database) is the user's
explicit choice, shown by `newsfold prefect-server status`.

Why newsfold starts the temporary server itself instead of letting Prefect do it
when the flow begins:
- Prefect imports its whole server (~4 s of CPU: FastAPI, SQLAlchemy, every API
  route) into the ingest process only to launch it as a subprocess, and only once
  the flow starts. newsfold launches it before importing Prefect at all, so the
  server boots on the second core while this process imports Prefect and the
  pipeline.
- Prefect allows it 20 s, counted in sleep steps (much more in real time under
  load), and then fails with a 30-line traceback; a first start against an empty
  Prefect home (database migrations) alone can take that long on a busy machine.
  newsfold waits up to PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS of wall time
  (default here 120 s) and fails with one line.
- It switches off what a single ingest does not need: telemetry, the UI,
  automations (triggers and actions), block-type registration (and its memo), the
  migration check on a database it has seen migrated (`known_migrated`) and flow-run
  heartbeats; and it imports Prefect's server with the garbage collector paused.
  Flow runs, task runs, logs and artifacts are recorded as usual, in Prefect's
  database in the Prefect home, so a later `prefect server start` shows them.

This module imports nothing heavy until `PrefectAPI.active()`, so that the server
starts as early as possible.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DEFAULT_STARTUP_LIMIT_S = 120.0

# Settings for the temporary server; the user's environment may override them.
TEMPORARY_SERVER_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
    # With block registration off, the memoization of it still imports every installed Prefect
    # collection first (prefect-dask: all of dask.distributed, ~0.4 CPU s) only to hash their blocks.
    "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}
# What Prefect itself sets for its temporary server (prefect.server.api.server.SubprocessASGIServer),
# except PREFECT__SERVER_FINAL: with FastAPI >= 0.137 all it does is a full gc.collect() after
# building the routes (0.2 CPU s), a memory saving that a server living for one command does not need.
TEMPORARY_SERVER_FORCED = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT__SERVER_EPHEMERAL": "1",
}
# `python -m uvicorn`, with Python's cyclic garbage collector paused while Prefect's server is
# imported: the import builds hundreds of thousands of objects (pydantic models, SQLAlchemy
# tables, API routes) and the collector keeps walking them; paused, the import takes ~20 % less
# CPU (2.4 instead of 3.0 s). Then frozen (moved out of the collector's view, as they live as
# long as the server) and the collector resumes.
UVICORN_WITH_PAUSED_GC = ("import gc, sys; gc.disable(); import prefect.server.api.server; gc.freeze(); gc.enable(); "
                          "from uvicorn.main import main; sys.argv[0] = 'uvicorn'; main()")
MIGRATED_MARKER = "newsfold-migrated.json"  # in PREFECT_HOME: the database a temporary server found migrated
_PORT_IN_USE = 3  # uvicorn's exit code when it cannot bind


class PrefectAPIError(Exception):
    """No usable Prefect API (the message is one line for the user)."""


def _prefect_setting(name: str) -> str | None:
    """A Prefect setting from the environment or the active Prefect profile, without importing Prefect."""
    if os.environ.get(name):
        return os.environ[name]
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        import tomllib

        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    value = profiles.get("profiles", {}).get(active, {}).get(name)
    return str(value) if value not in (None, "") else None


def configured_url() -> str | None:
    if "prefect.settings" in sys.modules:  # Prefect is loaded anyway: ask it (all its sources)
        from prefect.settings import PREFECT_API_URL

        return PREFECT_API_URL.value() or None
    # Prefect's order: the environment, the working folder's files, the profile. They must be
    # read before Prefect is: prefect_api() then sets the variable, which outranks the files.
    return os.environ.get("PREFECT_API_URL") or project_api_url() or _prefect_setting("PREFECT_API_URL")


def project_api_url() -> str | None:
    """The API URL that the working folder's prefect.toml ([api] url) or pyproject.toml
    ([tool.prefect.api] url) sets."""
    import tomllib

    for name, keys in (("prefect.toml", ("api", "url")), ("pyproject.toml", ("tool", "prefect", "api", "url"))):
        try:
            value = tomllib.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value:
            return str(value)
    return None


def local_server_url() -> str:
    """Where `prefect server start` listens on this machine (Prefect's own default: 127.0.0.1:4200)."""
    host = _prefect_setting("PREFECT_SERVER_API_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    port = _prefect_setting("PREFECT_SERVER_API_PORT") or "4200"
    return f"http://{host}:{port}/api"


def _listening(url: str) -> bool:
    """Whether anything accepts connections at the URL's host and port (a refusal is immediate)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=3.0):
            return True
    except (OSError, ValueError):
        return False


def _health(url: str, timeout: float) -> int | None:
    """HTTP status of the API's health endpoint; None when nothing answers."""
    import urllib.error  # imported here: ~0.1 s that a temporary server's start need not wait for
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):  # refused, timed out, bad URL
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the server process: be stopped when newsfold dies, even by SIGKILL (Linux only)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def startup_limit_s() -> float:
    raw = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
    try:
        return float(raw) if raw else DEFAULT_STARTUP_LIMIT_S
    except ValueError:
        raise PrefectAPIError(f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is not a number: {raw!r}") from None


_MIGRATE_ON_START = ("PREFECT_SERVER_DATABASE_MIGRATE_ON_START", "PREFECT_API_DATABASE_MIGRATE_ON_START")


def _sqlite_database() -> Path | None:
    """The SQLite file of Prefect's database (default: prefect.db in the Prefect home); None for another database."""
    url = _prefect_setting("PREFECT_SERVER_DATABASE_CONNECTION_URL") or _prefect_setting(
        "PREFECT_API_DATABASE_CONNECTION_URL")
    if url is None:
        driver = _prefect_setting("PREFECT_SERVER_DATABASE_DRIVER") or _prefect_setting("PREFECT_API_DATABASE_DRIVER")
        return prefect_home() / "prefect.db" if driver in (None, "aiosqlite") else None
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    return Path(url.split(":///", 1)[1].split("?", 1)[0]).expanduser()


def migration_state() -> dict | None:
    """Prefect's version, its SQLite database and the database's Alembic revisions, read without
    importing Prefect; None when there is no such file yet, or the database is not SQLite."""
    import sqlite3
    from importlib import metadata

    path = _sqlite_database()
    if path is None or not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            revisions = sorted(row[0] for row in db.execute("SELECT version_num FROM alembic_version"))
        return {"prefect": metadata.version("prefect"), "database": str(path.resolve()), "revisions": revisions}
    except (sqlite3.Error, metadata.PackageNotFoundError, OSError):
        return None


def known_migrated() -> bool:
    """Whether a temporary server of this Prefect version already migrated this database to the
    revision it is at now (newsfold's marker in the Prefect home says so): then the next one can
    skip the migration check on start (~0.2 CPU s, Alembic walking its scripts). A database that
    another Prefect version migrated, a new or replaced file, a marker missing: migrate as usual."""
    try:
        marker = json.loads((prefect_home() / MIGRATED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == migration_state()


def _record_migrated() -> None:
    state = migration_state()
    if state is None:
        return
    marker = prefect_home() / MIGRATED_MARKER
    with contextlib.suppress(OSError):  # only an optimisation: the next server migrates as usual
        partial = marker.with_name(f"{marker.name}.{os.getpid()}")
        partial.write_text(json.dumps(state), encoding="utf-8")
        partial.replace(marker)


class PrefectAPI:
    """The API for this command: `find()` it (starting a temporary server if needed), then
    run flows inside `active()`, and `stop()` at the end (a temporary server only)."""

    def __init__(self):
        self.url: str | None = None
        self.kind: str | None = None  # "configured", "running" or "temporary"
        self.server: subprocess.Popen | None = None
        self.startup_s: float | None = None  # how long the temporary server took to answer
        self._log = None
        self._started_at = 0.0
        self._migrates = False

    def find(self) -> PrefectAPI:
        url = configured_url()
        if url:
            self.url, self.kind = url, "configured"
            return self
        url = local_server_url()
        if _listening(url) and _health(url, timeout=3.0) == 200:
            self.url, self.kind = url, "running"
            return self
        self._start_server()
        return self

    def _start_server(self) -> None:
        port = _free_port()
        skip_migrations = {k: "false" for k in _MIGRATE_ON_START} if known_migrated() else {}
        env = {**TEMPORARY_SERVER_DEFAULTS, **skip_migrations, **os.environ, **TEMPORARY_SERVER_FORCED}
        env.pop("PREFECT_API_URL", None)
        # its start migrated the database: worth recording for the next one
        self._migrates = not any(env.get(k, "").lower() in ("false", "0", "no", "off") for k in _MIGRATE_ON_START)
        self._log = self._log or tempfile.TemporaryFile(prefix="newsfold-prefect-server-")
        self._started_at = self._started_at or time.monotonic()
        self.url, self.kind = f"http://127.0.0.1:{port}/api", "temporary"
        self.server = subprocess.Popen(
            [sys.executable, "-c", UVICORN_WITH_PAUSED_GC, "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches newsfold, which then stops the server in order
            preexec_fn=_die_with_parent)

    def _wait_for_server(self) -> None:
        limit = startup_limit_s()
        while True:
            code = self.server.poll()
            if code == _PORT_IN_USE:  # another process took the port meanwhile
                self._start_server()
                continue
            if code is not None:
                self.server = None
                raise PrefectAPIError(f"Prefect's temporary API server exited during start-up (code {code}): "
                                      f"{self._last_output() or 'no output'}")
            if _health(self.url, timeout=2.0) == 200:
                self.startup_s = time.monotonic() - self._started_at
                if self._migrates:
                    _record_migrated()
                return
            if time.monotonic() - self._started_at > limit:
                self.stop()
                raise PrefectAPIError(
                    f"Prefect's temporary API server did not answer within {limit:g} s (busy machine?); retry, "
                    "raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or keep a server running with "
                    "`newsfold prefect-server start`")
            # a refused connection costs ~0.05 ms and this process has nothing else to do: polling
            # every 20 ms instead of 100 ms starts the flow 40 ms sooner on average
            time.sleep(0.02)

    def _last_output(self) -> str:
        if not self._log:
            return ""
        self._log.seek(0)
        lines = [ln.strip() for ln in self._log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""

    @contextlib.contextmanager
    def active(self) -> Iterator[str]:
        """Point Prefect, in this process and in the worker processes it starts, at the API.

        Imports Prefect. Waits for a temporary server to answer; a configured or
        running API that does not answer is a one-line error, not a traceback
        from deep inside the flow.
        """
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
            temporary_settings,
        )

        configured = PREFECT_API_URL.value()
        if configured and configured != self.url:  # configured where newsfold does not look (e.g. prefect.toml)
            self.stop()
            self.url, self.kind = configured, "configured"
        if self.kind == "temporary":
            self._wait_for_server()
        else:
            if _health(self.url, timeout=30.0) is None:  # refused is immediate; slow means busy
                where = "PREFECT_API_URL" if self.kind == "configured" else "running on this machine"
                raise PrefectAPIError(f"the Prefect API at {self.url} ({where}) does not answer; start the server "
                                      "or unset PREFECT_API_URL")
        updates = {PREFECT_API_URL: self.url}
        if self.kind == "temporary":
            # Flow-run heartbeats are for automations that spot crashed runs; a temporary server
            # runs none and dies with the run. Prefect's heartbeat thread sleeps in 1 s steps and
            # is joined when the flow ends: 0.5 s of waiting per run on average, for nothing here.
            updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
        # the variable: inherited by worker processes
        with _environment("PREFECT_API_URL", self.url), temporary_settings(updates=updates), \
                _heartbeats_not_waited_for():
            yield self.url

    @property
    def note(self) -> str:
        """For the user: which Prefect API the command used."""
        if self.kind == "temporary":
            took = f", up in {self.startup_s:.1f} s" if self.startup_s is not None else ""
            return f"a temporary server{took} (`newsfold prefect-server start` keeps one running: faster, with a UI)"
        how = "PREFECT_API_URL" if self.kind == "configured" else "already running on this machine"
        return f"reused the server at {self.url} ({how}); the run shows in its UI"

    def stop(self) -> None:
        """Stop the temporary server (if this command started one), once Prefect has sent it
        the events and logs it still holds."""
        server, self.server = self.server, None
        if server is not None and server.poll() is None:
            _send_what_prefect_holds(DRAIN_LIMIT_S)
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if self._log:
            self._log.close()
            self._log = None


# How long a stopping command waits for Prefect to send its pending events and logs to the
# temporary server (milliseconds as a rule; seconds on a loaded machine).
DRAIN_LIMIT_S = 30.0


def _send_what_prefect_holds(limit_s: float) -> None:
    """Let Prefect's background services send the events and logs they still queue.

    Prefect drains them when the interpreter exits, but by then newsfold has stopped the
    temporary server: each pending event then fails only after ten reconnection attempts
    (~7 s), so an ingest stopped on a loaded machine (its crash events still queued) took
    minutes to exit; a service still connecting lost them all. Drained here, while the server
    still answers, they are sent and kept in its database like every other run's."""
    if "prefect.events.worker" not in sys.modules:  # Prefect not imported: nothing queued
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    deadline = time.monotonic() + limit_s
    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=max(0.0, deadline - time.monotonic()), at_exit=False)


@contextlib.contextmanager
def _heartbeats_not_waited_for() -> Iterator[None]:
    """Flow runs keep their heartbeats, but the end of a run no longer waits for the heartbeat thread.

    Prefect's sync flow engine joins its heartbeat thread when the run ends, and that thread
    sleeps in 1 s steps between heartbeats (180 s apart by default): every run against a
    server with heartbeats on (a reused one) waited 0-1 s, 0.5 s on average, after its last
    task. Its async engine does not join (join_on_exit=False); the thread is a daemon that
    stops at its next step without sending anything more. If a later Prefect drops that
    function or argument, the runs simply wait again."""
    import inspect

    from prefect import flow_engine

    send = getattr(flow_engine, "_send_heartbeats", None)
    if send is None or "join_on_exit" not in inspect.signature(send).parameters:
        yield
        return
    flow_engine._send_heartbeats = lambda engine, join_on_exit=False: send(engine, join_on_exit=False)
    try:
        yield
    finally:
        flow_engine._send_heartbeats = send


@contextlib.contextmanager
def prefect_api() -> Iterator[PrefectAPI]:
    """Find (or start) the Prefect API now; stop a temporary server when the block ends.

    Start it before importing the flow, and run the flow inside `api.active()`:

        with prefect_api() as api:
            from flows.ingest import ingest_flow  # imports Prefect while the server boots
            with api.active():
                ingest_flow(...)
    """
    api = PrefectAPI()
    try:
        api.find()
        # Prefect reads PREFECT_API_URL once, when imported, into the settings that threads it
        # starts outside our settings context fall back to; its process pool's message forwarder
        # is one: without the variable set before the import, every multi-batch ingest started
        # a Prefect server of its own there. Restored after: a process that goes on (a test's)
        # must not keep the address of a server that is gone.
        with _environment("PREFECT_API_URL", api.url):
            yield api
    finally:
        api.stop()


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """An environment variable set for the block, as it was after it."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


# A Prefect server kept running between commands, started and stopped explicitly by the user.
# `prefect server start --background` (Prefect 3.8) leaves the server writing to a pipe whose reader
# has exited, and the server dies at its first logged request; newsfold starts the same server
# with its output going to a log file instead, and records its pid where Prefect's own
# `prefect server stop` looks for it.
SERVER_PID_FILE = "server.pid"  # Prefect's name, in PREFECT_HOME
SERVER_LOG_FILE = "newsfold-prefect-server.log"


def prefect_home() -> Path:
    return Path(_prefect_setting("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not a server
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def _recorded_pid() -> int | None:
    try:
        pid = int((prefect_home() / SERVER_PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def server_status() -> str:
    url, pid = local_server_url(), _recorded_pid()
    answers = _health(url, timeout=5.0) == 200
    if answers:
        who = f"pid {pid}, started in the background" if pid else "not started by newsfold"
        return f"a Prefect server is running at {url.removesuffix('/api')} ({who}); newsfold ingest reuses it"
    if pid:
        return f"a Prefect server (pid {pid}) is starting or not answering at {url}"
    return f"no Prefect server at {url}; each newsfold ingest starts a temporary one"


def start_background_server(say=None) -> str:
    """Start a Prefect server (API and UI) that outlives this command; newsfold commands reuse it."""
    say = say or (lambda line: print(line, flush=True))
    url = local_server_url()
    if _health(url, timeout=5.0) == 200:
        return server_status()
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    if (pid := _recorded_pid()) is not None:
        raise PrefectAPIError(f"a Prefect server (pid {pid}, {home / SERVER_PID_FILE}) is already starting or "
                              "not answering; `newsfold prefect-server stop` stops it")
    host, port = url.removeprefix("http://").removesuffix("/api").rsplit(":", 1)
    env = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", **os.environ, "PREFECT__SERVER_FINAL": "1"}
    env.pop("PREFECT_API_URL", None)
    log_path = home / SERVER_LOG_FILE
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", UVICORN_WITH_PAUSED_GC, "--factory", "prefect.server.api.server:create_app",
             "--host", host, "--port", port, "--log-level", "warning"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (home / SERVER_PID_FILE).write_text(str(server.pid))
    say(f"starting a Prefect server at {url.removesuffix('/api')} (pid {server.pid}, log {log_path}) ...")
    started, limit = time.monotonic(), startup_limit_s()
    while _health(url, timeout=2.0) != 200:
        if server.poll() is not None or time.monotonic() - started > limit:
            stop_background_server()
            raise PrefectAPIError(f"the Prefect server did not start (see {log_path})")
        time.sleep(0.2)
    return (f"Prefect server running at {url.removesuffix('/api')} (its UI) after {time.monotonic() - started:.0f} s; "
            "newsfold ingest reuses it. Stop it with `newsfold prefect-server stop`.")


def stop_background_server() -> str:
    pid_file = prefect_home() / SERVER_PID_FILE
    pid = _recorded_pid()
    pid_file.unlink(missing_ok=True)
    if pid is None:
        if _health(local_server_url(), timeout=5.0) == 200:
            return (f"the Prefect server at {local_server_url()} was not started in the background "
                    "(no pid file); stop it where it runs")
        return "no Prefect server running in the background"
    import signal

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    return f"stopped the Prefect server (pid {pid})"
