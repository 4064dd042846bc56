"""`newsfold` command line: the user's front door.

Every user mistake (missing path, busy warehouse, bad SQL) ends as one line on
stderr and a non-zero exit; tracebacks are for bugs only.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import date, datetime
from decimal import Decimal

DEFAULT_WAREHOUSE = os.environ.get("NEWSFOLD_WAREHOUSE", "warehouse")

DESCRIPTION = """\
newsfold ingests drops of news article files, cleans them (site chrome, repeated
bodies), folds copies of the same story into one canonical article, and keeps
everything with full provenance in a DuckDB-queryable Parquet warehouse.

  newsfold ingest seeds/                  ingest files or folders as one drop
  newsfold status                         what the warehouse holds, last drops
  newsfold sql "SELECT title FROM articles"   query the tables with DuckDB SQL
  newsfold serve --inbox inbox/ --interval 300   ingest new inbox files every 5 minutes
  newsfold eval corpus/                   dedup quality on a labelled corpus (labels.csv)

Tables: documents, articles, provenance, removed_spans, drops.
"""


def _add_warehouse(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warehouse", "-w", default=DEFAULT_WAREHOUSE, metavar="DIR",
                   help="warehouse folder (default: %(default)s, or $NEWSFOLD_WAREHOUSE)")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command`, other subcommands' dedup options are left out (building them
    imports numpy and the pipeline, which `--version`, `--help`, `sql` and `status` do not need)."""
    parser = argparse.ArgumentParser(prog="newsfold", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ing = sub.add_parser("ingest", help="ingest files or folders as one drop",
                         description="Read the files (folders recursively), clean them, fold duplicates into "
                                     "articles and commit everything to the warehouse as one atomic drop. "
                                     "Files already ingested (same path, same bytes) are skipped.")
    ing.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest")
    _add_warehouse(ing)
    ing.add_argument("--label", help="a name for this drop, shown by `newsfold status`")
    ing.add_argument("--batch-size", type=int, default=500, metavar="N",
                     help="documents per processing batch (default: %(default)s)")
    ing.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="if another ingest is writing, wait this long for it instead of failing at once")
    _add_execution_options(ing)
    if command in (None, "ingest"):
        _add_dedup_options(ing)

    q = sub.add_parser("sql", help="run a SQL query over the warehouse tables",
                       description="Run DuckDB SQL over the warehouse. Tables are available by their plain "
                                   "names: documents, articles, provenance, removed_spans, drops.")
    q.add_argument("query", metavar="QUERY", help='e.g. "SELECT article_id, title FROM articles"')
    _add_warehouse(q)
    q.add_argument("--format", "-f", choices=["table", "csv", "json"], default="table",
                   help="output format; json prints one array of row objects (default: %(default)s)")
    q.add_argument("--as-of-drop", type=int, metavar="N",
                   help="query the warehouse as it was right after drop N committed (a DuckLake snapshot)")

    sv = sub.add_parser("serve", help="ingest new files from an inbox folder on a schedule",
                        description="Watch an inbox folder: on every scheduled run, ingest the files the "
                                    "warehouse does not hold yet (each file exactly once) as a new drop. "
                                    "With PREFECT_API_URL set this registers and serves a Prefect deployment "
                                    "(runs show in the Prefect UI); without it newsfold keeps the schedule "
                                    "itself. Stop with Ctrl-C.")
    sv.add_argument("--inbox", required=True, metavar="DIR", help="folder to watch (recursively)")
    when = sv.add_mutually_exclusive_group()
    when.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS (default: 60)")
    when.add_argument("--cron", metavar="EXPR", help='run on a cron schedule, e.g. "*/15 * * * *"')
    sv.add_argument("--max-runs", type=int, metavar="N", help="stop after N runs (default: run until stopped)")
    sv.add_argument("--settle", type=float, default=3.0, metavar="SECONDS",
                    help="take a file only once its size and mtime have not changed for SECONDS, so a file still "
                         "being written is not ingested half-written (default: %(default)s)")
    sv.add_argument("--scheduler", choices=["auto", "prefect", "local"], default="auto",
                    help="prefect: serve a Prefect deployment (needs PREFECT_API_URL); local: newsfold keeps the "
                         "schedule itself; auto: prefect when PREFECT_API_URL is set (default: %(default)s)")
    sv.add_argument("--batch-size", type=int, default=500, metavar="N",
                    help="documents per processing batch (default: %(default)s)")
    _add_execution_options(sv)
    _add_warehouse(sv)
    if command in (None, "serve"):
        _add_dedup_options(sv)

    ev = sub.add_parser("eval", help="measure dedup quality on a labelled corpus",
                        description="Ingest a labelled corpus (a labels.csv with path,cluster_id,kind,source_path, "
                                    "or the folder holding it; see the README) into a throwaway warehouse and "
                                    "report pairwise precision, recall, F1, adjusted Rand index, false merges and "
                                    "missed copies per copy kind, next to a plain datasketch MinHashLSH baseline.")
    ev.add_argument("labelled", metavar="LABELLED_DIR_OR_FILE", help="labels.csv, or a folder holding one")
    ev.add_argument("--warehouse", "-w", metavar="DIR",
                    help="ingest into this (new) folder and keep it, instead of a temporary one")
    ev.add_argument("--batch-size", type=int, default=500, metavar="N",
                    help="documents per processing batch (default: %(default)s)")
    ev.add_argument("--no-baseline", action="store_true", help="skip the datasketch baseline")
    ev.add_argument("--worst", type=int, default=5, metavar="N",
                    help="list this many worst false merges and missed copies (default: %(default)s)")
    ev.add_argument("--json", action="store_true", help="print the scores as JSON instead of a table")
    if command in (None, "eval"):
        _add_dedup_options(ev)

    st = sub.add_parser("status", help="table counts and the last drops",
                        description="Show how many rows each table holds and the most recent drops.")
    _add_warehouse(st)
    st.add_argument("--drops", type=int, default=10, metavar="N", help="how many recent drops to list")

    ps = sub.add_parser("prefect-server", help="keep a Prefect server (API and UI) running between ingests",
                        description="Every ingest is a Prefect flow run. Without a server, each ingest starts a "
                                    "temporary one (seconds of start-up) and stops it at the end. `start` keeps "
                                    "one running in the background at PREFECT_SERVER_API_HOST:PORT (default "
                                    "127.0.0.1:4200, UI included); ingests reuse it and their runs stay visible. "
                                    "A server set with PREFECT_API_URL is always used instead.")
    ps.add_argument("action", choices=["start", "stop", "status"])

    ck = sub.add_parser("check", help="verify that every file the warehouse references is there and readable",
                        description="Verify every Parquet file the catalog references, in the current snapshot and "
                                    "in the older snapshots kept for time travel: it exists, has the recorded size "
                                    "and its footer reads with the recorded row count. Also lists Parquet files no "
                                    "snapshot references. Exit status 1 when a referenced file is damaged.")
    _add_warehouse(ck)
    ck.add_argument("--deep", action="store_true",
                    help="also read every row of every file (slower: reads all the data)")

    rp = sub.add_parser("repair", help="bring a damaged warehouse back to its last intact snapshot",
                        description="If the current snapshot references a missing or damaged file, go back to the "
                                    "last snapshot whose files are all intact: the drops committed after it are "
                                    "rolled back and the files they recorded are listed (and written to a file) so "
                                    "you can ingest them again. Older snapshots that reference a damaged file are "
                                    "expired, and Parquet files no snapshot references are deleted. Shows the plan "
                                    "and changes nothing without --yes.")
    _add_warehouse(rp)
    rp.add_argument("--yes", action="store_true", help="carry out the repair (without it: only show the plan)")
    rp.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                    help="if an ingest is writing, wait this long for it instead of failing at once")
    return parser


