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
most metadata, then doc_id), so within a drop the canonical is the most
complete copy. A later, more complete copy that contains the current canonical
takes over the article (the article_id stays); see `switch_ratio`.
"""
from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from . import schema, signatures


@dataclass(frozen=True)
class DedupParams:
    shingle_size: int = 5          # words per shingle
    num_perm: int = 128            # MinHash permutations
    bands: int = 32                # LSH bands x rows must equal num_perm
    rows: int = 4
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.8
    switch_ratio: float = 1.2      # a new copy must be this much larger to take over as canonical
    # Lead bands: a small MinHash over each document's first `lead_shingles`
    # shingles. A teaser holding the first 20-50 % of an article has a whole-text
    # Jaccard of only 0.2-0.5, which the main bands often miss, but its lead is
    # the article's lead. Candidates found this way still pass verification.
    lead_shingles: int = 40
    lead_bands: int = 4            # 0 turns lead bands off
    lead_rows: int = 4
    # A photo caption, a dateline or a kicker in front of a story shifts its lead, so lead
    # bands are taken over several windows: from the text's start and from each of its next
    # lead_windows - 1 sentence starts within the first lead_reach characters. The windows'
    # bands share band ids, so a teaser's lead finds the story's lead behind a caption.
    lead_windows: int = 4
    lead_reach: int = 1500
    seed: int = 1
    # Two documents with the same canonical URL (see readers.canonical_url) are one article
    # when their texts are at least this similar, even under jaccard_threshold: a corrected
    # or re-edited article republished at its URL. See same_url_match.
    url_jaccard_threshold: float = 0.2
    # Common content (see common_minima): a signature minimum that this many different
    # stories carry is left out of verification. 0 turns it off. On the real sets 3-8 all
    # keep a site's headline block from merging its pages; on the generated corpus, whose
    # stories have up to ten differently damaged copies, 3 costs recall (0.991 -> 0.938)
    # and 8 almost none (0.989).
    common_df: int = 8
    # A pair must keep this many signature positions whose minimum is not common, or its
    # content is all common and it proves nothing.
    min_informative: int = 12
    # Copies of one story count once in the document frequency: documents whose plain
    # signatures agree this much (or one holds the other this much) are one story.
    family_jaccard: float = 0.8
    family_containment: float = 0.9

    def __post_init__(self):
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands x rows ({self.bands} x {self.rows}) must equal num_perm ({self.num_perm})")
        if not 1 <= self.shingle_size <= 20:
            raise ValueError("shingle_size must be between 1 and 20")
        if self.lead_windows < 1:
            raise ValueError("lead_windows must be >= 1")
        if self.common_df < 0:
            raise ValueError("common_df must be >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"',
                         "–": "-", "—": "-", "‐": "-", "‑": "-",
                         # invisible: a soft hyphen or zero-width space inside a word must not split it
                         "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": ""})
_QUOTE_PAIRS = [(chr(k), v) for k, v in _QUOTES.items()]


def matching_text(text: str) -> str:
    """The text as the matcher sees it: NFKC, case-folded, typography folded, soft hyphens
    and zero-width characters dropped.

    Copies that differ only in quote style, dashes, ligatures, case or invisible
    characters must produce the same shingles.
    """
    if text.isascii():  # NFKC and the typography folding change nothing in ASCII
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    # str.replace per character present is ~20x faster than str.translate with a dict
    for src, dst in _QUOTE_PAIRS:
        if src in text:
            text = text.replace(src, dst)
    return text.casefold()


def clean_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id_for(clean_hash: str) -> str:
    """Issued once from the first canonical copy's clean text; reproducible."""
    return "a_" + clean_hash[:16]


# Where a new sentence (or a story behind a caption) starts: after . ! ? (and closing quotes),
# or after a closing parenthesis (a photo credit such as "(Joe Giddens/PA)"), before a capital
# letter or an opening quote (not a parenthesis: another credit); or at a line break.
_SENTENCE_BREAK = re.compile(r"(?:[.!?][\"'”’)\]]*|\))[ \t]+(?=[\"“‘']?[A-ZÀ-ÖØ-ÞА-ЯЁ])|\n+")
_WORD = re.compile(r"\w+")


def sentence_starts(text: str, n: int, reach: int) -> list[int]:
    """Word index of the first `n` sentence starts after the first, within `reach` characters."""
    if n <= 0:
        return []
    head = text[:reach]
    cuts = [m.end() for m in _SENTENCE_BREAK.finditer(head)]
    if not cuts:
        return []
    word_starts = [m.start() for m in _WORD.finditer(head)]
    found: list[int] = []
    for cut in cuts:
        k = bisect.bisect_left(word_starts, cut)
        if k < len(word_starts) and k > (found[-1] if found else 0):
            found.append(k)
            if len(found) == n:
                break
    return found


