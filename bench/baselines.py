"""Baseline MinHash + LSH deduplicators for the throughput benchmark.

Every baseline takes a list of texts and returns a ``RunResult``:
``(seconds, pairs, stages)`` where ``pairs`` is the set of candidate duplicate
pairs ``(i, j)``, ``i < j`` (documents sharing at least one LSH band, as
returned by querying each document before inserting it) and ``stages`` the
time spent in shingling, hashing and LSH.

Shingling is the same for all baselines: ``words = text.lower().split()``
(lowercase, split on white space; punctuation stays attached to words), and
the shingles are the distinct word k-grams joined by single spaces. A text of
1..k-1 words has one shingle of all its words, an empty text none; this matches
newsfold's convention (pipeline/signatures.py). newsfold splits on non-word
characters instead, so on text with punctuation the two shingle sets differ;
the benchmark's synthetic texts are lowercase words separated by single
spaces, where both tokenisations give the same words.

Banding is datasketch's optimum for (threshold, num_perm): 9 bands x 13 rows
for 0.8 and 128.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

from datasketch import MinHash, MinHashLSH

Pair = tuple[int, int]


class RunResult(NamedTuple):
    seconds: float
    pairs: set[Pair]
    stages: dict[str, float]  # "shingle", "hash", "lsh" -> seconds


def shingle_strings(text: str, k: int = 5) -> set[str]:
    words = text.lower().split()
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def _datasketch(texts: Sequence[str], num_perm: int, threshold: float, shingle: int,
                update: Callable[[MinHash, set[str]], None], hashfunc=None) -> RunResult:
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    # Copying one template reuses its permutation parameters instead of drawing
    # them again for every document, as MinHash.bulk/generator do: 7 us per
    # document instead of ~100 us for a fresh MinHash(num_perm).
    kwargs = {"hashfunc": hashfunc} if hashfunc else {}
    template = MinHash(num_perm=num_perm, **kwargs)

    def sketch(sh: set[str]) -> MinHash:
        m = template.copy()
        if sh:  # update_batch([]) fails on an empty reduction
            update(m, sh)
        return m

    return _index_loop(texts, shingle, sketch, lsh)


def _index_loop(texts: Sequence[str], shingle: int, sketch: Callable[[set[str]], object], lsh) -> RunResult:
    """The plain streaming dedup loop: shingle, sketch, query the LSH index, insert.

    `lsh` is any index with query(sketch) -> keys and insert(key, sketch)
    (datasketch's MinHashLSH and rensa's RMinHashLSH both are); each stage is timed.
    """
    pairs: set[Pair] = set()
    t_sh = t_hash = t_lsh = 0.0
    start = time.perf_counter()
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        sh = shingle_strings(text, shingle)
        t1 = time.perf_counter()
        m = sketch(sh)
        t2 = time.perf_counter()
        pairs.update((j, i) for j in lsh.query(m))
        lsh.insert(i, m)
        t3 = time.perf_counter()
        t_sh += t1 - t0
        t_hash += t2 - t1
        t_lsh += t3 - t2
    return RunResult(time.perf_counter() - start, pairs, {"shingle": t_sh, "hash": t_hash, "lsh": t_lsh})


def _update_batch(m: MinHash, shingles: set[str]) -> None:
    m.update_batch([s.encode() for s in shingles])


def _per_shingle(m: MinHash, shingles: set[str]) -> None:
    for s in shingles:
        m.update(s.encode())


def datasketch_update_batch(texts: Sequence[str], num_perm: int = 128, threshold: float = 0.8,
                            shingle: int = 5) -> RunResult:
    """datasketch at its best in plain use: update_batch per document (default SHA-1 hash)."""
    return _datasketch(texts, num_perm, threshold, shingle, _update_batch)


def datasketch_update_batch_xxhash(texts: Sequence[str], num_perm: int = 128, threshold: float = 0.8,
                                   shingle: int = 5) -> RunResult:
    """As datasketch_update_batch, with xxh32 as datasketch's ``hashfunc`` instead of SHA-1.

    Not a different algorithm, just the cheapest 32-bit hash datasketch can be
    given; it shows how much of datasketch's time is SHA-1.
    """
    import xxhash

    return _datasketch(texts, num_perm, threshold, shingle, _update_batch, hashfunc=xxhash.xxh32_intdigest)


def datasketch_per_shingle_update(texts: Sequence[str], num_perm: int = 128, threshold: float = 0.8,
                                  shingle: int = 5) -> RunResult:
    """datasketch with MinHash.update() once per shingle (the common tutorial pattern)."""
    return _datasketch(texts, num_perm, threshold, shingle, _per_shingle)


def rensa_minhash(texts: Sequence[str], num_perm: int = 128, threshold: float = 0.8,
                  shingle: int = 5, seed: int = 1) -> RunResult:
    """rensa's RMinHash + RMinHashLSH on the same shingle strings.

    RMinHashLSH(threshold, num_perm, num_bands) uses rows = num_perm / num_bands
    and rejects a num_perm not divisible by num_bands, so 128 permutations
    cannot be cut into datasketch's 9 x 13 bands. datasketch itself only looks
    at the first 9 x 13 = 117 values, so we give rensa 117 permutations and
    9 bands: the same banding, with rensa's own sketch and index.
    """
    from datasketch.lsh import _optimal_param
    from rensa import RMinHash, RMinHashLSH

    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    perms = bands * rows
    lsh = RMinHashLSH(threshold, perms, bands)

    def sketch(sh: set[str]) -> RMinHash:
        m = RMinHash(perms, seed)
        m.update(list(sh))
        return m

    return _index_loop(texts, shingle, sketch, lsh)
