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

Clustering is a star around each canonical copy: a document joins only if it
matches the canonical directly, so A~B and B~C never pulls in an unrelated C
(no chaining). Documents are visited most complete first (most shingles, then
most metadata, then doc_id), so within a drop the canonical is the most
complete copy. A later, more complete copy that contains the current canonical
takes over the article (the article_id stays); see `switch_ratio`.
A document with no headline whose only match is a teaser-or-update (see
DedupParams) waits until all the others are placed, so a closer copy of its own
version gets the chance to found an article first.
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Collection
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from . import schema, signatures
from .repeats import fold


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
    # Updates versus teasers. A document that holds a shorter one (containment) and is
    # much longer (the shorter one is under update_ratio of its shingles) has either
    # truncated it (the shorter is a teaser) or grown it (it is an update with new text).
    # The shorter one counts as a teaser when it is at most teaser_ratio of the longer
    # one, or it carries a headline that a copy of the article carries (or either headline
    # is unknown); otherwise the two are separate articles.
    teaser_ratio: float = 0.3
    update_ratio: float = 0.7
    seed: int = 1
    # Two documents with the same canonical URL (see readers.canonical_url) are one article
    # when their texts are at least this similar, even under jaccard_threshold: a corrected
    # or re-edited article republished at its URL. See same_url_match.
    url_jaccard_threshold: float = 0.2

    def __post_init__(self):
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands x rows ({self.bands} x {self.rows}) must equal num_perm ({self.num_perm})")
        if not 1 <= self.shingle_size <= 20:
            raise ValueError("shingle_size must be between 1 and 20")
        if not 0.0 <= self.teaser_ratio <= self.update_ratio <= 1.0:
            raise ValueError("need 0 <= teaser_ratio <= update_ratio <= 1")

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


