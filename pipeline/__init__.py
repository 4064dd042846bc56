"""newsfold's pure batch stages and the warehouse (no Prefect here; see README, "How the code is laid out")."""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a block of imports that build many
    long-lived objects (Prefect's pydantic models, the stages' tables): it would keep walking
    them (~0.2 CPU s of Prefect's ~1.6). They live as long as the process, so they are frozen
    (out of the collector's view) after. Used by the CLI and the worker processes."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
