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
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime

from pipeline.dedup import DedupParams
from pipeline.drop import CleanParams

from .ingest import ingest_flow

log = logging.getLogger("newsfold.serve")

# a scheduled run waits this long for another writer instead of failing
SERVE_WRITER_WAIT_S = 600.0


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


def run_parameters(inbox: str, warehouse: str, batch_size: int, params: DedupParams,
                   clean_params: CleanParams, workers: int | None = None, dask_address: str | None = None) -> dict:
    return {"paths": [os.path.abspath(inbox)], "warehouse": os.path.abspath(warehouse), "label": "inbox",
            "batch_size": batch_size, "params": params, "clean_params": clean_params,
            "wait_s": SERVE_WRITER_WAIT_S, "only_new": True, "workers": workers, "dask_address": dask_address}


def serve_inbox(inbox: str, warehouse: str, interval: float | None = None, cron: str | None = None,
                batch_size: int = 500, params: DedupParams = DedupParams(),
                clean_params: CleanParams = CleanParams(), max_runs: int | None = None,
                scheduler: str = "auto", on_run: Callable[[dict], None] | None = None,
                workers: int | None = None, dask_address: str | None = None) -> None:
    """Ingest new inbox files on a schedule until interrupted (or `max_runs` runs).

    scheduler: "prefect" serves a Prefect deployment (needs PREFECT_API_URL),
    "local" keeps the schedule in this process, "auto" picks prefect when an
    API is configured.
    """
    validate_schedule(interval, cron)
    if not os.path.isdir(inbox):
        raise FileNotFoundError(f"no such inbox folder: {inbox}")
    parameters = run_parameters(inbox, warehouse, batch_size, params, clean_params, workers, dask_address)
    if scheduler == "auto":
        scheduler = "prefect" if os.environ.get("PREFECT_API_URL") and max_runs is None else "local"
    if scheduler == "prefect":
        if not os.environ.get("PREFECT_API_URL"):
            raise ValueError("--scheduler prefect needs a Prefect server: start one with `prefect server start` "
                             "and set PREFECT_API_URL=http://127.0.0.1:4200/api")
        serve_deployment(parameters, interval, cron)
        return
    runs = 0
    while max_runs is None or runs < max_runs:
        started = datetime.now().astimezone()
        try:
            summary = ingest_flow(**parameters)
        except Exception as exc:  # a failed run commits nothing; the next run retries its files
            summary = {"drop_id": None, "error": f"{type(exc).__name__}: {exc}"}
        runs += 1
        if on_run:
            on_run(summary)
        if max_runs is not None and runs >= max_runs:
            break
        delay = (next_run_after(started, interval, cron) - datetime.now().astimezone()).total_seconds()
        time.sleep(max(0.0, delay))


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
