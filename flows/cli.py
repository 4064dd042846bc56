"""`newsfold` command line: the user's front door.

Every user mistake (missing path, busy warehouse, bad SQL) ends as one line on
stderr and a non-zero exit; tracebacks are for bugs only.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import datetime as dt
import json
import logging
import math
import os
import re
import sys
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

# an empty NEWSFOLD_WAREHOUSE (`NEWSFOLD_WAREHOUSE=$UNSET newsfold ingest ...`) is unset: as a
# path it was the working folder, where ingest wrote catalog.sqlite and data/
DEFAULT_WAREHOUSE = os.environ.get("NEWSFOLD_WAREHOUSE") or "warehouse"
DUCKDB_VERSION = "1.5.5"  # pipeline.warehouse.DUCKDB_VERSION, without importing duckdb to build the parser

DESCRIPTION = """\
newsfold ingests drops of news article files, cleans them (site chrome, repeated
bodies), folds copies of the same story into one canonical article, and keeps
everything with full provenance in a DuckDB-queryable Parquet warehouse.

  newsfold ingest seeds/                  ingest files or folders as one drop
  newsfold status                         what the warehouse holds, last drops
  newsfold sql "SELECT title FROM articles"   query the tables with DuckDB SQL
  newsfold export articles --to articles.parquet   write a table or query to Parquet, CSV or JSONL
  newsfold compact --older-than 30d       merge small files, expire old snapshots
  newsfold serve --inbox inbox/ --interval 300   ingest new inbox files every 5 minutes
  newsfold eval corpus/                   dedup quality on a labelled corpus (labels.csv)

Tables: documents, articles, provenance, removed_spans, drops.
"""


def _folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("empty path: name a folder")
    return text


def _count(minimum: int):
    """An argparse type: a whole number of at least `minimum` (a negative --drops reached DuckDB's
    LIMIT as 'Binder Error', and a negative --max-runs started a server to run nothing)."""
    def count(text: str) -> int:
        value = int(text)  # not a number: argparse's "invalid count value"
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value}: must be {minimum} or more")
        return value
    return count


def _add_warehouse(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warehouse", "-w", type=_folder, default=DEFAULT_WAREHOUSE, metavar="DIR",
                   help="warehouse folder (default: %(default)s, or $NEWSFOLD_WAREHOUSE)")


def _add_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="if an ingest is writing, wait this long for it instead of failing at once")


def _add_config_options(p: argparse.ArgumentParser) -> None:
    """--config FILE and one option per ingest setting, generated from pipeline/config.py."""
    from pipeline.config import CONFIG_FILE, add_cli_options

    p.add_argument("--config", metavar="FILE", help=f"read settings from FILE (default: ./{CONFIG_FILE} if there "
                                                    "is one); flags > NEWSFOLD_* env > file > defaults")
    add_cli_options(p)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser: one small builder per subcommand (COMMANDS), and the ingest settings'
    options for the CONFIGURED ones; with `command`, only that subcommand gets those (so
    `--version`, `--help`, `sql` and `status` neither build nor import them)."""
    parser = argparse.ArgumentParser(prog="newsfold", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help, description, add_options) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=description)
        add_options(p)
        if name in CONFIGURED and command in (None, name):
            _add_config_options(p)
    return parser


def _ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest")
    _add_warehouse(p)
    p.add_argument("--label", help="a name for this drop, shown by `newsfold status`")
    _add_output_options(p)


def _sql_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="?", metavar="QUERY",
                   help='e.g. "SELECT article_id, title FROM articles"; "-" reads the query from stdin')
    p.add_argument("-f", "--file", metavar="FILE", help="read the query from FILE ('-': stdin)")
    _add_warehouse(p)
    p.add_argument("--format", choices=list(OUTPUT_FORMATS), default="table",
                   help="output format: table (long values cut at 60 characters), line (one 'column = value' "
                        "line per field, values whole), csv, json (one array of row objects), jsonl (one "
                        "object per line) (default: %(default)s)")
    p.add_argument("--as-of-drop", type=int, metavar="N",
                   help="query the warehouse as it was right after drop N committed (a DuckLake snapshot)")


def _export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", nargs="?", metavar="TABLE", help="a table, e.g. articles")
    p.add_argument("--query", metavar="SQL", help="export the rows of this query instead of a table")
    p.add_argument("--to", required=True, metavar="PATH", help="the file to write (replaced if it exists)")
    p.add_argument("--format", choices=list(EXPORT_FORMATS), help="parquet, csv or jsonl (default: from PATH)")
    p.add_argument("--as-of-drop", type=int, metavar="N", help="export the warehouse as it was after drop N")
    _add_warehouse(p)


def _compact_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--older-than", metavar="DURATION",
                   help="expire snapshots older than DURATION, e.g. 30d, 12h, 90m, 2w (default: expire none)")
    _add_wait(p)
    _add_warehouse(p)


def _serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inbox", required=True, metavar="DIR", help="folder to watch (recursively)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS (default: 60)")
    when.add_argument("--cron", metavar="EXPR", help='run on a cron schedule, e.g. "*/15 * * * *"')
    p.add_argument("--max-runs", type=_count(1), metavar="N", help="stop after N runs (default: run until stopped)")
    p.add_argument("--settle", type=float, default=3.0, metavar="SECONDS",
                   help="take a file only once its size and mtime have not changed for SECONDS, so a file still "
                        "being written is not ingested half-written (default: %(default)s)")
    p.add_argument("--scheduler", choices=["auto", "prefect", "local"], default="auto",
                   help="prefect: serve a Prefect deployment (needs a Prefect server: PREFECT_API_URL, or one "
                        "running on this machine); local: newsfold keeps the schedule itself; auto: prefect when "
                        "there is such a server and no --max-runs (default: %(default)s)")
    _add_warehouse(p)
    _add_output_options(p)