def band_ids(params: DedupParams) -> np.ndarray:
    """The LSH band id of each column of the band matrix: the main bands, then the lead bands
    once per window (window-major), the windows sharing ids."""
    return np.concatenate([np.arange(params.bands),
                           params.bands + np.tile(np.arange(params.lead_bands), params.lead_windows)]
                          ).astype(np.int16)


def fingerprint(texts: list[str], params: DedupParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_shingles, signatures uint32 [n, num_perm], band hashes uint64 [n, bands + lead_bands * lead_windows]).

    n_shingles counts distinct shingles: the set size that containment needs.
    """
    flat, offsets = signatures.shingle_hashes_batch([matching_text(t) for t in texts], params.shingle_size)
    sizes = np.array([len(np.unique(flat[offsets[i]:offsets[i + 1]])) for i in range(len(texts))], dtype=np.int32)
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
    codes = np.unique(np.concatenate(found))
    return np.stack((codes // n, codes % n), axis=1).astype(np.int64)


def band_matrix(column: pa.ChunkedArray | pa.Array, params: DedupParams) -> np.ndarray:
    """A list<uint64> column of band hashes as a (n_docs, n_bands) matrix."""
    width = params.bands + params.lead_bands * params.lead_windows
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.list_(pa.uint64()))
    return np.asarray(column.flatten(), dtype=np.uint64).reshape(-1, width)


def sig_to_bytes(sig: np.ndarray) -> bytes:
    return np.ascontiguousarray(sig, dtype="<u4").tobytes()


def sig_from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4")


def sig_matrix(column: pa.ChunkedArray | pa.Array, num_perm: int) -> np.ndarray:
    """A binary column of signatures as a (n_docs, num_perm) uint32 matrix.

    One array instead of a million small ones: at a million documents that is
    0.5 GB instead of 1.2 GB of Python objects.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.binary())
    column = column.cast(pa.binary(num_perm * 4))  # fixed width: its values are one contiguous buffer
    data = column.buffers()[1]
    return np.frombuffer(data, dtype="<u4", count=len(column) * num_perm,
                         offset=column.offset * num_perm * 4).reshape(len(column), num_perm)


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

def minima_keys(sigs: np.ndarray) -> np.ndarray:
    """uint64 [n, num_perm]: position << 32 | minimum, one key per signature value."""
    sigs = np.asarray(sigs, dtype=np.uint64)
    return (np.arange(sigs.shape[1], dtype=np.uint64) << np.uint64(32)) | sigs


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


def family_counts(keys: np.ndarray, family: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique keys, how many families carry each) for keys [n, num_perm]."""
    if not len(keys):
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    found_keys, found_counts = [], []
    fam = family.astype(np.uint64)
    for p in range(keys.shape[1]):  # per position: the value is 32 bits, the family id fits beside it
        per_family = np.unique((fam << np.uint64(32)) | (keys[:, p] & np.uint64(0xFFFFFFFF)))
        values, counts = np.unique(per_family & np.uint64(0xFFFFFFFF), return_counts=True)
        found_keys.append((np.uint64(p) << np.uint64(32)) | values)
        found_counts.append(counts)
    return np.concatenate(found_keys), np.concatenate(found_counts).astype(np.int64)


def common_minima(drop_keys: np.ndarray, drop_counts: np.ndarray, known_keys: np.ndarray | None,
                  known_counts: np.ndarray | None, params: DedupParams) -> np.ndarray:
    """The sorted keys (position, minimum) that at least `common_df` stories carry, in this
    drop and the warehouse together."""
    if not params.common_df:
        return np.empty(0, dtype=np.uint64)
    if known_keys is not None and len(known_keys):
        keys = np.concatenate([drop_keys, np.asarray(known_keys, dtype=np.uint64)])
        counts = np.concatenate([drop_counts, np.asarray(known_counts, dtype=np.int64)])
        keys, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse, weights=counts).astype(np.int64)
    else:
        keys, counts = drop_keys, drop_counts
    return keys[counts >= params.common_df]


def is_common(sigs: np.ndarray, common: np.ndarray) -> np.ndarray:
    """bool [n, num_perm]: which signature values are common keys."""
    sigs = np.atleast_2d(sigs)
    if not len(common):
        return np.zeros(sigs.shape, dtype=bool)
    return np.isin(minima_keys(sigs), common)


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


@dataclass
class _Article:
    article_id: str
    canonical: str            # doc_id of the canonical copy
    n_shingles: int
    signature: np.ndarray
    existing: bool            # already in the warehouse
    urls: set[str] = field(default_factory=set)    # canonical URLs of its copies in this drop
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
    """A drop's share of the document frequency of every (position, minimum)."""
    keys: np.ndarray        # sorted unique minima keys of the drop's documents
    counts: np.ndarray      # how many of the drop's story families carry each
    family: np.ndarray      # family id per document (story_families)
    pairs: np.ndarray       # the in-drop LSH candidate pairs (computed once, reused by assign)