def _add_execution_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where batches run")
    g.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes for the batches (default: $NEWSFOLD_WORKERS or all cores)")
    g.add_argument("--dask", metavar="ADDRESS", default=os.environ.get("NEWSFOLD_DASK_ADDRESS"),
                   help="run the batches on the Dask cluster whose scheduler is at ADDRESS, e.g. "
                        "tcp://10.0.0.5:8786 (default: $NEWSFOLD_DASK_ADDRESS); the warehouse folder must be "
                        "reachable at the same path from every worker (see README, Performance)")


def _check_execution_options(args: argparse.Namespace) -> None:
    if args.workers is not None and args.workers < 1:
        raise ValueError("--workers must be at least 1")
    if args.dask:
        try:
            import prefect_dask  # noqa: F401
        except ImportError:
            raise ValueError("--dask needs prefect-dask: pip install 'newsfold[dask]'") from None


def _add_dedup_options(p: argparse.ArgumentParser) -> None:
    from pipeline.dedup import DedupParams

    d = DedupParams()
    g = p.add_argument_group("dedup parameters")
    g.add_argument("--shingle-size", type=int, default=d.shingle_size, metavar="K",
                   help="words per shingle (default: %(default)s)")
    g.add_argument("--num-perm", type=int, default=d.num_perm, metavar="N",
                   help="MinHash permutations (default: %(default)s)")
    g.add_argument("--bands", type=int, default=d.bands, metavar="B",
                   help="LSH bands; bands x rows must equal num-perm (default: %(default)s)")
    g.add_argument("--rows", type=int, default=d.rows, metavar="R", help="rows per LSH band (default: %(default)s)")
    g.add_argument("--jaccard", type=float, default=d.jaccard_threshold, metavar="J",
                   help="estimated Jaccard at or above which a copy is a near duplicate (default: %(default)s)")
    g.add_argument("--containment", type=float, default=d.containment_threshold, metavar="C",
                   help="share of a copy's shingles inside the canonical for it to count as contained "
                        "(default: %(default)s)")
    g.add_argument("--teaser-ratio", type=float, default=d.teaser_ratio, metavar="R",
                   help="a contained copy at most this share of the longer one's size is a teaser even under "
                        "another headline (default: %(default)s)")
    g.add_argument("--update-ratio", type=float, default=d.update_ratio, metavar="R",
                   help="a contained copy between --teaser-ratio and this share of the longer one's size, under "
                        "another headline, is an earlier version of an update: a separate article "
                        "(default: %(default)s)")
    g.add_argument("--lead-bands", type=int, default=d.lead_bands, metavar="B",
                   help="extra LSH bands over each document's first shingles, to find teasers; 0 turns them off "
                        "(default: %(default)s)")
    g.add_argument("--lead-rows", type=int, default=d.lead_rows, metavar="R",
                   help="rows per lead band (default: %(default)s)")
    g.add_argument("--lead-shingles", type=int, default=d.lead_shingles, metavar="N",
                   help="how many first shingles the lead bands cover (default: %(default)s)")