def _eval_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("labelled", metavar="LABELLED_DIR_OR_FILE", help="labels.csv, or a folder holding one")
    p.add_argument("--warehouse", "-w", metavar="DIR",
                   help="ingest into this (new) folder and keep it, instead of a temporary one")
    p.add_argument("--no-baseline", action="store_true", help="skip the datasketch baseline")
    p.add_argument("--worst", type=_count(0), default=5, metavar="N",
                   help="list this many worst false merges and missed copies (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON instead of a table")


def _status_options(p: argparse.ArgumentParser) -> None:
    _add_warehouse(p)
    p.add_argument("--drops", type=_count(0), default=10, metavar="N", help="how many recent drops to list")


def _prefect_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["start", "stop", "status"])


def _check_options(p: argparse.ArgumentParser) -> None:
    _add_warehouse(p)
    p.add_argument("--deep", action="store_true", help="also read every row of every file (slower: reads all the data)")


def _repair_options(p: argparse.ArgumentParser) -> None:
    _add_warehouse(p)
    p.add_argument("--yes", action="store_true", help="carry out the repair (without it: only show the plan)")
    _add_wait(p)


def _reindex_options(p: argparse.ArgumentParser) -> None:
    _add_warehouse(p)
    p.add_argument("--into", required=True, metavar="NEW_WAREHOUSE", help="the new warehouse folder to write")


CONFIGURED = ("ingest", "serve", "eval", "config", "reindex")  # commands taking the ingest settings
COMMANDS = {  # name -> (help, description, options)
    "ingest": ("ingest files or folders as one drop",
               "Read the files (folders recursively), clean them, fold duplicates into articles and commit "
               "everything to the warehouse as one atomic drop. Files already ingested (same path, same bytes) "
               "are skipped. Settings come from flags, NEWSFOLD_* variables and newsfold.toml (`newsfold "
               "config` shows them).", _ingest_options),
    "sql": ("run a SQL query over the warehouse tables",
            "Run DuckDB SQL over the warehouse. Tables are available by their plain names: documents, articles, "
            "provenance, removed_spans, drops. The query comes from QUERY, from a file (-f FILE, as with the "
            "duckdb CLI) or from stdin (QUERY or FILE '-').", _sql_options),
    "export": ("write a table or a query's rows to Parquet, CSV or JSON Lines",
               "Stream a warehouse table (or the rows of --query) into one file through DuckDB's COPY; nothing is "
               "held in memory. The format follows the file's extension (.parquet, .csv, .jsonl/.ndjson/.json) "
               "unless --format says it.", _export_options),
    "compact": ("merge small Parquet files and expire old snapshots",
                "Run DuckLake's maintenance: merge the many small files that drops leave into fewer, and, with "
                "--older-than, expire snapshots older than that (time travel with --as-of-drop then reaches only "
                "the drops committed within it, and the latest drop). Files no kept snapshot needs are deleted.",
                _compact_options),
    "serve": ("ingest new files from an inbox folder on a schedule",
              "Watch an inbox folder: on every scheduled run, ingest the files the warehouse does not hold yet "
              "(each file exactly once) as a new drop. With a Prefect server (PREFECT_API_URL, or one running on "
              "this machine: `newsfold prefect-server start`) this registers and serves a Prefect deployment "
              "(runs show in the Prefect UI); without one newsfold keeps the schedule itself. "
              "Scheduled runs wait at least 600 s for another writer. Stop with Ctrl-C.", _serve_options),
    "eval": ("measure dedup quality on a labelled corpus",
             "Ingest a labelled corpus (a labels.csv with path,cluster_id,kind,source_path, or the folder holding "
             "it; see the README) into a throwaway warehouse and report pairwise precision, recall, F1, adjusted "
             "Rand index, false merges and missed copies per copy kind, next to a plain datasketch MinHashLSH "
             "baseline.", _eval_options),
    "status": ("table counts and the last drops", "Show how many rows each table holds and the most recent drops.",
               _status_options),
    "config": ("print the effective ingest settings and where each comes from",
               "Print the settings an ingest with the same flags would use, as a newsfold.toml, each with its "
               "source: a flag, a NEWSFOLD_* variable, the config file or the default.", lambda p: None),
    "reindex": ("re-fingerprint a warehouse into a new one with other dedup index parameters",
                "A warehouse keeps the shingle size, num_perm, bands, rows, seed and lead bands its index was made "
                "with, and refuses ingests with others. reindex re-runs its documents (their clean texts, drop by "
                "drop; sources are not read again) into a new warehouse with the given parameters.",
                _reindex_options),
    "prefect-server": ("keep a Prefect server (API and UI) running between ingests",
                       "Every ingest is a Prefect flow run. Without a server, each ingest starts a temporary one "
                       "(seconds of start-up) and stops it at the end. `start` keeps one running in the background "
                       "at PREFECT_SERVER_API_HOST:PORT (default 127.0.0.1:4200, UI included); ingests reuse it and "
                       "their runs stay visible. A server set with PREFECT_API_URL is always used instead.",
                       _prefect_server_options),
    "check": ("verify that every file the warehouse references is there and readable",
              "Verify every Parquet file the catalog references, in the current snapshot and in the older "
              "snapshots kept for time travel: it exists, has the recorded size and its footer reads with the "
              "recorded row count. Also lists Parquet files no snapshot references. Exit status 1 when a "
              "referenced file is damaged.", _check_options),
    "repair": ("bring a damaged warehouse back to its last intact snapshot",
               "If the current snapshot references a missing or damaged file, go back to the last snapshot whose "
               "files are all intact: the drops committed after it are rolled back and the files they recorded "
               "are listed (and written to a file) so you can ingest them again. Older snapshots that reference a "
               "damaged file are expired, and Parquet files no snapshot references are deleted. Shows the plan "
               "and changes nothing without --yes.", _repair_options),
}