def fingerprint(texts: list[str], params: DedupParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_shingles, signatures uint32 [n, num_perm], band hashes uint64 [n, bands + lead_bands]).

    n_shingles counts distinct shingles: the set size that containment needs.
    """
    flat, offsets = signatures.shingle_hashes_batch([matching_text(t) for t in texts], params.shingle_size)
    sizes = np.array([len(np.unique(flat[offsets[i]:offsets[i + 1]])) for i in range(len(texts))], dtype=np.int32)
    sigs = signatures.minhash_signatures_flat(flat, offsets, num_perm=params.num_perm, seed=params.seed)
    bands = signatures.lsh_band_hashes(sigs, params.bands, params.rows)
    if params.lead_bands:
        counts = np.minimum(np.diff(offsets), params.lead_shingles)
        lead_offsets = np.concatenate(([0], np.cumsum(counts)))
        take = np.repeat(offsets[:-1], counts) + (np.arange(lead_offsets[-1]) - np.repeat(lead_offsets[:-1], counts))
        lead_sigs = signatures.minhash_signatures_flat(flat[take], lead_offsets, params.lead_bands * params.lead_rows,
                                                       seed=params.seed + 1)
        bands = np.hstack([bands, signatures.lsh_band_hashes(lead_sigs, params.lead_bands, params.lead_rows)])
    return sizes, sigs, bands


def band_matrix(column: pa.ChunkedArray | pa.Array, params: DedupParams) -> np.ndarray:
    """A list<uint64> column of band hashes as a (n_docs, n_bands) matrix."""
    width = params.bands + params.lead_bands
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


def compare(sig_a: np.ndarray, sig_b: np.ndarray) -> tuple[float, float, float]:
    """(Jaccard, share of A in B, share of B in A), all estimated from the two signatures.

    Containment from the minima themselves rather than from J and the set sizes: in a
    permutation where A's minimum is the smaller (the minimum of A∪B lies in A), the two
    minima are equal exactly when that element is in B too, so
    |A∩B|/|A| = P(min A = min B | min A <= min B). A teaser wholly inside its article
    scores 1.0 exactly, where J(|A|+|B|)/(1+J) wanders by +-0.1 for a teaser a fifth of
    the article's size, and often falls under the threshold.
    """
    equal = int(np.count_nonzero(sig_a == sig_b))
    a_first = int(np.count_nonzero(sig_a <= sig_b))
    b_first = int(np.count_nonzero(sig_b <= sig_a))
    return equal / len(sig_a), equal / a_first if a_first else 0.0, equal / b_first if b_first else 0.0


def title_key(title: str | None) -> str | None:
    """Headlines compared case-, punctuation- and spacing-blind; None if unknown."""
    key = fold(title) if title else ""
    return key or None


def in_update_window(n_a: int, n_b: int, contained: float, params: DedupParams) -> bool:
    """The longer of two documents holds the shorter one (`contained`: the share of the
    shorter found in the longer), which is teaser_ratio..update_ratio of its size: a
    teaser or an update, and only the headlines can tell (see DedupParams)."""
    small, large = sorted((n_a, n_b))
    if not small or small >= params.update_ratio * large or small <= params.teaser_ratio * large:
        return False
    return contained >= params.containment_threshold


def is_update(n_a: int, n_b: int, contained: float, title: str | None, article_titles: Collection[str],
              params: DedupParams) -> bool:
    """True when the longer of two documents (a document and an article's canonical copy)
    holds the shorter one but adds so much new text that it is a new version of the story,
    not a copy (see DedupParams). `article_titles`: the headlines the article's copies carry
    (title keys); an edited copy may be canonical under a rewritten headline, so a teaser
    only has to carry one of them."""
    # an unknown headline (a page flattened onto one line) gives no evidence of an update
    return (in_update_window(n_a, n_b, contained, params)
            and title is not None and bool(article_titles) and title not in article_titles)


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
    titles: set[str] = field(default_factory=set)  # title keys of its copies
    urls: set[str] = field(default_factory=set)    # canonical URLs of its copies in this drop


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


def assign(docs: pa.Table, params: DedupParams, *, drop_id: int,
           exact: dict[str, tuple[str, str]] | None = None,
           warehouse_candidates: pa.Table | None = None,
           warehouse_articles: pa.Table | None = None,
           warehouse_url_candidates: pa.Table | None = None) -> Assignment:
    """Cluster a drop's accepted documents into articles.

    docs: columns doc_id, title, clean_sha256, n_shingles, n_metadata, minhash (uint32 [num_perm] as
          bytes), bands (list<uint64>). title is required: without it an update cannot be told from a teaser.
    exact: clean_sha256 -> (doc_id, article_id) already in the warehouse.
    warehouse_candidates: (query doc_id, article_id) pairs from the band index.
    warehouse_articles: article_id, canonical_doc_id, n_shingles, minhash of those articles, and titles
          (the headlines of their copies).
    warehouse_url_candidates: (query doc_id, article_id) pairs sharing a canonical URL (also in
          warehouse_candidates); docs may carry a canonical_url column for the in-drop signal.
    """
    exact = exact or {}
    ids = docs.column("doc_id").to_pylist()
    hashes = docs.column("clean_sha256").to_pylist()
    sizes = docs.column("n_shingles").to_pylist()
    meta = docs.column("n_metadata").to_pylist()
    sigs = sig_matrix(docs.column("minhash"), params.num_perm)
    bands = band_matrix(docs.column("bands"), params)
    titles = [title_key(t) for t in docs.column("title").to_pylist()]
    urls = (docs.column("canonical_url").to_pylist() if "canonical_url" in docs.column_names
            else [None] * len(ids))
    wh_url_pairs = set() if warehouse_url_candidates is None else set(zip(
        warehouse_url_candidates.column("query").to_pylist(), warehouse_url_candidates.column("article_id").to_pylist()))

    articles: dict[str, _Article] = {}
    if warehouse_articles is not None:
        for row in warehouse_articles.to_pylist():
            articles[row["article_id"]] = _Article(row["article_id"], row["canonical_doc_id"], row["n_shingles"],
                                                   sig_from_bytes(row["minhash"]), existing=True,
                                                   titles={k for t in row.get("titles") or () if (k := title_key(t))})
    wh_cands: dict[str, set[str]] = {}
    if warehouse_candidates is not None:
        for q, a in zip(warehouse_candidates.column("query").to_pylist(),
                        warehouse_candidates.column("article_id").to_pylist()):
            wh_cands.setdefault(q, set()).add(a)

    # in-drop candidates: index -> other indices sharing a band
    drop_cands: dict[int, set[int]] = {}
    for i, j in [*signatures.candidate_pairs(bands), *same_url_pairs(urls)]:
        drop_cands.setdefault(int(i), set()).add(int(j))
        drop_cands.setdefault(int(j), set()).add(int(i))

    order = sorted(range(len(ids)), key=lambda i: (-sizes[i], -meta[i], ids[i]))
    article_of: dict[int, str] = {}
    seen_hash: dict[str, tuple[str, str]] = dict(exact)
    rows: list[dict] = []
    new_articles: dict[str, str] = {}
    switches: list[Switch] = []

    def row(i: int, art: str, relation: str, sim: float, cont: float, matched: str) -> None:
        rows.append({"doc_id": ids[i], "article_id": art, "drop_id": drop_id, "relation": relation,
                     "similarity": round(sim, 4), "containment": round(cont, 4), "matched_doc_id": matched})

    def place(i: int, final: bool) -> bool:
        """Give document i its article; False (nothing recorded) if it should wait for the final pass."""
        if hashes[i] in seen_hash:
            matched, art = seen_hash[hashes[i]]
            article_of[i] = art
            row(i, art, schema.EXACT_DUPLICATE, 1.0, 1.0, matched)
            return True
        candidates = set(wh_cands.get(ids[i], ()))
        candidates.update(article_of[j] for j in drop_cands.get(i, ()) if j in article_of)
        best = None
        for art_id in sorted(candidates):
            art = articles[art_id]
            j, doc_in_canon, canon_in_doc = compare(sigs[i], art.signature)
            shorter_in_longer = doc_in_canon if sizes[i] <= art.n_shingles else canon_in_doc
            same_url = same_url_match(urls[i], art.urls, (ids[i], art_id) in wh_url_pairs, j, params)
            if not same_url and is_update(sizes[i], art.n_shingles, shorter_in_longer, titles[i], art.titles,
                                          params):
                continue
            if (art.existing and canon_in_doc >= params.containment_threshold
                    and sizes[i] >= params.switch_ratio * art.n_shingles):
                verdict = "takes_over"
            elif j >= params.jaccard_threshold:
                verdict = schema.NEAR_DUPLICATE
            elif doc_in_canon >= params.containment_threshold:
                verdict = schema.CONTAINED
            elif same_url:
                verdict = schema.NEAR_DUPLICATE
            else:
                continue
            key = (j, doc_in_canon)
            if best is None or key > best[0]:
                best = (key, art, verdict, j, doc_in_canon, canon_in_doc, shorter_in_longer)
        if (not final and best is not None and titles[i] is None
                and in_update_window(sizes[i], best[1].n_shingles, best[6], params)):
            # Teaser or update, and this document has no headline to tell which (a flattened
            # page). Wait until the documents with headlines have their articles: a closer copy
            # of its own version (the original of an update) may turn up and match better.
            return False
        if best is None:
            art_id = article_id_for(hashes[i])
            articles[art_id] = _Article(art_id, ids[i], sizes[i], sigs[i], existing=False,
                                        titles={titles[i]} if titles[i] else set(),
                                        urls={urls[i]} if urls[i] else set())
            new_articles[art_id] = ids[i]
            article_of[i] = art_id
            seen_hash[hashes[i]] = (ids[i], art_id)
            row(i, art_id, schema.CANONICAL, 1.0, 1.0, ids[i])
            return True
        _, art, verdict, j, cont, canon_in_doc, _ = best
        article_of[i] = art.article_id
        seen_hash[hashes[i]] = (ids[i], art.article_id)
        if titles[i]:
            art.titles.add(titles[i])
        if urls[i]:
            art.urls.add(urls[i])
        if verdict == "takes_over":
            switches.append(Switch(art.article_id, art.canonical, ids[i], round(j, 4), round(canon_in_doc, 4)))
            art.canonical, art.n_shingles, art.signature = ids[i], sizes[i], sigs[i]
            row(i, art.article_id, schema.CANONICAL, 1.0, 1.0, ids[i])
        else:
            row(i, art.article_id, verdict, j, cont, art.canonical)
        return True

    waiting = [i for i in order if not place(i, final=False)]
    for i in waiting:
        place(i, final=True)
    return Assignment(schema.table("provenance", rows), new_articles, switches)