def drop_minima(docs: pa.Table, params: DedupParams) -> DropMinima:
    """The document frequency of a drop's signature minima, copies of one story counted once."""
    sigs = sig_matrix(docs.column("minhash"), params.num_perm)
    pairs = candidate_pairs(band_matrix(docs.column("bands"), params), params)
    family = story_families(sigs, docs.column("n_shingles").to_pylist(), docs.column("clean_sha256").to_pylist(),
                            pairs, params)
    keys, counts = family_counts(minima_keys(sigs), family)
    return DropMinima(keys, counts, family, pairs)


def minima_to_keep(docs: pa.Table, minima: DropMinima, known: tuple[np.ndarray, np.ndarray] | None,
                   from_warehouse: np.ndarray, params: DedupParams) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) of this drop for the warehouse's minima_df: the families none of whose
    documents joined an article the warehouse already had (that story is counted already),
    and only keys that two stories carry, counting the warehouse's."""
    keep = ~np.isin(minima.family, np.unique(minima.family[from_warehouse]))
    if not keep.any():
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    sigs = sig_matrix(docs.column("minhash"), params.num_perm)
    keys, counts = family_counts(minima_keys(sigs[keep]), minima.family[keep])
    total = counts.copy()
    if known is not None and len(known[0]):
        k_keys = np.asarray(known[0], dtype=np.uint64)
        order = np.argsort(k_keys)
        k_keys, k_counts = k_keys[order], np.asarray(known[1])[order]
        pos = np.clip(np.searchsorted(k_keys, keys), 0, len(k_keys) - 1)
        hit = k_keys[pos] == keys
        total[hit] += k_counts[pos[hit]]
    shared = total >= 2
    return keys[shared], counts[shared]