def dedup_params(args: argparse.Namespace):
    from pipeline.dedup import DedupParams

    return DedupParams(shingle_size=args.shingle_size, num_perm=args.num_perm, bands=args.bands, rows=args.rows,
                       jaccard_threshold=args.jaccard, containment_threshold=args.containment,
                       teaser_ratio=args.teaser_ratio, update_ratio=args.update_ratio, lead_bands=args.lead_bands,
                       lead_rows=args.lead_rows, lead_shingles=args.lead_shingles)


def _jsonable(v):
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def print_rows(columns: list[str], rows: list[tuple], fmt: str, out=None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        json.dump([{c: _jsonable(v) for c, v in zip(columns, r)} for r in rows], out, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        w.writerows([[_jsonable(v) for v in r] for r in rows])
    else:
        cells = [[("" if v is None else str(_jsonable(v))).replace("\n", " ") for v in r] for r in rows]
        cells = [[c if len(c) <= 60 else c[:57] + "..." for c in r] for r in cells]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
        out.write(line(columns) + "\n" + line(["-" * w for w in widths]) + "\n")
        for r in cells:
            out.write(line(r) + "\n")
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def cmd_ingest(args) -> int:
    import time

    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    _check_execution_options(args)
    params = dedup_params(args)
    for p in args.paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such file or folder: {p}")
    _quiet_prefect()
    from flows.prefect_api import prefect_api
    from pipeline.warehouse import writer_lock

    t0 = time.perf_counter()
    with writer_lock(args.warehouse, args.wait), prefect_api() as api:
        from flows.ingest import ingest_flow  # imports Prefect while a temporary server boots

        with api.active():
            s = ingest_flow(paths=args.paths, warehouse=args.warehouse, label=args.label,
                            batch_size=args.batch_size, params=params, wait_s=args.wait, workers=args.workers,
                            dask_address=args.dask)
    dups = s["n_exact_duplicates"] + s["n_near_duplicates"] + s["n_contained"]
    seen = f"  ({s['n_seen_before']} seen before, skipped)" if s["n_seen_before"] else ""
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
          f"  elapsed             {time.perf_counter() - t0:.1f} s\n"
          f"  Prefect             {api.note}")
    return 0


def _quiet_prefect() -> None:
    # Keep Prefect's chatter out of the user's terminal (the temporary server's own
    # settings are in flows/prefect_api.py).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def cmd_eval(args) -> int:
    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    if args.warehouse and os.path.exists(os.path.join(args.warehouse, "catalog.sqlite")):
        raise ValueError(f"--warehouse {args.warehouse} already holds a warehouse; eval needs a new folder")
    params = dedup_params(args)
    _quiet_prefect()
    from flows.prefect_api import prefect_api

    with prefect_api() as api:
        from flows.evaluate import evaluate_labelled
        from pipeline.evaluate import format_report

        with api.active():
            results = evaluate_labelled(args.labelled, params, batch_size=args.batch_size, warehouse=args.warehouse,
                                        baseline=not args.no_baseline, worst=args.worst)
    if args.json:
        json.dump(results, sys.stdout, default=_jsonable, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_report(results))
    return 0


def cmd_serve(args) -> int:
    import signal

    _check_execution_options(args)
    _quiet_prefect()
    from flows.prefect_api import prefect_api

    # A service manager stops us with SIGTERM: leave like Ctrl-C. A run cut short
    # commits nothing, and its files are picked up by the next serve.
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)

    def report(summary: dict) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        notes = "".join(f"; {n} {what}" for n, what in (
            (summary.get("n_settling"), "files still being written (taken once they stop changing)"),
            (len(summary.get("newly_quarantined") or []), "files quarantined now"),
            (summary.get("n_quarantined"), f"quarantined in all (see {args.warehouse}/quarantine.json)")) if n)
        drops = summary.get("drop_ids") or ([summary["drop_id"]] if summary.get("drop_id") is not None else [])
        if drops:
            line = (f"{stamp} drop {', '.join(map(str, drops))}: {summary['n_documents']} new documents, "
                    f"{summary['n_new_articles']} new articles")
            if summary.get("error"):
                line += f"; some files failed (retried next run): {summary['error']}"
        elif summary.get("error"):
            line = f"{stamp} run failed, nothing committed (retried next run): {summary['error']}"
        else:
            line = f"{stamp} nothing new"
        print(line + notes, flush=True)

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
            serve_inbox(args.inbox, args.warehouse, interval=args.interval, cron=args.cron,
                        batch_size=args.batch_size, params=dedup_params(args), max_runs=args.max_runs,
                        scheduler=scheduler, on_run=report, workers=args.workers, dask_address=args.dask,
                        settle_s=args.settle)
    return 0