def config_from_args(args: argparse.Namespace):
    """The effective IngestConfig: flags > NEWSFOLD_* env > newsfold.toml (or --config) > defaults."""
    return resolve_args(args).config


def resolve_args(args: argparse.Namespace):
    from pipeline.config import load_config

    return load_config(cli=vars(args), config_file=getattr(args, "config", None))


def _check_dask(config) -> None:
    if config.execution.dask_address:
        try:
            import prefect_dask  # noqa: F401
        except ImportError:
            raise ValueError("--dask needs prefect-dask: pip install 'newsfold[dask]'") from None


def _add_dedup_options(p: argparse.ArgumentParser) -> None:
    """The dedup section's options alone (bench/quality.py, bench/real_folding.py)."""
    from pipeline.config import add_cli_options

    add_cli_options(p, sections=("dedup",))


def dedup_params(args: argparse.Namespace):
    """The DedupParams of parsed dedup options (see _add_dedup_options)."""
    return config_from_args(args).dedup


OUTPUT_FORMATS = ("table", "line", "csv", "json", "jsonl")
EXPORT_FORMATS = {"parquet": "FORMAT parquet, COMPRESSION zstd", "csv": "FORMAT csv, HEADER true",
                  "jsonl": "FORMAT json"}  # DuckDB's JSON COPY writes one object per line
TABLE_CELL = 60  # table output cuts longer values; --format line shows them whole


def _iso_duration(td: dt.timedelta) -> str:
    """An INTERVAL as an ISO 8601 duration, e.g. P1DT2H3M4.5S."""
    sign, td = ("-", -td) if td < dt.timedelta(0) else ("", td)
    hours, rest = divmod(td.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    secs = f"{seconds + td.microseconds / 1e6:g}"
    time_part = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n)
    time_part += f"{secs}S" if seconds or td.microseconds or not (td.days or time_part) else ""
    return f"{sign}P{f'{td.days}D' if td.days else ''}{'T' + time_part if time_part else ''}"


def _jsonable(v):
    """A DuckDB value as JSON can carry it: every result is valid JSON (NaN/Inf -> null)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Decimal):
        return (int(v) if v == v.to_integral_value() else float(v)) if v.is_finite() else None
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return _iso_duration(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, dict):
        return {k if isinstance(k, str) else json.dumps(_jsonable(k)): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return str(v)


def _text(v) -> str:
    """A value as one text cell: scalars as JSON shows them, lists and structs as JSON."""
    if v is None:
        return ""
    j = _jsonable(v)
    if isinstance(j, (list, dict)):
        return json.dumps(j, ensure_ascii=False)
    if isinstance(v, float) and j is None:
        return str(v)  # nan, inf: text can say them
    return str(j)


def print_rows(columns: list[str], rows, fmt: str, out=None) -> None:
    """Write rows (any iterable of tuples; streamed except for table) in an output format."""
    out = out or sys.stdout
    if fmt == "json":
        out.write("[")
        for k, r in enumerate(rows):
            out.write(("," if k else "") + "\n" + json.dumps(dict(zip(columns, map(_jsonable, r))),
                                                            ensure_ascii=False))
        out.write("\n]\n")
    elif fmt == "jsonl":
        for r in rows:
            out.write(json.dumps(dict(zip(columns, map(_jsonable, r))), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        for r in rows:
            w.writerow([_text(v) for v in r])
    elif fmt == "line":  # like duckdb's .mode line
        width = max(map(len, columns), default=0)
        for k, r in enumerate(rows):
            out.write(("\n" if k else "") + "".join(f"{c.rjust(width)} = {_text(v)}\n" for c, v in zip(columns, r)))
    else:  # widths need every row first: hold the rows' cut cells, not their values (whole texts)
        cells, cut = [], False
        for r in rows:
            row = [_text(v).replace("\n", " ") for v in r]
            cut = cut or any(len(c) > TABLE_CELL for c in row)
            cells.append([c if len(c) <= TABLE_CELL else c[:TABLE_CELL - 3] + "..." for c in row])
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
        out.write(line(columns) + "\n" + line(["-" * w for w in widths]) + "\n")
        for r in cells:
            out.write(line(r) + "\n")
        note = f"; values cut at {TABLE_CELL} characters, --format line shows them whole" if cut else ""
        out.write(f"({len(cells)} row{'s' if len(cells) != 1 else ''}{note})\n")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    v = g.add_mutually_exclusive_group()
    v.add_argument("-v", "--verbose", action="count", default=0,
                   help="show the flow's log on stderr (-vv: debug, with libraries' warnings)")
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (no progress, no summary)")
    g.add_argument("--log-file", metavar="PATH",
                   help="append the full log (flow, tasks, libraries' warnings) to PATH, whatever -v/-q say")


class _TerminalFilter(logging.Filter):
    """Libraries' warnings (dateutil's UnknownTimezoneWarning, ...) and log records
    (trafilatura's "empty HTML tree" ERROR for every page it cannot parse, which a drop staged
    in this process printed on the terminal) are for the log file and -vv, not the terminal.
    Prefect's own records (a failed run's traceback, twice) are for the log file, -v and
    --debug: otherwise an error is newsfold's one line, also with -q or --log-file, which let
    Prefect's records through to the file."""

    def __init__(self, verbose: int, debug: bool = False):
        super().__init__()
        self.verbose, self.debug = verbose, debug

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in ("py.warnings", "newsfold.warnings"):
            return self.verbose > 1
        top = record.name.split(".", 1)[0]
        if top == "prefect":
            return self.verbose > 0 or self.debug or record.levelno >= logging.CRITICAL
        return top in ("newsfold", "root") or self.verbose > 1


