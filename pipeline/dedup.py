"""Dedup stage: fingerprint clean texts, find candidates with LSH, verify them,
and cluster documents into articles.

How a document finds its article
1. Exact: the same clean-text hash as an earlier document -> `exact_duplicate`.
2. Candidates: documents sharing at least one LSH band with it (in this drop,
   or in the warehouse's persistent band index). Each candidate stands for its
   article.
3. Verification against the article's *canonical* copy only, from MinHash
   signatures: estimated Jaccard J and containment (see `compare`). J >= jaccard_threshold ->
   `near_duplicate`; the document's shingles contained in the canonical >=
   containment_threshold -> `contained` (a truncated teaser of the article).
4. Otherwise it starts a new article and is its canonical copy.

Content many unrelated documents share decides nothing (see `common_minima`):
a site's headline list, ticker or footer, or a wire service's copyright line,
that cleaning left in place. Each signature position holds the minimum hash of
one shingle; a (position, minimum) that the signatures of at least `common_df`
different stories carry -- counted over the drop and the warehouse, with the
near-identical copies of one story counted once -- is common, and verification
ignores the positions whose minimum is common (SpotSigs, Theobald et al. SIGIR
2008; IDF-weighted shingling of syndicated news, Alonso, Fetterly and Manasse,
MSR-TR-2013-60). What is left estimates the similarity of the two documents'
distinctive content.

Copies as news people mean them: a shorter version of a story (trimmed, a
teaser, under another headline, a caption or dateline in front) is `contained`
in the longer one, and a later, longer version that holds the earlier one is
the same article and takes over as its canonical copy.

Clustering is a star around each canonical copy: a document joins only if it
matches the canonical directly, so A~B and B~C never pulls in an unrelated C
(no chaining). Documents are visited most complete first (most shingles, then
most metadata, then the clean text's hash, then doc_id), so within a drop the
canonical is the most complete copy, and which of two equally complete copies
is visited first does not depend on where the files lie (a doc_id hashes the
path). A later, more complete copy that contains the current canonical takes
over the article (the article_id stays); see `switch_ratio`.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import schema, signatures
from .config import DedupParams  # its home is the config's dedup section


def clean_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id_for(clean_hash: str) -> str:
    """Issued once from the first canonical copy's clean text; reproducible."""
    return "a_" + clean_hash[:16]


# Where a new sentence (or a story behind a caption) starts: after . ! ? (and closing quotes),
# or after a closing parenthesis (a photo credit such as "(Joe Giddens/PA)"), before a capital
# letter or an opening quote (not a parenthesis: another credit); or at a line break.
# Readable: (?:[.!?]["'”’)\]]*|\))[ \t]+(?=["“‘']?[A-ZÀ-ÖØ-ÞА-ЯЁ])|\n+ . Spelt below with the class of
# its first character in front and each branch checking that character behind it (the same
# matches; tests/test_dedup.py): a pattern that starts with a class lets `re` skip to the
# candidates in C, one that starts with a group is tried at every character (2-3x slower).
_CAPITAL_NEXT = "(?=[\"“‘']?[A-ZÀ-ÖØ-ÞА-ЯЁ])"
_SENTENCE_BREAK = re.compile(r"[.!?)\n](?:(?<=[.!?])[\"'”’)\]]*[ \t]+" + _CAPITAL_NEXT
                             + r"|(?<=\))[ \t]+" + _CAPITAL_NEXT + r"|(?<=\n)\n*)")
_WORD = re.compile(r"\w+")


def sentence_starts(text: str, n: int, reach: int) -> list[int]:
    """Word index of the first `n` sentence starts after the first, within `reach` characters."""
    if n <= 0:
        return []
    head = text[:reach]
    found: list[int] = []
    # Words are counted a stretch at a time between cuts, and only up to the n-th start:
    # listing every word of the head first (a match object each) cost ~75 µs a document, this
    # ~12. A cut always follows a space, tab or newline, so no word straddles one and
    # the words of head[:cut] are the words that start before it.
    words, counted_to = 0, 0
    for m in _SENTENCE_BREAK.finditer(head):
        cut = m.end()
        words += len(_WORD.findall(head, counted_to, cut))
        counted_to = cut
        if words > (found[-1] if found else 0):
            if _WORD.search(head, cut) is None:  # no word after it: nor after any later cut
                break
            found.append(words)
            if len(found) == n:
                break
    return found