def cmd_prefect_server(args) -> int:
    from flows import prefect_api

    actions = {"start": prefect_api.start_background_server, "stop": prefect_api.stop_background_server,
               "status": prefect_api.server_status}
    print(actions[args.action]())
    return 0


def _snapshot_for_drop(warehouse: str, drop: int) -> int:
    from pipeline.warehouse import Warehouse, WarehouseError

    with Warehouse(warehouse, read_only=True) as wh:
        snapshots = wh.drop_snapshots()
    if drop not in snapshots:
        raise WarehouseError(f"no drop {drop} in {warehouse} (see `newsfold status`)")
    return snapshots[drop]


def cmd_sql(args) -> int:
    from pipeline.warehouse import Warehouse

    snapshot = _snapshot_for_drop(args.warehouse, args.as_of_drop) if args.as_of_drop is not None else None
    with Warehouse(args.warehouse, read_only=True, snapshot=snapshot) as wh:
        wh.lock_down()  # only reads: see Warehouse.lock_down
        cur = wh.query(args.query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchall() if columns else []
    print_rows(columns, rows, args.format)
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
    _warn_if_damaged(args.warehouse)
    return 0


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
        return text
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
                "check": cmd_check, "repair": cmd_repair, "prefect-server": cmd_prefect_server}
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
        print(f"newsfold: error: {describe_error(exc, getattr(args, 'warehouse', None))}", file=sys.stderr)
    finally:
        _restore_signals(stop_signals)
    return 1


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
    return previous


def _restore_signals(previous: dict) -> None:
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