def _configure_logging(args) -> None:
    """Terminal and log-file logging for ingest/serve. Call before importing Prefect:
    Prefect sets its loggers' levels from PREFECT_LOGGING_LEVEL when first imported."""
    verbose, quiet, log_file = args.verbose, args.quiet, args.log_file
    terminal = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    level = min(terminal, logging.DEBUG if verbose > 1 else logging.INFO) if log_file else terminal
    if verbose or quiet or log_file:
        os.environ["PREFECT_LOGGING_LEVEL"] = logging.getLevelName(level)
    _quiet_prefect()
    logging.captureWarnings(True)
    # Prefect sets up its logging (a console handler on the root logger) when prefect.main is
    # first imported: done after this function, it replaced the root's handlers filtered here
    import prefect.main  # noqa: F401

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for h in root.handlers:
        h.setLevel(terminal)
        h.addFilter(_TerminalFilter(verbose, getattr(args, "debug", False)))
    root.setLevel(level)
    logging.getLogger("newsfold").setLevel(level)
    logging.getLogger("httpx").setLevel(level if verbose > 1 else logging.WARNING)  # a line per API call
    # Prefect's background services log under their class names; at exit, draining towards a
    # server that is going away, they warn "Still processing items: 12 items remaining...":
    # noise after newsfold's own one-line summary or error
    for service in ("EventsWorker", "APILogWorker"):
        logging.getLogger(service).setLevel(level if verbose > 1 else logging.ERROR)
    if log_file:
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setLevel(level)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s - %(message)s"))
        root.addHandler(fh)
        atexit.register(_close_log_file, fh)


def _close_log_file(fh: logging.Handler) -> None:
    logging.getLogger().removeHandler(fh)
    fh.close()


class _IngestProgress:
    """The ingest's progress on a terminal (rich): files read, batches done, documents/s, ETA.

    Fed by the flow's progress reports (flows.ingest.PROGRESS_LISTENERS), the same
    reports that update the run's Prefect progress artifact.
    """

    def __init__(self, stream):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
            TextColumn("files · batches {task.fields[batches]} · {task.fields[rate]} docs/s · ETA"),
            TimeRemainingColumn(), console=Console(file=stream), transient=False)
        self.task = self.progress.add_task("finding files", total=None, batches="-", rate="-")

    def __call__(self, event: dict) -> None:
        if event["stage"] == "process":
            self.progress.update(self.task, description="reading", total=event["files_total"],
                                 completed=event["files_done"],
                                 batches=f"{event['batches_done']}/{event['batches_total']}")
            speed = self.progress.tasks[0].speed
            if speed:
                self.progress.update(self.task, rate=f"{speed:,.0f}")
        else:
            self.progress.update(self.task, description="committing")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()


def _progress_display(args) -> contextlib.AbstractContextManager:
    """The terminal progress display, or nothing when quiet or stderr is not a terminal."""
    if args.quiet or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from flows.ingest import PROGRESS_LISTENERS

    display = _IngestProgress(sys.stderr)

    @contextlib.contextmanager
    def listening():
        PROGRESS_LISTENERS.append(display)
        try:
            with display:
                yield
        finally:
            PROGRESS_LISTENERS.remove(display)

    return listening()


