"""fastwarc versus warcio on the real WARC files: speed and robustness.

    python bench/warc_libraries.py [--real DIR] [--repeat 5]

For each file of warc_resiliparse_tests (a Common Crawl excerpt, a clipped record, a
ClueWeb file in its non-standard dialect), both libraries iterate every record and
read its HTTP payload. Printed per file and library: milliseconds per pass (best of
--repeat), records, response records whose HTTP Content-Type was parsed, payload bytes
read, and whether the clipped record is seen as truncated. Parsing speed matters little
for newsfold (extracting one page with trafilatura takes 10-50 ms, parsing it well under
1 ms); reading every record right does. Run by hand; needs `pip install fastwarc`.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "shared" / "real" / "warc_resiliparse_tests"
FILES = ("warcfile.warc.gz", "clipped.warc.gz", "clueweb-quirk.warc.gz")


def with_warcio(path: Path) -> dict:
    from warcio.archiveiterator import ArchiveIterator

    out = {"records": 0, "responses_typed": 0, "payload_bytes": 0, "truncated": 0}
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            out["records"] += 1
            body = rec.content_stream().read()
            if rec.rec_type == "response":
                out["payload_bytes"] += len(body)
                out["responses_typed"] += bool(rec.http_headers and rec.http_headers.get_header("Content-Type"))
                out["truncated"] += getattr(rec.raw_stream, "limit", 0) > 0
    return out


def with_fastwarc(path: Path) -> dict:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    out = {"records": 0, "responses_typed": 0, "payload_bytes": 0, "truncated": 0}
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh, parse_http=True):
            out["records"] += 1
            body = rec.reader.read()
            if rec.record_type == WarcRecordType.response:
                out["payload_bytes"] += len(body)
                out["responses_typed"] += bool(rec.http_content_type)
                # fastwarc has no truncation flag: a payload shorter than Content-Length minus headers
                out["truncated"] += rec.content_length > len(body) + len(str(rec.http_headers or "")) + 4
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, default=REAL)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"| file | library | ms/pass | records | responses with Content-Type | payload bytes | truncated |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in FILES:
        for lib, run in (("warcio", with_warcio), ("fastwarc", with_fastwarc)):
            try:
                best, result = float("inf"), None
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    result = run(args.real / name)
                    best = min(best, time.perf_counter() - t0)
                print(f"| {name} | {lib} | {best * 1000:.1f} | {result['records']} | {result['responses_typed']} | "
                      f"{result['payload_bytes']} | {result['truncated']} |")
            except Exception as exc:  # noqa: BLE001 - a library failing on a file is a result
                print(f"| {name} | {lib} | error: {type(exc).__name__}: {exc} | | | | |")


if __name__ == "__main__":
    main()
