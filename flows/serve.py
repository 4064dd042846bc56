"""Scheduled ingest of an inbox folder.

Each scheduled run is an `ingest_flow` run over the inbox with `only_new`:
files the warehouse already holds are skipped, so every file is ingested
exactly once. A run that fails (or is killed) commits nothing, and its files
are simply picked up by the next run.

Two ways to schedule:
- With a Prefect API configured (`PREFECT_API_URL`, e.g. a `prefect server
  start` on this machine), `serve_inbox` registers a Prefect deployment with an
  interval or cron schedule and serves it: runs show up in the Prefect UI.
- Without one, Prefect's temporary local server cannot schedule, so newsfold
  keeps the schedule itself and starts each run as a normal local flow run.

Hostile inboxes (local schedule): a file is taken only once it has stopped
changing — its size and mtime unchanged for `settle_s` seconds — so a file
still being written is ingested once, whole, and not as every partial size a
run happened to see. A run that fails for a reason other than the warehouse
(busy, damaged, disk full) is split: its files are ingested again in halves,
so the good ones land and the failure is narrowed down to single files; a file
that fails alone in two runs is quarantined (`quarantine.json` in the
warehouse: path, size, mtime, error) and skipped until it changes, so it cannot
block the inbox. Every run line reports files still settling and quarantined.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.config import IngestConfig, check_index_parameters

from .ingest import ingest_flow

log = logging.getLogger("newsfold.serve")

# a scheduled run waits this long for another writer instead of failing
SERVE_WRITER_WAIT_S = 600.0
# a file is taken once its size and mtime have not changed for this long
DEFAULT_SETTLE_S = 3.0
# a file that fails alone this many times is quarantined
QUARANTINE_AFTER = 2
QUARANTINE_FILE = "quarantine.json"


def next_run_after(now: datetime, interval: float | None, cron: str | None) -> datetime:
    if cron:
        from cronsim import CronSim

        return next(CronSim(cron, now))
    return datetime.fromtimestamp(now.timestamp() + float(interval or 60), tz=now.tzinfo)


def validate_schedule(interval: float | None, cron: str | None) -> None:
    if interval is not None and cron:
        raise ValueError("give either --interval or --cron, not both")
    if interval is not None and interval <= 0:
        raise ValueError("--interval must be a positive number of seconds")
    if cron:
        from cronsim import CronSim, CronSimError

        try:
            CronSim(cron, datetime.now())
        except CronSimError as exc:
            raise ValueError(f"bad --cron expression {cron!r}: {exc}") from None


def run_parameters(inbox: str, warehouse: str, config: IngestConfig) -> dict:
    """ingest_flow's parameters for every scheduled run; a run waits at least
    SERVE_WRITER_WAIT_S for another writer."""
    config = config.with_values(wait_s=max(config.execution.wait_s, SERVE_WRITER_WAIT_S))
    return {"paths": [os.path.abspath(inbox)], "warehouse": os.path.abspath(warehouse), "label": "inbox",
            "config": config, "only_new": True}


def serve_inbox(inbox: str, warehouse: str, config: IngestConfig = IngestConfig(), interval: float | None = None,
                cron: str | None = None, max_runs: int | None = None, scheduler: str = "auto",
                on_run: Callable[[dict], None] | None = None, settle_s: float = DEFAULT_SETTLE_S) -> None:
    """Ingest new inbox files on a schedule until interrupted (or `max_runs` runs).

    scheduler: "prefect" serves a Prefect deployment (needs PREFECT_API_URL),
    "local" keeps the schedule in this process, "auto" picks prefect when an
    API is configured.
    """
    validate_schedule(interval, cron)
    if settle_s < 0:
        raise ValueError("--settle must be 0 or more seconds")
    if os.path.exists(inbox) and not os.path.isdir(inbox):
        raise ValueError(f"--inbox {inbox} is a file, not a folder: serve watches a folder (`newsfold ingest` "
                         "takes a file)")
    if not os.path.isdir(inbox):
        raise FileNotFoundError(f"no such inbox folder: {inbox}")
    check_index_parameters(warehouse, config)  # refused at once, not at every run
    parameters = run_parameters(inbox, warehouse, config)
    if scheduler == "auto":
        scheduler = "prefect" if os.environ.get("PREFECT_API_URL") and max_runs is None else "local"
    if scheduler == "prefect":
        if not os.environ.get("PREFECT_API_URL"):
            raise ValueError("--scheduler prefect needs a Prefect server: start one with `prefect server start` "
                             "and set PREFECT_API_URL=http://127.0.0.1:4200/api")
        serve_deployment(parameters, interval, cron)
        return
    inbox_files = InboxFiles(inbox, settle_s, warehouse)
    quarantine = Quarantine(Path(warehouse) / QUARANTINE_FILE)
    runs = 0
    while max_runs is None or runs < max_runs:
        started = datetime.now().astimezone()
        summary = run_once(parameters, inbox_files, quarantine)
        runs += 1
        if on_run:
            on_run(summary)
        if max_runs is not None and runs >= max_runs:
            break
        delay = (next_run_after(started, interval, cron) - datetime.now().astimezone()).total_seconds()
        time.sleep(max(0.0, delay))


# --- hostile inboxes: files still being written, files that make runs fail ------------


class InboxFiles:
    """The inbox's files, and which of them have stopped changing.

    Hidden files and folders are skipped as the ingest skips them, and so is the
    warehouse when it lies in the inbox: its files change with every commit, so they
    would always be "still settling". A link that cannot be followed (broken,
    looping) is judged by the link itself; the ingest records why it could not be read.
    """

    def __init__(self, inbox: str, settle_s: float, warehouse: str | None = None):
        self.inbox = Path(inbox)
        self.settle_s = settle_s
        self._warehouse = os.path.realpath(warehouse) if warehouse else None
        self._seen: dict[str, tuple[tuple[int, int], float]] = {}  # path -> ((size, mtime_ns), first seen)

    def scan(self) -> tuple[list[str], list[str]]:
        """(settled, still changing) file paths."""
        now_wall, now = time.time(), time.monotonic()
        settled, changing, present = [], [], set()
        for root, dirs, names in os.walk(self.inbox):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and os.path.realpath(os.path.join(root, d)) != self._warehouse)
            for name in sorted(names):
                if name.startswith("."):
                    continue
                path = os.path.join(root, name)
                try:
                    try:
                        st = os.stat(path)
                    except OSError:
                        st = os.lstat(path)
                except OSError:
                    continue  # gone since the walk listed it
                present.add(path)
                sig = (st.st_size, st.st_mtime_ns)
                seen = self._seen.get(path)
                if seen is None or seen[0] != sig:
                    seen = self._seen[path] = (sig, now)
                # unchanged since we first saw it like this, or (first sight) not modified since
                quiet = max(now - seen[1], now_wall - st.st_mtime)
                (settled if quiet >= self.settle_s else changing).append(path)
        self._seen = {p: v for p, v in self._seen.items() if p in present}
        return settled, changing

    def signature(self, path: str) -> tuple[int, int] | None:
        seen = self._seen.get(path)
        return seen[0] if seen else None


@dataclass
class Quarantine:
    """Files that failed alone in QUARANTINE_AFTER runs: skipped until they change.

    Kept as JSON in the warehouse folder (a file that cannot even be read has no
    bytes to make a `documents` row from): path -> size, mtime_ns, failures, error.
    """

    path: Path
    entries: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        try:
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def is_quarantined(self, path: str, sig: tuple[int, int] | None) -> bool:
        e = self.entries.get(path)
        if not e:
            return False
        if sig is not None and [e["size"], e["mtime_ns"]] != list(sig):
            del self.entries[path]  # changed since: it gets a new chance
            self._save()
            return False
        return e["failures"] >= QUARANTINE_AFTER

    def failed(self, path: str, sig: tuple[int, int] | None, error: str) -> bool:
        """Record that `path` failed alone; True when that quarantines it."""
        size, mtime = sig or (-1, -1)
        e = self.entries.setdefault(path, {"size": size, "mtime_ns": mtime, "failures": 0})
        e["failures"] += 1
        e["error"] = error
        if e["failures"] >= QUARANTINE_AFTER:
            e["quarantined_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._save()
        return e["failures"] >= QUARANTINE_AFTER

    def succeeded(self, paths: list[str]) -> None:
        if any(self.entries.pop(p, None) for p in paths):
            self._save()

    def count(self) -> int:
        return sum(e["failures"] >= QUARANTINE_AFTER for e in self.entries.values())


def blames_the_files(exc: BaseException, warehouse: str) -> bool:
    """Can the run's files have caused `exc`? Not when the warehouse is busy or
    damaged or the disk is full: then splitting the run would only blame good files."""
    from pipeline.warehouse import WarehouseError, check_warehouse

    if isinstance(exc, WarehouseError):
        return False
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return False
    if "No space left on device" in str(exc):
        return False
    try:
        return check_warehouse(warehouse, footer=False).ok
    except WarehouseError:
        return True  # no warehouse yet: nothing of it can be at fault


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def run_once(parameters: dict, inbox_files: InboxFiles, quarantine: Quarantine) -> dict:
    """One scheduled run: ingest the settled, unquarantined inbox files; on a failure
    the files can have caused, split them to land the good ones and find the bad ones."""
    settled, changing = inbox_files.scan()
    take = [p for p in settled if not quarantine.is_quarantined(p, inbox_files.signature(p))]
    summaries, errors, newly_quarantined = [], [], []

    def ingest(paths: list[str], whole: bool) -> None:
        try:
            # the whole inbox as before when nothing is held back (the drop's inputs stay short)
            summaries.append(ingest_flow(**{**parameters, "paths": parameters["paths"] if whole else paths}))
            quarantine.succeeded(paths)
        except Exception as exc:  # a failed run commits nothing
            log.warning("run over %d files failed: %s", len(paths), _error(exc))
            if not blames_the_files(exc, parameters["warehouse"]):
                errors.append(_error(exc))
                return
            if len(paths) == 1:
                if quarantine.failed(paths[0], inbox_files.signature(paths[0]), _error(exc)):
                    newly_quarantined.append(paths[0])
                errors.append(f"{paths[0]}: {_error(exc)}")
                return
            half = len(paths) // 2
            ingest(paths[:half], False)
            ingest(paths[half:], False)

    if take:
        ingest(take, whole=len(take) == len(settled) and not changing)
    committed = [s for s in summaries if s.get("drop_id") is not None]
    summary = {"drop_id": committed[-1]["drop_id"] if committed else None,
               "drop_ids": [s["drop_id"] for s in committed],
               "n_documents": sum(s.get("n_documents", 0) for s in committed),
               "n_rejected": sum(s.get("n_rejected", 0) for s in committed),
               "n_new_articles": sum(s.get("n_new_articles", 0) for s in committed),
               "elapsed_s": sum(s.get("elapsed_s", 0.0) for s in committed),
               "n_settling": len(changing), "n_quarantined": quarantine.count(),
               "newly_quarantined": newly_quarantined}
    if errors:
        summary["error"] = "; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")
    return summary


def serve_deployment(parameters: dict, interval: float | None, cron: str | None) -> None:
    """Register the inbox ingest as the deployment newsfold-ingest/newsfold-inbox and run
    its scheduled runs until stopped (Ctrl-C or SIGTERM).

    One run at a time: runs write under one lock anyway, and with a schedule faster
    than a run, Prefect would start a run process per tick that all wait on the lock.
    SIGTERM stops it like Ctrl-C (Prefect 3.8's runner hangs on SIGTERM: its handler
    waits on the event loop it interrupted).
    """
    import asyncio

    from prefect.runner import Runner

    class _Runner(Runner):
        def handle_sigterm(self, *args, **kwargs):
            raise KeyboardInterrupt

    runner = _Runner(name="newsfold-inbox", limit=1)
    runner.add_flow(ingest_flow, name="newsfold-inbox", parameters=parameters,
                    interval=None if cron else (interval or 60), cron=cron,
                    description=f"Ingest new files from {parameters['paths'][0]}")
    asyncio.run(runner.start())