def cmd_ingest(args) -> int:
    config = config_from_args(args)
    _check_dask(config)
    for p in args.paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such file or folder: {p}")
    _refuse_undecodable_names(args)
    from flows.prefect_api import prefect_api

    try:
        # A temporary server first: it boots on the other core while this process opens the
        # warehouse, waits for its lock and imports Prefect (its start is the longest part of a
        # small drop; the rest used to come before it).
        with prefect_api() as api:
            from pipeline import collector_paused
            from pipeline.config import check_index_parameters
            from pipeline.warehouse import writer_lock

            # before Prefect's flow starts (the flow checks again, locked)
            check_index_parameters(args.warehouse, config)
            with writer_lock(args.warehouse, config.execution.wait_s):
                with collector_paused():  # importing Prefect builds many long-lived objects
                    _configure_logging(args)
                    from flows.ingest import import_run_machinery, ingest_flow

                    import_run_machinery()
                with api.active(), _progress_display(args):
                    s = ingest_flow(paths=args.paths, warehouse=args.warehouse, label=args.label, config=config)
    finally:
        log_file = os.path.abspath(args.log_file) if args.log_file else None
        for h in list(logging.getLogger().handlers):
            if isinstance(h, logging.FileHandler) and h.baseFilename == log_file:
                _close_log_file(h)
    if args.quiet:
        return 0
    dups = s["n_exact_duplicates"] + s["n_near_duplicates"] + s["n_contained"]
    seen = f"  ({s['n_seen_before']} seen before, skipped)" if s["n_seen_before"] else ""
    if not s["n_files"]:  # an empty folder, or one of dot-files only: say why nothing was read
        seen = "  (no files found; hidden files and folders, named with a leading dot, are skipped)"
    label = f" ({s['label']})" if s.get("label") else ""
    print(f"drop {s['drop_id']}{label} -> {args.warehouse}\n"
          f"  documents read      {s['n_files']}{seen}\n"
          f"  accepted            {s['n_accepted']}\n"
          f"  rejected            {s['n_rejected']}\n"
          f"  new articles        {s['n_new_articles']}\n"
          f"  duplicates folded   {dups}  (exact {s['n_exact_duplicates']}, near {s['n_near_duplicates']}, "
          f"contained {s['n_contained']})\n"
          f"  canonical switches  {s['n_canonical_switches']}\n"
          f"  spans removed       {s['n_spans_removed']}\n"
          f"  elapsed             {s['elapsed_s']:.1f} s  (flow start to commit, as drops.elapsed_s)\n"
          f"  Prefect             {api.note}")
    return 0


def _refuse_undecodable_names(args) -> None:
    """Prefect records a flow run's parameters as UTF-8 JSON, and a name that is not valid UTF-8
    (os gives its bytes as surrogate escapes) failed the run's creation with "'utf-8' codec
    can't encode character '\\udce9' ...". Inside a folder any name is read (as sources.py says);
    a path named on the command line must be valid UTF-8, and the label is stored escaped."""
    from pipeline.sources import display_path

    for what, path in [("path", p) for p in args.paths] + [("warehouse folder", args.warehouse)]:
        if display_path(path) != path:
            way = "ingest the folder that holds it, or rename it" if what == "path" else "use another folder"
            raise ValueError(f"the {what} {display_path(path)} is not valid UTF-8, which a Prefect flow run cannot "
                             f"record as a parameter: {way}")
    if args.label is not None:
        args.label = display_path(args.label)


def _quiet_prefect() -> None:
    # Keep Prefect's chatter out of the user's terminal (the temporary server's own
    # settings are in flows/prefect_api.py).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # and the client's first-run telemetry notice (set DO_NOT_TRACK=0 to keep telemetry on)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # (how long the temporary server may take to start is flows/prefect_api.startup_limit_s's:
    # setting PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS here cut its 120 s to 90)


def cmd_eval(args) -> int:
    config = config_from_args(args)
    if args.warehouse and os.path.exists(os.path.join(args.warehouse, "catalog.sqlite")):
        raise ValueError(f"--warehouse {args.warehouse} already holds a warehouse; eval needs a new folder")
    _quiet_prefect()
    from flows.prefect_api import prefect_api

    with prefect_api() as api:
        from flows.evaluate import evaluate_labelled
        from pipeline.evaluate import format_report

        with api.active():
            results = evaluate_labelled(args.labelled, config, warehouse=args.warehouse,
                                        baseline=not args.no_baseline, worst=args.worst)
    if args.json:
        json.dump(results, sys.stdout, default=_jsonable, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_report(results))
    return 0


def cmd_serve(args) -> int:
    import signal

    config = config_from_args(args)
    _check_dask(config)
    _configure_logging(args)
    from flows.prefect_api import prefect_api

    # A service manager stops us with SIGTERM: leave like Ctrl-C. A run cut short
    # commits nothing, and its files are picked up by the next serve.
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)

    def report(summary: dict) -> None:
        if args.quiet:
            return
        notes = "".join(f"; {n} {what}" for n, what in (
            (summary.get("n_settling"), "files still being written (taken once they stop changing)"),
            (len(summary.get("newly_quarantined") or []), "files quarantined now"),
            (summary.get("n_quarantined"), f"quarantined in all (see {args.warehouse}/quarantine.json)")) if n)
        print(f"{datetime.now():%H:%M:%S} {run_line(summary)}{notes}", flush=True)

    with prefect_api() as api:
        from flows.serve import serve_inbox

        scheduler = args.scheduler
        if api.kind == "temporary":  # a temporary server cannot keep a schedule: newsfold keeps it
            if scheduler == "prefect":
                raise ValueError("--scheduler prefect needs a Prefect server: start one with "
                                 "`newsfold prefect-server start`")
            scheduler = "local"
        with api.active():
            print(f"serving inbox {args.inbox} -> {args.warehouse} "
                  f"({'cron ' + args.cron if args.cron else f'every {args.interval or 60:g} s'}); Ctrl-C stops\n"
                  f"Prefect: {api.note}", flush=True)
            serve_inbox(args.inbox, args.warehouse, config, interval=args.interval, cron=args.cron,
                        max_runs=args.max_runs, scheduler=scheduler, on_run=report, settle_s=args.settle)
    return 0


def cmd_config(args) -> int:
    from pipeline.config import describe

    print(describe(resolve_args(args)))
    return 0