def band_ids(params: DedupParams) -> np.ndarray:
    """The LSH band id of each column of the band matrix: the main bands, then the lead bands
    once per window (window-major), the windows sharing ids."""
    return np.concatenate([np.arange(params.bands),
                           params.bands + np.tile(np.arange(params.lead_bands), params.lead_windows)]
                          ).astype(np.int16)


def fingerprint(texts: list[str], params: DedupParams,
                folded_texts: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_shingles, signatures uint32 [n, num_perm], band hashes uint64 [n, bands + lead_bands * lead_windows]).

    n_shingles counts distinct shingles: the set size that containment needs. folded_texts:
    text.fold of each text, if the caller has it (the lead windows look for capitals in texts).
    """
    if folded_texts is None:
        flat, offsets = signatures.shingle_hashes_batch(texts, params.shingle_size)  # folded there (text.fold)
    else:
        flat, offsets = signatures.shingle_hashes_batch(folded_texts, params.shingle_size, folded=True)
    sizes = np.array([len(signatures.sorted_unique(flat[offsets[i]:offsets[i + 1]])) for i in range(len(texts))],
                     dtype=np.int32)
    sigs = signatures.minhash_signatures_flat(flat, offsets, num_perm=params.num_perm, seed=params.seed)
    bands = signatures.lsh_band_hashes(sigs, params.bands, params.rows)
    if params.lead_bands:
        n, w = len(texts), params.lead_windows
        n_shingles = np.diff(offsets)
        # window start (in shingles) per document and window; a missing window repeats the first
        start = np.zeros((n, w), dtype=np.int64)
        if w > 1:
            for i, t in enumerate(texts):
                found = [k for k in sentence_starts(t, w - 1, params.lead_reach) if k < n_shingles[i]]
                start[i, 1:1 + len(found)] = found
        counts = np.minimum(n_shingles[:, None] - start, params.lead_shingles).reshape(-1)
        lead_offsets = np.concatenate(([0], np.cumsum(counts)))
        first = (offsets[:-1, None] + start).reshape(-1)
        take = np.repeat(first, counts) + (np.arange(lead_offsets[-1]) - np.repeat(lead_offsets[:-1], counts))
        lead_sigs = signatures.minhash_signatures_flat(flat[take], lead_offsets, params.lead_bands * params.lead_rows,
                                                       seed=params.seed + 1)
        lead = signatures.lsh_band_hashes(lead_sigs, params.lead_bands, params.lead_rows)
        bands = np.hstack([bands, lead.reshape(n, w * params.lead_bands)])
    return sizes, sigs, bands


def candidate_pairs(bands: np.ndarray, params: DedupParams) -> np.ndarray:
    """In-drop LSH candidates: int64 (m, 2), i < j, unique. The main bands as in
    signatures.candidate_pairs; each lead band over all of a document's windows at once, so
    any window of one document may meet any window of another."""
    n = bands.shape[0]
    main = signatures.candidate_pairs(bands[:, :params.bands])
    if not params.lead_bands or n < 2:
        return main
    found = [main[:, 0] * n + main[:, 1]]
    lead = bands[:, params.bands:].reshape(n, params.lead_windows, params.lead_bands)
    doc = np.repeat(np.arange(n, dtype=np.int64), params.lead_windows)
    for b in range(params.lead_bands):
        col = lead[:, :, b].reshape(-1)
        order = np.lexsort((doc, col))
        col_s, doc_s = col[order], doc[order]
        first = np.concatenate(([True], (col_s[1:] != col_s[:-1]) | (doc_s[1:] != doc_s[:-1])))
        col_s, doc_s = col_s[first], doc_s[first]   # a document once per bucket
        rows = signatures.candidate_pairs(col_s[:, None])
        i, j = doc_s[rows[:, 0]], doc_s[rows[:, 1]]
        found.append(np.minimum(i, j) * n + np.maximum(i, j))
    codes = signatures.sorted_unique(np.concatenate(found))
    return np.stack((codes // n, codes % n), axis=1).astype(np.int64)


def band_matrix(column: pa.ChunkedArray | pa.Array, params: DedupParams) -> np.ndarray:
    """A list<uint64> column of band hashes as a (n_docs, n_bands) matrix."""
    width = params.bands + params.lead_bands * params.lead_windows
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    # chunk by chunk: combining the chunks first would copy the column once more (~0.4 GB at a
    # million documents) before the copy into the matrix
    parts = [np.asarray(c.flatten(), dtype=np.uint64) for c in chunks if len(c)]
    flat = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    return flat.reshape(-1, width)


def sig_to_bytes(sig: np.ndarray) -> bytes:
    return np.ascontiguousarray(sig, dtype="<u4").tobytes()


def sig_from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4")


def sig_matrix(column: pa.ChunkedArray | pa.Array, num_perm: int) -> np.ndarray:
    """A binary column of signatures as a (n_docs, num_perm) uint32 matrix.

    One array instead of a million small ones: at a million documents that is
    0.5 GB instead of 1.2 GB of Python objects. Read chunk by chunk, so the column is
    copied once, into the matrix.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [_fixed_width_view(c, num_perm) for c in chunks if len(c)]
    if not parts:
        return np.empty((0, num_perm), dtype="<u4")
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _fixed_width_view(chunk: pa.Array, num_perm: int) -> np.ndarray:
    chunk = chunk.cast(pa.binary(num_perm * 4))  # fixed width: its values are one contiguous buffer
    return np.frombuffer(chunk.buffers()[1], dtype="<u4", count=len(chunk) * num_perm,
                         offset=chunk.offset * num_perm * 4).reshape(len(chunk), num_perm)