def assign(docs: pa.Table, params: DedupParams, *, drop_id: int,
           exact: dict[str, tuple[str, str]] | None = None,
           warehouse_candidates: pa.Table | None = None,
           warehouse_articles: pa.Table | None = None,
           warehouse_url_candidates: pa.Table | None = None,
           known_minima: tuple[np.ndarray, np.ndarray] | None = None,
           minima: DropMinima | None = None) -> Assignment:
    """Cluster a drop's accepted documents into articles.

    docs: columns doc_id, clean_sha256, n_shingles, n_metadata, minhash (uint32 [num_perm] as
          bytes), bands (list<uint64>).
    exact: clean_sha256 -> (doc_id, article_id) already in the warehouse.
    warehouse_candidates: (query doc_id, article_id) pairs from the band index.
    warehouse_articles: article_id, canonical_doc_id, n_shingles, minhash of those articles.
    known_minima: (keys, counts) the warehouse holds for this drop's keys (minima_df table).
    minima: drop_minima(docs, params), if the caller has it already.
    warehouse_url_candidates: (query doc_id, article_id) pairs sharing a canonical URL (also in
          warehouse_candidates); docs may carry a canonical_url column for the in-drop signal.
    """
    exact = exact or {}
    ids = docs.column("doc_id").to_pylist()
    hashes = docs.column("clean_sha256").to_pylist()
    sizes = docs.column("n_shingles").to_pylist()
    meta = docs.column("n_metadata").to_pylist()
    sigs = sig_matrix(docs.column("minhash"), params.num_perm)

    minima = minima or drop_minima(docs, params)
    pairs = minima.pairs
    known_keys, known_counts = known_minima if known_minima is not None else (None, None)
    common = common_minima(minima.keys, minima.counts, known_keys, known_counts, params)
    use_common = bool(params.common_df)
    doc_common = is_common(sigs, common) if use_common else None
    urls = (docs.column("canonical_url").to_pylist() if "canonical_url" in docs.column_names
            else [None] * len(ids))
    wh_url_pairs = set() if warehouse_url_candidates is None else set(zip(
        warehouse_url_candidates.column("query").to_pylist(), warehouse_url_candidates.column("article_id").to_pylist()))

    articles: dict[str, _Article] = {}
    if warehouse_articles is not None and warehouse_articles.num_rows:
        wh_sigs = sig_matrix(warehouse_articles.column("minhash"), params.num_perm)
        wh_common = is_common(wh_sigs, common) if use_common else None
        for k, row in enumerate(warehouse_articles.select(["article_id", "canonical_doc_id", "n_shingles"]
                                                          ).to_pylist()):
            articles[row["article_id"]] = _Article(row["article_id"], row["canonical_doc_id"], row["n_shingles"],
                                                   wh_sigs[k], existing=True,
                                                   common=wh_common[k] if use_common else None)
    wh_cands: dict[str, set[str]] = {}
    if warehouse_candidates is not None:
        for q, a in zip(warehouse_candidates.column("query").to_pylist(),
                        warehouse_candidates.column("article_id").to_pylist()):
            wh_cands.setdefault(q, set()).add(a)

    # in-drop candidates: index -> other indices sharing a band
    drop_cands: dict[int, set[int]] = {}
    for i, j in [*pairs.tolist(), *same_url_pairs(urls)]:
        drop_cands.setdefault(i, set()).add(j)
        drop_cands.setdefault(j, set()).add(i)

    order = sorted(range(len(ids)), key=lambda i: (-sizes[i], -meta[i], ids[i]))
    article_of: dict[int, str] = {}
    seen_hash: dict[str, tuple[str, str]] = dict(exact)
    rows: list[dict] = []
    new_articles: dict[str, str] = {}
    switches: list[Switch] = []

    def row(i: int, art: str, relation: str, sim: float, cont: float, matched: str) -> None:
        rows.append({"doc_id": ids[i], "article_id": art, "drop_id": drop_id, "relation": relation,
                     "similarity": round(sim, 4), "containment": round(cont, 4), "matched_doc_id": matched})

    for i in order:
        if hashes[i] in seen_hash:
            matched, art = seen_hash[hashes[i]]
            article_of[i] = art
            row(i, art, schema.EXACT_DUPLICATE, 1.0, 1.0, matched)
            continue
        candidates = set(wh_cands.get(ids[i], ()))
        candidates.update(article_of[j] for j in drop_cands.get(i, ()) if j in article_of)
        mine = doc_common[i] if use_common else None
        best = None
        for art_id in sorted(candidates):
            art = articles[art_id]
            j, doc_in_canon, canon_in_doc = compare(sigs[i], art.signature, mine, art.common,
                                                    params.min_informative)
            same_url = same_url_match(urls[i], art.urls, (ids[i], art_id) in wh_url_pairs, j, params)
            if (art.existing and canon_in_doc >= params.containment_threshold
                    and sizes[i] >= params.switch_ratio * art.n_shingles):
                verdict = "takes_over"   # a later, longer version that holds the canonical
            elif doc_in_canon >= params.containment_threshold and (
                    j < params.jaccard_threshold or params.switch_ratio * sizes[i] <= art.n_shingles):
                verdict = schema.CONTAINED  # a shorter version: trimmed, a teaser, an earlier version
            elif j >= params.jaccard_threshold or same_url:
                verdict = schema.NEAR_DUPLICATE
            else:
                continue
            key = (j, doc_in_canon)
            if best is None or key > best[0]:
                best = (key, art, verdict, j, doc_in_canon, canon_in_doc)
        if best is None:
            art_id = article_id_for(hashes[i])
            articles[art_id] = _Article(art_id, ids[i], sizes[i], sigs[i], existing=False,
                                        common=mine, urls={urls[i]} if urls[i] else set())
            new_articles[art_id] = ids[i]
            article_of[i] = art_id
            seen_hash[hashes[i]] = (ids[i], art_id)
            row(i, art_id, schema.CANONICAL, 1.0, 1.0, ids[i])
            continue
        _, art, verdict, j, cont, canon_in_doc = best
        article_of[i] = art.article_id
        seen_hash[hashes[i]] = (ids[i], art.article_id)
        if urls[i]:
            art.urls.add(urls[i])
        if verdict == "takes_over":
            switches.append(Switch(art.article_id, art.canonical, ids[i], round(j, 4), round(canon_in_doc, 4)))
            art.canonical, art.n_shingles, art.signature, art.common = ids[i], sizes[i], sigs[i], mine
            row(i, art.article_id, schema.CANONICAL, 1.0, 1.0, ids[i])
        else:
            row(i, art.article_id, verdict, j, cont, art.canonical)
    return Assignment(schema.table("provenance", rows), new_articles, switches)