def cmd_reindex(args) -> int:
    config = config_from_args(args)
    _quiet_prefect()
    from flows.prefect_api import prefect_api

    with prefect_api() as api:
        from flows.reindex import reindex_flow

        with api.active():
            summaries = reindex_flow(args.warehouse, args.into, config)
    articles = sum(s["n_new_articles"] for s in summaries)
    print(f"reindexed {args.warehouse} into {args.into}: {_plural(len(summaries), 'drop')}, "
          f"{sum(s['n_documents'] for s in summaries)} documents, {_plural(articles, 'article')}")
    return 0


def cmd_prefect_server(args) -> int:
    from flows import prefect_api

    actions = {"start": prefect_api.start_background_server, "stop": prefect_api.stop_background_server,
               "status": prefect_api.server_status}
    print(actions[args.action]())
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_line(summary: dict) -> str:
    """serve's line for one run, e.g. 'drop 3: 4 new documents (3 rejected), 1 new article in 2.1 s'."""
    drops = summary.get("drop_ids") or ([summary["drop_id"]] if summary.get("drop_id") is not None else [])
    if not drops:
        if summary.get("error"):
            return f"run failed, nothing committed (retried next run): {summary['error']}"
        return "nothing new"
    rejected = f" ({summary['n_rejected']} rejected)" if summary.get("n_rejected") else ""
    line = (f"drop {', '.join(map(str, drops))}: {_plural(summary['n_documents'], 'new document')}{rejected}, "
            f"{_plural(summary['n_new_articles'], 'new article')} in {summary.get('elapsed_s', 0.0):.1f} s")
    if summary.get("error"):  # the run was split: some files landed, some failed
        line += f"; some files failed (retried next run): {summary['error']}"
    return line


def _snapshot_for_drop(warehouse: str, drop: int) -> int:
    from pipeline.warehouse import Warehouse, WarehouseError

    with Warehouse(warehouse, read_only=True) as wh:
        snapshots = wh.drop_snapshots()
        recorded = wh.sql("SELECT count(*) FROM drops WHERE drop_id = ?", [drop]).fetchone()[0]
    if drop not in snapshots:
        if recorded:
            raise WarehouseError(f"drop {drop}'s snapshot was expired by `newsfold compact --older-than`; "
                                 "time travel reaches only the drops it kept")
        raise WarehouseError(f"no drop {drop} in {warehouse} (see `newsfold status`)")
    return snapshots[drop]


def _read_query(args) -> str:
    """The query from QUERY, -f FILE, or stdin ('-' for either)."""
    if args.query is not None and args.file is not None:
        raise ValueError("give the query either as QUERY or with -f FILE, not both")
    if args.query is None and args.file is None:
        raise ValueError('no query: give QUERY, -f FILE, or "-" to read it from stdin')
    if args.query == "-" or args.file == "-":
        return sys.stdin.read()
    if args.file is not None:
        if not os.path.isfile(args.file):
            hint = (f" (-f reads a query from a file now; for output as {args.file} use --format {args.file})"
                    if args.file in OUTPUT_FORMATS else "")
            raise FileNotFoundError(f"no such query file: {args.file}{hint}")
        with open(args.file, encoding="utf-8") as fh:
            return fh.read()
    return args.query


def _fetch_batches(cur, size: int = 2048):
    while rows := cur.fetchmany(size):
        yield from rows