# A text of fewer distinct shingles than this (about four sentences) is too short to fold by
# containment alone: what cleaning left of a page may be a sliver of its site's chrome (the
# site's blurb, a footer), and such a sliver sits inside every sibling page that kept it. It
# still folds as an exact or near duplicate. The shortest real copy contained in its story on
# the real sets has 86 shingles (toloka_pairs), generated teasers 100 or more.
MIN_CONTAINED_SHINGLES = 75


def estimated_size(sig: np.ndarray) -> float:
    """Distinct shingles of a document, estimated from its own signature: each of the k
    minima is the smallest of n uniform 32-bit values, about 2**32 / (n + 1), so
    n ~ (k - 1) / sum(minimum / 2**32) (about +-9 % at k = 128). compare() has the
    signatures only; the sizes stay with the caller."""
    total = float(np.sum(sig, dtype=np.float64)) / 2.0 ** 32
    return (len(sig) - 1) / total if total else float("inf")


def compare(sig_a: np.ndarray, sig_b: np.ndarray, common_a: np.ndarray | None = None,
            common_b: np.ndarray | None = None, min_informative: int = 1) -> tuple[float, float, float]:
    """(Jaccard, share of A in B, share of B in A), all estimated from the two signatures.

    Containment from the minima themselves rather than from J and the set sizes: in a
    permutation where A's minimum is the smaller (the minimum of A∪B lies in A), the two
    minima are equal exactly when that element is in B too, so
    |A∩B|/|A| = P(min A = min B | min A <= min B). A teaser wholly inside its article
    scores 1.0 exactly, where J(|A|+|B|)/(1+J) wanders by +-0.1 for a teaser a fifth of
    the article's size, and often falls under the threshold.

    common_a / common_b (bool [num_perm]): positions whose minimum is common content
    (`common_minima`). The minimum of A∪B is a uniform sample of A∪B; conditioned on not
    being common it is a uniform sample of the distinctive content, so the same estimates
    over the other positions are those of the two documents' distinctive content. With
    fewer than `min_informative` such positions the pair is all common content: 0, 0, 0.

    The containment of a text shorter than MIN_CONTAINED_SHINGLES (estimated_size) is 0:
    such a text is too short to fold by containment alone.
    """
    a_le = sig_a <= sig_b
    b_le = sig_b <= sig_a
    equal = sig_a == sig_b
    if common_a is not None:
        a_le = a_le & ~common_a
        b_le = b_le & ~common_b
        informative = a_le | b_le  # the smaller minimum is not common
        if int(np.count_nonzero(informative)) < min_informative:
            return 0.0, 0.0, 0.0
        equal = equal & informative
        n = int(np.count_nonzero(informative))
    else:
        n = len(sig_a)
    shared = int(np.count_nonzero(equal))
    a_first = int(np.count_nonzero(a_le))
    b_first = int(np.count_nonzero(b_le))
    a_in_b = shared / a_first if a_first and estimated_size(sig_a) >= MIN_CONTAINED_SHINGLES else 0.0
    b_in_a = shared / b_first if b_first and estimated_size(sig_b) >= MIN_CONTAINED_SHINGLES else 0.0
    return shared / n, a_in_b, b_in_a


# --- common content ----------------------------------------------------------------------

# A minima key (minima_df) is a signature position and the 32-bit minimum found there, in
# one uint64: position << 32 | minimum.
_KEY_SHIFT = np.uint64(32)
_KEY_VALUE = np.uint64(0xFFFFFFFF)