def cmd_sql(args) -> int:
    from pipeline.warehouse import Warehouse

    query = _read_query(args)  # an empty one is refused by Warehouse.query, with an example
    snapshot = _snapshot_for_drop(args.warehouse, args.as_of_drop) if args.as_of_drop is not None else None
    with Warehouse(args.warehouse, read_only=True, snapshot=snapshot) as wh:
        wh.lock_down()  # only reads: see Warehouse.lock_down
        cur = wh.query(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        print_rows(columns, _fetch_batches(cur) if columns else [], args.format)
    return 0


def _export_format(path: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = os.path.splitext(path)[1].lower()
    by_suffix = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "jsonl"}
    if suffix not in by_suffix:
        raise ValueError(f"cannot tell the format from {path!r}: name it .parquet, .csv or .jsonl, or pass --format")
    return by_suffix[suffix]


def cmd_export(args) -> int:
    from pipeline.warehouse import Warehouse

    if (args.table is None) == (args.query is None):
        raise ValueError("give either a TABLE or --query SQL")
    fmt = _export_format(args.to, args.format)
    target = os.path.abspath(args.to)
    if not os.path.isdir(os.path.dirname(target)):
        raise FileNotFoundError(f"no such folder: {os.path.dirname(target)}")
    if os.path.isdir(target):  # os.replace would fail naming the temporary file
        raise ValueError(f"--to {args.to} is a folder: name the file to write in it, e.g. "
                         f"{os.path.join(args.to, (args.table or 'rows') + '.' + fmt)}")
    snapshot = _snapshot_for_drop(args.warehouse, args.as_of_drop) if args.as_of_drop is not None else None
    with Warehouse(args.warehouse, read_only=True, snapshot=snapshot) as wh:
        if args.table is not None:
            tables = {r[0] for r in wh.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                                           "current_database()").fetchall()}
            if args.table not in tables:
                raise ValueError(f"no table {args.table!r}; tables: {', '.join(sorted(tables))}")
            select = f'SELECT * FROM "{args.table}"'
        else:
            select = args.query.strip().rstrip(";")
        # written under a temporary name and renamed: a failed export leaves no half file
        tmp = f"{target}.tmp{os.getpid()}"
        try:
            rows = wh.sql(f"COPY ({select}) TO '{tmp.replace(chr(39), chr(39) * 2)}' ({EXPORT_FORMATS[fmt]})"
                          ).fetchone()[0]
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    print(f"exported {_plural(rows, 'row')} of {args.table or 'the query'} to {args.to} ({fmt})")
    return 0


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """'30d', '12h', '90m', '2w', '45s' (a bare number: days)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r}: use a number and a unit, e.g. 30d, 12h, 90m, 2w")
    return dt.timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "d").lower()])


def cmd_compact(args) -> int:
    from pipeline.warehouse import Warehouse, WarehouseError, writer_lock

    older_than = parse_duration(args.older_than) if args.older_than is not None else None
    if not os.path.exists(os.path.join(args.warehouse, "catalog.sqlite")):
        raise WarehouseError(f"no warehouse at {args.warehouse} (run `newsfold ingest` first)")
    with writer_lock(args.warehouse, args.wait), Warehouse(args.warehouse) as wh:
        r = wh.compact(older_than)
    expired = f", {_plural(r['snapshots_expired'], 'snapshot')} expired" if older_than is not None else ""
    print(f"compacted {args.warehouse}: {r['files_before']} -> {r['files_after']} Parquet files "
          f"({r['files_deleted']} deleted){expired}")
    return 0


def cmd_status(args) -> int:
    from pipeline.schema import TABLES
    from pipeline.warehouse import Warehouse

    with Warehouse(args.warehouse, read_only=True) as wh:
        counts = [(name, wh.sql(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in TABLES]
        cur = wh.sql("""SELECT drop_id, label, finished_at, n_files, n_accepted, n_rejected, n_new_articles,
                               n_exact_duplicates + n_near_duplicates + n_contained AS n_duplicates, elapsed_s
                        FROM drops ORDER BY drop_id DESC LIMIT ?""", [args.drops])
        drops = cur.fetchall()
        drop_cols = [d[0] for d in cur.description]
    print(f"warehouse {os.path.abspath(args.warehouse)}\n")
    print_rows(["table", "rows"], counts, "table")
    print()
    print_rows(drop_cols, drops, "table")
    print(f"\nWith stock DuckDB {DUCKDB_VERSION} (pip install duckdb=={DUCKDB_VERSION}), paste:\n")
    print(stock_duckdb_sql(args.warehouse))
    _warn_if_damaged(args.warehouse)
    return 0


def stock_duckdb_sql(warehouse: str) -> str:
    """The lines that open this warehouse read-only in a stock DuckDB, offline."""
    from pipeline.warehouse import attach_sql, extension_directory

    return (f"SET extension_directory = '{extension_directory()}';\n"
            f"{attach_sql(Path(warehouse), read_only=True)};\nUSE lake;")


def _warn_if_damaged(warehouse: str) -> None:
    """status's cheap check: every referenced file is there with its recorded size."""
    from pipeline.warehouse import check_warehouse

    report = check_warehouse(warehouse, footer=False)
    if report.problems:
        print(f"\nwarning: {len(report.problems)} of the warehouse's files are missing or damaged, e.g. "
              f"{report.problems[0]}; run `newsfold check` and `newsfold repair`", file=sys.stderr)


def cmd_check(args) -> int:
    from pipeline.warehouse import check_warehouse

    report = check_warehouse(args.warehouse, deep=args.deep)
    for problem in report.problems:
        print(f"damaged  {problem}")
    for path in report.unreferenced:
        print(f"unreferenced  {path}")
    kind = "every row of" if args.deep else "size and footer of"
    print(f"checked {kind} {report.files} referenced files: {len(report.problems) or 'no'} damaged"
          + (f", {len(report.unreferenced)} unreferenced (harmless; `newsfold repair` removes them)"
             if report.unreferenced else "")
          + (" (an ingest is writing: unreferenced files not counted)" if report.writer_busy else ""))
    if report.problems:
        print("the warehouse is damaged: `newsfold repair` shows how it would bring it back to its last intact "
              "snapshot", file=sys.stderr)
        return 1
    return 0


def cmd_repair(args) -> int:
    from pipeline.warehouse import plan_repair, repair_warehouse, writer_lock

    if not os.path.exists(args.warehouse):  # before the lock makes the folder
        raise FileNotFoundError(f"no warehouse at {args.warehouse} (run `newsfold ingest` first)")
    with writer_lock(args.warehouse, args.wait):
        plan = plan_repair(args.warehouse)
        if not plan.changes_anything:
            print("nothing to repair: every referenced file is intact and no file is unreferenced")
            return 0
        if plan.rewind_to is not None:
            drops = ", ".join(map(str, plan.lost_drops)) or "none"
            print(f"the current snapshot ({plan.current_snapshot}) references damaged files: go back to snapshot "
                  f"{plan.rewind_to}, the last one whose files are all intact\n"
                  f"  drops rolled back: {drops}\n"
                  f"  files to ingest again: {len(plan.reingest)}")
            if plan.unreadable_lost_files:
                print(f"  ({plan.unreadable_lost_files} damaged files of those drops: their drops' inputs are "
                      "listed instead of single files)")
        if plan.expire:
            print(f"expire older snapshots that reference damaged files (no time travel to them): "
                  f"{', '.join(map(str, plan.expire))}")
        if plan.unreferenced:
            print(f"delete {len(plan.unreferenced)} Parquet files no kept snapshot references")
        if not args.yes:
            print("nothing changed: run again with --yes to repair")
            return 1
        repair_warehouse(args.warehouse, plan)
    if plan.rewind_to is not None:
        listing = os.path.join(args.warehouse, f"repair-reingest-{datetime.now():%Y%m%dT%H%M%S}.txt")
        with open(listing, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.writelines(p + "\n" for p in plan.reingest)
        print(f"repaired. Ingest the rolled-back files again: newsfold ingest -w {args.warehouse} "
              f"$(cat {listing})  (the list is in {listing})")
    else:
        print("repaired")
    return 0


def _add_debug_option(parser: argparse.ArgumentParser) -> None:
    # accepted before or after the subcommand: `newsfold --debug sql ...`, `newsfold sql ... --debug`
    help = "on an error, print the full traceback instead of one line"
    parser.add_argument("--debug", action="store_true", help=help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=help)


DISK_FULL = "No space left on device"


def describe_error(exc: BaseException, warehouse: str | None = None) -> str:
    """One line for any error: what happened and, where there is one, what to do."""
    import errno

    import duckdb

    from flows.prefect_api import PrefectAPIError
    from pipeline.warehouse import WarehouseError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or DISK_FULL in str(exc):
        return f"disk full ({text}); nothing was committed: free some space and run the command again"
    if isinstance(exc, (WarehouseError, FileNotFoundError, ValueError, PrefectAPIError)):
        return text
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or text}{where}"
    if isinstance(exc, duckdb.Error):
        data = [os.path.join(os.path.abspath(warehouse), "data"), os.path.join(os.path.realpath(warehouse), "data")
                ] if warehouse else []
        if any(d in str(exc) for d in data):  # DuckDB failed on one of the lake's own files
            return f"{text} -- a warehouse file is missing or damaged: run `newsfold check`"
        # in full: DuckDB's hints ("Did you mean ...?", candidate bindings, the caret) are the help
        return str(exc).rstrip()
    return f"internal error: {type(exc).__name__}: {text} (run with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # the subcommand is the first word that is not an option (the top level has no options taking values)
    parser = build_parser(command=next((a for a in argv if not a.startswith("-")), ""))
    _add_debug_option(parser)
    args = parser.parse_args(argv)
    if not args.debug:
        # Prefect logs a failed run's traceback itself; the error is ours to report, in one line
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    if args.version:
        from importlib import metadata

        try:
            print(f"newsfold {metadata.version('newsfold')}")
        except metadata.PackageNotFoundError:
            print("newsfold dev")
        return 0
    if not args.command:
        parser.print_help()
        return 2
    handlers = {"ingest": cmd_ingest, "sql": cmd_sql, "status": cmd_status, "serve": cmd_serve, "eval": cmd_eval,
                "check": cmd_check, "repair": cmd_repair, "export": cmd_export, "compact": cmd_compact,
                "prefect-server": cmd_prefect_server, "config": cmd_config, "reindex": cmd_reindex}
    stop_signals = _stop_on_terminate()
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("newsfold: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`newsfold sql ... | head`): not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except Exception as exc:
        if args.debug:
            import traceback

            traceback.print_exc()
        if cut_short_by_signal(exc):
            print("newsfold: interrupted", file=sys.stderr)
            return 130
        print(f"newsfold: error: {describe_error(exc, getattr(args, 'warehouse', None))}", file=sys.stderr)
    finally:
        _restore_signals(stop_signals)
    return 1


DUCKDB_INTERRUPTED = "Query interrupted"  # what DuckDB raises when a signal stops a statement


def cut_short_by_signal(exc: BaseException) -> bool:
    """Whether a Ctrl-C or SIGTERM ended in this error, not in a KeyboardInterrupt. While a flow runs, Prefect's
    engine (3.9+) replaces newsfold's SIGTERM handler with its own, which raises its
    TerminationSignal wherever the main thread is; raised inside pydantic's serialiser it comes
    out as a PydanticSerializationError that names it only in its message. A Ctrl-C while
    DuckDB runs a statement (the commit, the warehouse's creation) comes out of DuckDB as a
    plain RuntimeError("Query interrupted")."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__name__ == "TerminationSignal" or "TerminationSignal" in str(exc):
            return True
        if isinstance(exc, RuntimeError) and str(exc) == DUCKDB_INTERRUPTED:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _stop_on_terminate() -> dict:
    """SIGTERM and SIGHUP (`kill`, a closed terminal, a service manager) stop newsfold like
    Ctrl-C: the exception unwinds, so worker pools shut down and Prefect's temporary API
    server is stopped by its exit handler instead of being left running."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, stop)
    _dump_threads_on(signal.SIGUSR1)
    return previous


def _dump_threads_on(sig) -> None:
    """`kill -USR1 <pid>` prints every thread's stack to stderr and newsfold goes on: to see
    where a run that seems stuck is waiting (faulthandler writes from the signal itself, so
    it answers even when the main thread is blocked)."""
    import faulthandler
    import io

    with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):  # no stderr file (captured)
        faulthandler.register(sig, file=sys.stderr, all_threads=True)


def _restore_signals(previous: dict) -> None:
    import faulthandler
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler)
    if previous:
        faulthandler.unregister(signal.SIGUSR1)


if __name__ == "__main__":
    sys.exit(main())