def minima_keys(sigs: np.ndarray, first: int = 0) -> np.ndarray:
    """uint64 [n, k]: one key per signature value; `first`: the position of the first
    column (sigs may be a run of a signature's positions)."""
    return position_keys(np.arange(first, first + np.shape(sigs)[1], dtype=np.uint64), sigs)


def position_keys(position, values) -> np.ndarray:
    """The keys of `values` (minima) found at `position` (an int, or one per column)."""
    return (np.asarray(position, dtype=np.uint64) << _KEY_SHIFT) | np.asarray(values, dtype=np.uint64)


def key_values(keys: np.ndarray) -> np.ndarray:
    """The minima of keys, as uint64."""
    return keys & _KEY_VALUE


# Per-position work over a drop's minima holds the keys of a few positions at a time: all
# n x num_perm keys at once are a gigabyte at a million documents, and sorting them (unique,
# isin) several more.
POSITION_CHUNK_KEYS = 4_000_000


def position_chunks(n_docs: int, num_perm: int) -> list[range]:
    """Signature positions in runs of about POSITION_CHUNK_KEYS (document, position) keys."""
    step = max(1, min(num_perm, POSITION_CHUNK_KEYS // max(n_docs, 1)))
    return [range(p, min(p + step, num_perm)) for p in range(0, num_perm, step)]


def story_families(sigs: np.ndarray, sizes: list[int] | np.ndarray, hashes: list[str], pairs: np.ndarray,
                   params: DedupParams) -> np.ndarray:
    """int64 [n]: a family id per document; the near-identical copies of one story share it.

    Document frequency must count a story once, however many sites carry it. Documents are
    visited largest first and each joins the family of the largest larger candidate that it
    nearly equals (plain Jaccard >= family_jaccard) or that holds it (>= family_containment),
    else founds its own: a forest, each document with one parent, so a story's copies that
    are close to each other but not to its largest version (an edited copy of the original
    that an update holds) stay in its family, while a short page that sits inside many pages
    (a page that is only a site's footer or headline list) joins one of them and cannot
    chain them into one family.
    """
    n = len(sizes)
    family = np.arange(n, dtype=np.int64)
    first_of_hash: dict[str, int] = {}
    for i, h in enumerate(hashes):  # exact copies
        family[i] = first_of_hash.setdefault(h, i)
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        close = np.zeros(len(pairs), dtype=bool)
        for start in range(0, len(pairs), 200_000):  # bounded memory: 200,000 x num_perm booleans
            a, b = sigs[i[start:start + 200_000]], sigs[j[start:start + 200_000]]
            equal = (a == b).sum(axis=1)
            jac = equal / a.shape[1]
            a_in_b = equal / np.maximum((a <= b).sum(axis=1), 1)
            b_in_a = equal / np.maximum((b <= a).sum(axis=1), 1)
            size = np.asarray(sizes)
            small_in_large = np.where(size[i[start:start + 200_000]] <= size[j[start:start + 200_000]], a_in_b, b_in_a)
            close[start:start + 200_000] = (jac >= params.family_jaccard) | (small_in_large >= params.family_containment)
        neighbours: dict[int, list[int]] = {}
        for x, y in pairs[close].tolist():
            neighbours.setdefault(x, []).append(y)
            neighbours.setdefault(y, []).append(x)
        order = sorted(range(n), key=lambda k: (-sizes[k], k))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        for k in order:
            if family[k] != k:      # an exact copy: its family is its first twin's
                family[k] = family[family[k]]
                continue
            larger = [m for m in neighbours.get(k, ()) if rank[m] < rank[k]]
            if larger:
                family[k] = family[min(larger, key=lambda m: rank[m])]
    else:
        family = family[family]
    return family


def position_counts(values: np.ndarray, family: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique minima, how many story families carry each) of one signature position."""
    if not len(values):
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    # the value is 32 bits, the family id fits beside it: one sort finds each family's values
    per_family = signatures.sorted_unique((family.astype(np.uint64) << _KEY_SHIFT) | values.astype(np.uint64))
    found, counts = np.unique(per_family & _KEY_VALUE, return_counts=True)
    return found, counts.astype(np.int64)


class KnownMinima:
    """The warehouse's story counts of some minima keys (its minima_df), sorted by key, read
    one signature position at a time."""

    def __init__(self, keys: np.ndarray | None = None, counts: np.ndarray | None = None):
        keys = np.empty(0, dtype=np.uint64) if keys is None else np.asarray(keys, dtype=np.uint64)
        counts = np.empty(0, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self.keys, self.counts = keys[order], counts[order]

    def at(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(minima, counts) the warehouse holds at one position, sorted by minimum."""
        lo, hi = np.searchsorted(self.keys, position_keys([position, position + 1], 0))
        return key_values(self.keys[lo:hi]), self.counts[lo:hi]

    def add_to(self, position: int, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """counts plus the warehouse's count of each of `values` (sorted) at `position`."""
        known, known_counts = self.at(position)
        total = counts.copy()
        if len(known) and len(values):
            pos = np.clip(np.searchsorted(known, values), 0, len(known) - 1)
            hit = known[pos] == values
            total[hit] += known_counts[pos[hit]]
        return total


def look_up_minima(sig_sets: list[np.ndarray], counts_of) -> KnownMinima:
    """The warehouse's counts (counts_of: keys -> (keys, counts), e.g. Warehouse.minima_counts)
    of every key that the signatures of `sig_sets` (uint32 [n, num_perm] each) carry, asked a
    few positions at a time."""
    n = sum(len(s) for s in sig_sets)
    num_perm = next((s.shape[1] for s in sig_sets if s.ndim == 2 and s.shape[1]), 0)
    found_keys, found_counts = [], []
    for chunk in position_chunks(n, num_perm):
        keys = signatures.sorted_unique(np.concatenate([minima_keys(s[:, chunk.start:chunk.stop], chunk.start).reshape(-1)
                                         for s in sig_sets]))
        if len(keys):
            k, c = counts_of(keys)
            found_keys.append(np.asarray(k, dtype=np.uint64))
            found_counts.append(np.asarray(c, dtype=np.int64))
    if not found_keys:
        return KnownMinima()
    return KnownMinima(np.concatenate(found_keys), np.concatenate(found_counts))


def common_minima(sigs: np.ndarray, family: np.ndarray, known: KnownMinima | None,
                  params: DedupParams) -> np.ndarray:
    """The sorted keys (position, minimum) that at least `common_df` stories carry, in this
    drop (sigs, family: story_families) and the warehouse together."""
    if not params.common_df:
        return np.empty(0, dtype=np.uint64)
    known = known or KnownMinima()
    found = []
    for p in range(sigs.shape[1]):
        values, counts = position_counts(sigs[:, p], family)
        known_values, known_counts = known.at(p)
        if len(known_values):
            values, inverse = np.unique(np.concatenate([values, known_values]), return_inverse=True)
            counts = np.bincount(inverse, weights=np.concatenate([counts, known_counts])).astype(np.int64)
        found.append(position_keys(p, values[counts >= params.common_df]))
    return np.concatenate(found) if found else np.empty(0, dtype=np.uint64)


def is_common(sigs: np.ndarray, common: np.ndarray) -> np.ndarray:
    """bool [n, num_perm]: which signature values are common keys (one position at a time)."""
    sigs = np.atleast_2d(sigs)
    found = np.zeros(sigs.shape, dtype=bool)
    if not len(common):
        return found
    position = (common >> _KEY_SHIFT).astype(np.int64)
    bounds = np.searchsorted(position, np.arange(sigs.shape[1] + 1))
    for p in np.flatnonzero(np.diff(bounds)):
        values = key_values(common[bounds[p]:bounds[p + 1]]).astype(np.uint32)
        found[:, p] = np.isin(sigs[:, p], values)
    return found


def url_key_is_specific(key: str | None) -> bool:
    """A canonical URL names one article only if it has a path or a query (`site?p=123`):
    many sites declare their home page as every page's og:url, and such a key would fold a
    whole site."""
    return bool(key) and ("/" in key.strip("/") or "?" in key)


def same_url_match(doc_url: str | None, article_urls: Collection[str], from_warehouse: bool, j: float,
                   params: DedupParams) -> bool:
    """The canonical URL signal: the document shares a specific canonical URL with a copy of
    the article (in this drop: `article_urls`; in the warehouse: `from_warehouse`, found by
    Warehouse.url_matches) and their texts are at least url_jaccard_threshold alike."""
    same = from_warehouse or (url_key_is_specific(doc_url) and doc_url in article_urls)
    return same and j >= params.url_jaccard_threshold


def same_url_pairs(url_keys: list[str | None]) -> list[tuple[int, int]]:
    """In-drop candidate pairs: documents with the same specific canonical URL (each paired
    with the first one of its URL)."""
    first: dict[str, int] = {}
    pairs = []
    for i, key in enumerate(url_keys):
        if url_key_is_specific(key):
            if key in first:
                pairs.append((first[key], i))
            else:
                first[key] = i
    return pairs


@dataclass(slots=True)  # slots: a million-document drop holds ~700,000 of them
class _Article:
    article_id: str
    canonical: str            # doc_id of the canonical copy
    n_shingles: int
    signature: np.ndarray
    existing: bool            # already in the warehouse
    urls: set[str] | None = None      # canonical URLs of its copies in this drop (None: none yet)
    common: np.ndarray | None = None  # which positions of the signature are common content


@dataclass
class Switch:
    article_id: str
    old_doc_id: str
    new_doc_id: str
    similarity: float
    containment: float  # share of the old canonical found in the new one


@dataclass
class Assignment:
    provenance: pa.Table      # rows for new documents
    new_articles: dict[str, str]      # article_id -> canonical doc_id (new articles)
    # old canonical copies that a more complete copy took over: their provenance rows change
    switches: list[Switch]


@dataclass
class DropMinima:
    """What counting a drop's signature minima needs, computed once per drop."""
    sigs: np.ndarray        # uint32 [n, num_perm]: the drop's signatures (sig_matrix), shared by every step
    family: np.ndarray      # family id per document (story_families)
    pairs: np.ndarray       # the in-drop LSH candidate pairs (computed once, reused by assign)


def drop_minima(docs: pa.Table, params: DedupParams, sigs: np.ndarray | None = None,
                bands: np.ndarray | None = None) -> DropMinima:
    """A drop's signatures, story families and in-drop candidates: copies of one story count
    once in the document frequency of its minima (common_minima, minima_to_keep). sigs and
    bands: the matrices of docs' minhash and bands columns, if the caller read them already."""
    sigs = sig_matrix(docs.column("minhash"), params.num_perm) if sigs is None else sigs
    bands = band_matrix(docs.column("bands"), params) if bands is None else bands
    pairs = candidate_pairs(bands, params)
    family = story_families(sigs, docs.column("n_shingles").to_pylist(), docs.column("clean_sha256").to_pylist(),
                            pairs, params)
    return DropMinima(sigs, family, pairs)


def minima_to_keep(minima: DropMinima, known: KnownMinima | None,
                   from_warehouse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) of this drop for the warehouse's minima_df: the families none of whose
    documents joined an article the warehouse already had (that story is counted already),
    and only keys that two stories carry, counting the warehouse's."""
    keep = ~np.isin(minima.family, signatures.sorted_unique(minima.family[from_warehouse]))
    if not keep.any():
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    known = known or KnownMinima()
    family = minima.family[keep]
    keys, counts = [], []
    for p in range(minima.sigs.shape[1]):
        values, found = position_counts(minima.sigs[:, p][keep], family)
        shared = known.add_to(p, values, found) >= 2
        keys.append(position_keys(p, values[shared]))
        counts.append(found[shared])
    return np.concatenate(keys), np.concatenate(counts)


@dataclass
class Match:
    """A verified candidate: the article a document would join, and how."""

    article: _Article
    verdict: str             # schema.CONTAINED | schema.NEAR_DUPLICATE | schema.TAKES_OVER
    similarity: float        # estimated Jaccard with the article's canonical copy
    containment: float       # share of the document found in the canonical
    canonical_in_doc: float  # share of the canonical found in the document

    @property
    def rank(self) -> tuple[float, float]:
        """The best match has the highest similarity, then containment."""
        return self.similarity, self.containment


def verdict(params: DedupParams, article: _Article, doc_size: int, j: float, doc_in_canon: float,
            canon_in_doc: float, same_url: bool) -> str | None:
    """How a document relates to an article's canonical copy; None: not a copy of it."""
    if (article.existing and canon_in_doc >= params.containment_threshold
            and doc_size >= params.switch_ratio * article.n_shingles):
        return schema.TAKES_OVER  # a later, longer version that holds the canonical
    if doc_in_canon >= params.containment_threshold and (
            j < params.jaccard_threshold or params.switch_ratio * doc_size <= article.n_shingles):
        return schema.CONTAINED  # a shorter version: trimmed, a teaser, an earlier version
    if j >= params.jaccard_threshold or same_url:
        return schema.NEAR_DUPLICATE
    return None


class Clusterer:
    """Star clustering of one drop's accepted documents (see the module docstring).

    `place(i)` puts document i (visited most complete first) into an article: an exact
    duplicate of a text seen before, the best verified match among its candidate articles,
    or a new article of its own. The articles grow as documents are placed; `assignment()`
    is the result.
    """

    def __init__(self, docs: pa.Table, params: DedupParams, drop_id: int, articles: dict[str, _Article],
                 common: np.ndarray | None, exact: dict[str, tuple[str, str]], sigs: np.ndarray):
        """articles: the warehouse's candidate articles; common: the common minima keys (None: off);
        sigs: the documents' signatures (sig_matrix)."""
        self.params, self.drop_id, self.articles = params, drop_id, articles
        self.ids = docs.column("doc_id").to_pylist()
        self.hashes = docs.column("clean_sha256").to_pylist()
        self.sizes = docs.column("n_shingles").to_pylist()
        self.meta = docs.column("n_metadata").to_pylist()
        self.urls = (docs.column("canonical_url").to_pylist() if "canonical_url" in docs.column_names
                     else [None] * len(self.ids))
        self.sigs = sigs
        self.doc_common = is_common(self.sigs, common) if common is not None else None
        self.article_of: dict[int, str] = {}
        self.seen_hash: dict[str, tuple[str, str]] = dict(exact)
        # the provenance rows as columns: a million row dicts were ~0.6 GB
        self.rows: dict[str, list] = {f.name: [] for f in schema.TABLES["provenance"]}
        self.new_articles: dict[str, str] = {}
        self.switches: list[Switch] = []

    def order(self) -> list[int]:
        """Most complete first: most shingles, then most metadata, then clean_sha256, then doc_id.

        Ties between equally complete texts are broken by their hash, not their doc_id: a
        doc_id hashes the file's path, so the same files ingested from another folder were
        visited in another order, and which of two near-identical copies became canonical
        (and so which teasers it contains) changed the folding (73,852 vs 73,851 articles on
        the 100,000 generated files). doc_id still orders copies of one text."""
        return sorted(range(len(self.ids)),
                      key=lambda i: (-self.sizes[i], -self.meta[i], self.hashes[i], self.ids[i]))

    def place(self, i: int, candidates: set[str], url_matches: set[str]) -> None:
        """candidates: article ids sharing a band or a URL with document i (url_matches: the
        warehouse's articles sharing its canonical URL)."""
        if self.hashes[i] in self.seen_hash:
            matched, art = self.seen_hash[self.hashes[i]]
            self.article_of[i] = art
            self._row(i, art, schema.EXACT_DUPLICATE, 1.0, 1.0, matched)
            return
        match = self.best_match(i, candidates, url_matches)
        if match is None:
            self._start_article(i)
        else:
            self._join(i, match)

    def best_match(self, i: int, candidates: set[str], url_matches: set[str]) -> Match | None:
        best = None
        mine = self._common(i)
        for art_id in sorted(candidates):
            art = self.articles[art_id]
            j, doc_in_canon, canon_in_doc = compare(self.sigs[i], art.signature, mine, art.common,
                                                    self.params.min_informative)
            same_url = same_url_match(self.urls[i], art.urls or (), art_id in url_matches, j, self.params)
            found = verdict(self.params, art, self.sizes[i], j, doc_in_canon, canon_in_doc, same_url)
            if found is not None and (best is None or (j, doc_in_canon) > best.rank):
                best = Match(art, found, j, doc_in_canon, canon_in_doc)
        return best

    def _start_article(self, i: int) -> None:
        art_id = article_id_for(self.hashes[i])
        self.articles[art_id] = _Article(art_id, self.ids[i], self.sizes[i], self.sigs[i], existing=False,
                                         common=self._common(i), urls={self.urls[i]} if self.urls[i] else None)
        self.new_articles[art_id] = self.ids[i]
        self.article_of[i] = art_id
        self.seen_hash[self.hashes[i]] = (self.ids[i], art_id)
        self._row(i, art_id, schema.CANONICAL, 1.0, 1.0, self.ids[i])

    def _join(self, i: int, match: Match) -> None:
        art = match.article
        self.article_of[i] = art.article_id
        self.seen_hash[self.hashes[i]] = (self.ids[i], art.article_id)
        if self.urls[i]:
            if art.urls is None:
                art.urls = set()
            art.urls.add(self.urls[i])
        if match.verdict == schema.TAKES_OVER:
            self.switches.append(Switch(art.article_id, art.canonical, self.ids[i], round(match.similarity, 4),
                                        round(match.canonical_in_doc, 4)))
            art.canonical, art.n_shingles, art.signature = self.ids[i], self.sizes[i], self.sigs[i]
            art.common = self._common(i)
            self._row(i, art.article_id, schema.CANONICAL, 1.0, 1.0, self.ids[i])
        else:
            self._row(i, art.article_id, match.verdict, match.similarity, match.containment, art.canonical)

    def _common(self, i: int) -> np.ndarray | None:
        return self.doc_common[i] if self.doc_common is not None else None

    def _row(self, i: int, art: str, relation: str, sim: float, cont: float, matched: str) -> None:
        for name, value in (("doc_id", self.ids[i]), ("article_id", art), ("drop_id", self.drop_id),
                            ("relation", relation), ("similarity", round(sim, 4)),
                            ("containment", round(cont, 4)), ("matched_doc_id", matched)):
            self.rows[name].append(value)

    def assignment(self) -> Assignment:
        return Assignment(pa.Table.from_pydict(self.rows, schema=schema.TABLES["provenance"]), self.new_articles,
                          self.switches)


def _warehouse_articles(table: pa.Table | None, params: DedupParams, common: np.ndarray) -> dict[str, _Article]:
    """The warehouse's candidate articles (article_id, canonical_doc_id, n_shingles, minhash)."""
    articles: dict[str, _Article] = {}
    if table is None or not table.num_rows:
        return articles
    sigs = sig_matrix(table.column("minhash"), params.num_perm)
    wh_common = is_common(sigs, common) if params.common_df else None
    for k, row in enumerate(table.select(["article_id", "canonical_doc_id", "n_shingles"]).to_pylist()):
        articles[row["article_id"]] = _Article(row["article_id"], row["canonical_doc_id"], row["n_shingles"],
                                               sigs[k], existing=True,
                                               common=wh_common[k] if wh_common is not None else None)
    return articles


def _pairs_by_query(table: pa.Table | None) -> dict[str, set[str]]:
    """query doc_id -> article ids, from (query, article_id) rows."""
    found: dict[str, set[str]] = {}
    if table is not None:
        for q, a in zip(table.column("query").to_pylist(), table.column("article_id").to_pylist()):
            found.setdefault(q, set()).add(a)
    return found


def _neighbours(pairs: list[tuple[int, int]]) -> dict[int, set[int]]:
    """In-drop candidates: index -> the other indices it shares a band or a URL with."""
    found: dict[int, set[int]] = {}
    for i, j in pairs:
        found.setdefault(i, set()).add(j)
        found.setdefault(j, set()).add(i)
    return found


def assign(docs: pa.Table, params: DedupParams, *, drop_id: int,
           exact: dict[str, tuple[str, str]] | None = None,
           warehouse_candidates: pa.Table | None = None,
           warehouse_articles: pa.Table | None = None,
           warehouse_url_candidates: pa.Table | None = None,
           known_minima: KnownMinima | None = None,
           minima: DropMinima | None = None) -> Assignment:
    """Cluster a drop's accepted documents into articles.

    docs: columns doc_id, clean_sha256, n_shingles, n_metadata, minhash (uint32 [num_perm] as
          bytes), bands (list<uint64>).
    exact: clean_sha256 -> (doc_id, article_id) already in the warehouse.
    warehouse_candidates: (query doc_id, article_id) pairs from the band index.
    warehouse_articles: article_id, canonical_doc_id, n_shingles, minhash of those articles.
    known_minima: the warehouse's counts of this drop's minima keys (look_up_minima).
    minima: drop_minima(docs, params), if the caller has it already.
    warehouse_url_candidates: (query doc_id, article_id) pairs sharing a canonical URL (also in
          warehouse_candidates); docs may carry a canonical_url column for the in-drop signal.
    """
    minima = minima or drop_minima(docs, params)
    common = common_minima(minima.sigs, minima.family, known_minima, params)
    clusterer = Clusterer(docs, params, drop_id, _warehouse_articles(warehouse_articles, params, common),
                          common if params.common_df else None, exact or {}, minima.sigs)
    wh_cands = _pairs_by_query(warehouse_candidates)
    wh_urls = _pairs_by_query(warehouse_url_candidates)
    drop_cands = _neighbours([*minima.pairs.tolist(), *same_url_pairs(clusterer.urls)])
    for i in clusterer.order():
        doc_id = clusterer.ids[i]
        candidates = set(wh_cands.get(doc_id, ()))
        candidates.update(clusterer.article_of[j] for j in drop_cands.get(i, ()) if j in clusterer.article_of)
        clusterer.place(i, candidates, wh_urls.get(doc_id, set()))
    return clusterer.assignment()
