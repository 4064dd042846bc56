"""MinHash signatures and LSH banding, vectorised with numpy.

This is newsfold's own MinHash: the same estimator as datasketch (min of
random affine permutations of shingle hashes) but computed for a whole batch of
documents at once, without building one Python string per shingle.

Tokenisation (``words``)
    A document's words are the maximal runs of ``\\w`` characters (Unicode
    letters, digits, underscore; Python's ``str.isalnum()`` or "_") of
    ``text.fold(text)``: NFKC, case folded, soft hyphens and zero-width characters
    dropped (pipeline/text.py: the one folding of text for matching). Everything
    else (spaces, punctuation, quotes, dashes, symbols) separates words. The text is not split with ``re``: its
    UTF-8 bytes are classified in one vectorised scan (ASCII bytes through a
    table; each non-ASCII character by decoding its code point and looking it
    up in a table of word characters), giving exactly the tokens of ``words()``.

Scripts written without spaces (``text.UNSPACED``)
    Chinese, Japanese, Thai, Lao, Khmer and Myanmar text does not separate its words
    with spaces, so a ``\\w`` run there is a whole clause and word shingles would
    never match between copies. Every character of these scripts is therefore a word
    of its own (a space is put around each before scanning), which makes their
    shingles character k-grams; Thai-family combining marks are not ``\\w`` and drop
    out, like punctuation. Text without such characters is scanned exactly as before
    (ALGORITHM_VERSION 1 and 2 give it the same hashes).

Shingles (``shingle_hashes``)
    The word k-grams of a document (k=5 by default). A document with 1..k-1
    words has one shingle made of all its words; an empty document has none.
    Each word is hashed once (its UTF-8 bytes packed 8 at a time into uint64
    and mixed), and each shingle hash combines k consecutive word hashes with
    a polynomial over uint64 (order-sensitive) followed by the MurmurHash3
    64-bit finaliser. No shingle string is ever built.

Permutations (``minhash_signatures``)
    Same family as datasketch's default ``affine32`` scheme: the top 32 bits x
    of the (already well mixed) shingle hash go through
    ``pi_k(x) = a_k * x + b_k mod 2**32`` with odd a_k, a bijection on 32-bit
    values, and the signature keeps the minimum per permutation. Like
    datasketch's, this family is 2-universal but not provably min-wise
    independent; its accuracy is checked empirically (tests/test_signatures.py,
    bench/minhash_speed.py). uint32 arithmetic lets numpy use twice the SIMD
    width of uint64 and halves memory traffic.

Stability
    Signatures and band hashes are persisted in the warehouse, so every
    constant here is fixed: word hashing, shingle mixing, permutation
    parameters (derived with splitmix64 from the seed, not numpy's RNG whose
    streams may change between releases) and band hashing. None of it uses
    Python's per-process salted ``hash()``. Changing any of it must bump
    ``ALGORITHM_VERSION`` and means re-fingerprinting the warehouse.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import xxhash

from .text import fold, fold_keeping_offsets_joined

ALGORITHM_VERSION = 2  # 2: characters of unspaced scripts are words

EMPTY_VALUE = np.uint32(0xFFFFFFFF)  # every slot of an empty document's signature

# Documents are processed this many shingles at a time by the permutation
# loop: 2**17 uint32 values (512 KiB) keep the working array in L2 cache,
# which measured ~2x faster than letting it spill to L3.
_CHUNK_SHINGLES = 1 << 17
# Tokenising a batch at a time amortises numpy's per-call overhead.
_TEXT_BATCH_DOCS = 128
# Words longer than this are hashed one by one with xxh3 instead of by the
# vectorised 8-byte loop, so a pathological token (a base64 blob, a long URL)
# cannot make that loop run thousands of times.
_LONG_WORD = 64

_WORD_RE = re.compile(r"\w+")  # the reference tokeniser; the fast path does not use it


_M64 = (1 << 64) - 1
_FMIX_C1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S32 = np.uint64(32)
_SHINGLE_MUL = np.uint64(0x9E3779B97F4A7C15)   # odd: the polynomial step stays invertible
_CHUNK_MUL = np.uint64(0xBF58476D1CE4E5B9)
_BAND_MUL = np.uint64(0x94D049BB133111EB)
_ALL_ONES = np.uint64(_M64)

# Word bytes: ASCII [0-9A-Za-z_] and, provisionally, every byte >= 0x80; the
# bytes of non-ASCII characters that are not \w are then cleared one by one.
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True
# The same table as a bytes.translate() map to 0/1: translate is a tight C
# loop, ~4x faster than a numpy gather through the boolean table.
_WORD_FLAG_TABLE = _WORD_BYTE.astype(np.uint8).tobytes()
_SEPARATOR = b"\n"  # between documents in a batch; any non-word byte works


# ---------------------------------------------------------------- helpers


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place: a bijection that avalanches."""
    h ^= h >> _S33
    h *= _FMIX_C1
    h ^= h >> _S33
    h *= _FMIX_C2
    h ^= h >> _S33
    return h


def mix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser on a copy of `h` (uint64)."""
    return _fmix64(h.astype(np.uint64, copy=True))


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & _M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return state, z ^ (z >> 31)


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) uint32 arrays for pi_k(x) = a_k x + b_k mod 2**32, a_k odd."""
    if num_perm < 1:
        raise ValueError("num_perm must be positive")
    state = seed & _M64
    a = np.empty(num_perm, dtype=np.uint32)
    b = np.empty(num_perm, dtype=np.uint32)
    for k in range(num_perm):
        state, z = _splitmix64(state)
        a[k] = (z & 0xFFFFFFFF) | 1
        b[k] = z >> 32
    a.flags.writeable = b.flags.writeable = False
    return a, b


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique(values) by one sort. NumPy 2.3+ answers a plain np.unique (no counts, no
    inverse) with a hash table, which on 64-bit keys is 5-80x slower than sorting: 6 s
    instead of 0.1 s for 4 million keys, 26 instead of 5 microseconds for a document's 400
    shingles."""
    ordered = np.sort(np.asarray(values).reshape(-1))
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def exclusive_cumsum(counts) -> np.ndarray:
    """[0, c0, c0+c1, ...] as int64: where each of a run of consecutive groups starts, plus the end."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _ranks_within_groups(counts: np.ndarray) -> np.ndarray:
    """concatenate(arange(c) for c in counts), vectorised."""
    total = int(counts.sum())
    starts = np.repeat(exclusive_cumsum(counts)[:-1], counts)
    return np.arange(total, dtype=np.int64) - starts


# ---------------------------------------------------------------- shingling


def words(text: str) -> list[str]:
    """Reference tokenisation (see module docstring); slow, for tests and tools."""
    return _WORD_RE.findall(fold(text))


def _to_scan_bytes(text: str) -> bytes:
    # surrogatepass: a lone surrogate (not a word character) must not abort the batch.
    return fold(text).encode("utf-8", "surrogatepass")


# code point -> 1 if it is a ``\\w`` character, 0 if not, -1 not looked up yet (1.1 MB)
_WORD_CODEPOINT = np.full(0x110000, -1, dtype=np.int8)


def _is_word_codepoint(codes: np.ndarray) -> np.ndarray:
    """bool per code point (non-ASCII): is it a ``\\w`` character? A code point is looked up
    (chr(c).isalnum()) the first time a text holds it and remembered in a table: filling the
    whole table costs ~1 s of CPU in every worker process, and a batch holds a few hundred
    distinct ones. Known code points cost one gather (np.unique of a batch's ~60,000
    multi-byte characters took ~1.7 ms)."""
    known = _WORD_CODEPOINT[codes]
    unseen = known < 0
    if unseen.any():
        new = np.unique(codes[unseen])
        _WORD_CODEPOINT[new] = [chr(c).isalnum() for c in new.tolist()]
        known = _WORD_CODEPOINT[codes]
    return known > 0


def _unmark_non_word_chars(buf: bytes, flags: np.ndarray) -> None:
    """Clear ``flags`` (one per byte of ``buf``) on every byte of a non-ASCII non-word character."""
    u8 = np.frombuffer(buf + bytes(3), dtype=np.uint8)
    lead = np.flatnonzero(u8[:len(buf)] >= 0xC0)  # first byte of each multi-byte character
    if not len(lead):
        return
    b0 = u8[lead].astype(np.int32)
    b1, b2, b3 = ((u8[lead + i] & 0x3F).astype(np.int32) for i in (1, 2, 3))
    n_bytes = 2 + (b0 >= 0xE0) + (b0 >= 0xF0)
    code = np.where(n_bytes == 2, ((b0 & 0x1F) << 6) | b1,
                    np.where(n_bytes == 3, ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
                             ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3))
    bad = ~_is_word_codepoint(np.minimum(code, 0x10FFFF))
    lead, n_bytes = lead[bad], n_bytes[bad]
    flags[np.repeat(lead, n_bytes) + _ranks_within_groups(n_bytes)] = False


def _word_hashes(buf: bytes, with_lengths: bool = False):
    """Hash every word of ``buf``: (start byte offsets int64, [byte lengths int64,] hashes uint64)."""
    n = len(buf)
    flags = np.frombuffer(b"\0" + buf.translate(_WORD_FLAG_TABLE) + b"\0", dtype=bool)
    if not buf.isascii():
        flags = flags.copy()
        _unmark_non_word_chars(buf, flags[1:-1])
    # A word starts where a word byte follows a non-word byte and ends (exclusive)
    # where the reverse happens; starts and ends alternate.
    edges = np.flatnonzero(flags[1:] != flags[:-1])
    starts = edges[0::2]
    lengths = edges[1::2] - starts
    # View the buffer as a uint64 at *every* byte offset (stride 1, unaligned,
    # little-endian), so one gather reads the first 8 bytes of every word.
    padded = buf + bytes(8)
    at = np.ndarray(shape=(n + 1,), dtype="<u8", buffer=padded, strides=(1,))

    def chunk(offsets: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        # Keep only the word's own bytes. Word bytes are never 0, so the packed
        # value of a word of <= 8 bytes is unique to that word.
        keep = np.minimum(remaining, 8).astype(np.uint64) * np.uint64(8)
        return at[offsets] & (_ALL_ONES >> (np.uint64(64) - keep))

    h = chunk(starts, lengths)
    long_words = np.flatnonzero(lengths > 8)
    if len(long_words):
        # Long words: mix in the length, then fold in each further 8-byte chunk.
        h[long_words] = _fmix64(h[long_words] ^ (lengths[long_words].astype(np.uint64) * _CHUNK_MUL))
        mid = long_words[lengths[long_words] <= _LONG_WORD]
        for j in range(1, (_LONG_WORD + 7) // 8):
            mid = mid[lengths[mid] > 8 * j]
            if not len(mid):
                break
            h[mid] = _fmix64(h[mid] * _CHUNK_MUL + chunk(starts[mid] + 8 * j, lengths[mid] - 8 * j))
        for i in long_words[lengths[long_words] > _LONG_WORD]:
            s = int(starts[i])
            h[i] = xxhash.xxh3_64_intdigest(buf[s:s + int(lengths[i])])
    return (starts, lengths, _fmix64(h)) if with_lengths else (starts, _fmix64(h))


def _window_sums(wh: np.ndarray, k: int) -> np.ndarray:
    """w_i P^(k-1) + ... + w_{i+k-1} (mod 2**64) for every window of k consecutive word hashes."""
    m = len(wh) - k + 1
    s = wh[:m].copy()
    for j in range(1, k):
        s *= _SHINGLE_MUL
        s += wh[j:j + m]
    return s


_DIGITS_TO_ZERO = bytes(48 if 49 <= c <= 57 else c for c in range(256))


def word_spans(texts: Sequence[str], fold: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every word of many texts with its place: (hashes uint64, start and end char offsets
    into its own text, offsets int64 of length len(texts)+1 into the flat arrays).

    Words are runs of ``\\w`` characters as in ``words()``, but without NFKC, so that every
    offset points into the text given. fold: hash them as ``text.fold_keeping_offsets``
    folds them (case), and with every digit read as 0.
    """
    n_docs = len(texts)
    if n_docs == 0:
        empty = np.empty(0, dtype=np.int64)
        return np.empty(0, dtype=np.uint64), empty, empty, np.zeros(1, dtype=np.int64)
    joined = fold_keeping_offsets_joined(texts) if fold else "\n".join(texts)
    buf = joined.encode("utf-8", "surrogatepass")
    if fold:
        buf = buf.translate(_DIGITS_TO_ZERO)
    starts, lengths, wh = _word_hashes(buf, with_lengths=True)
    ends = starts + lengths
    if len(buf) != len(joined):  # non-ASCII: byte offsets -> character offsets
        # a character offset is the byte offset less the UTF-8 continuation bytes before it:
        # where they are few (curly quotes in English), each is placed among the word offsets
        # (a search per continuation byte, not per offset: 30 -> 18 ms a 1,000-page generated
        # drop); where they are many (other languages: the search took up to 5x as long), a
        # running count over every byte
        u8 = np.frombuffer(buf, dtype=np.uint8)
        is_continuation = (u8 & 0xC0) == 0x80
        if np.count_nonzero(is_continuation) * 32 < len(buf):
            continuation = np.flatnonzero(is_continuation)
            starts, ends = starts - count_before(starts, continuation), ends - count_before(ends, continuation)
        else:
            before = np.zeros(len(buf) + 1, dtype=np.int64 if len(buf) >= 2**31 else np.int32)
            np.cumsum(is_continuation, out=before[1:])
            starts, ends = starts - before[starts], ends - before[ends]
    text_start = exclusive_cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=n_docs) + 1)
    offsets = np.searchsorted(starts, text_start)
    doc = np.repeat(np.arange(n_docs), np.diff(offsets))
    return wh, starts - text_start[doc], ends - text_start[doc], offsets


def count_before(positions: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Per position (sorted): how many of the sorted `marks` lie before it. The same as
    np.searchsorted(marks, positions), but with one search per mark: cheaper when marks are few."""
    first_after = np.searchsorted(positions, marks, side="right")  # the first position past each mark
    return np.cumsum(np.bincount(first_after, minlength=len(positions) + 1)[:-1])


def window_hashes(wh: np.ndarray, offsets: np.ndarray, k: int) -> np.ndarray:
    """Hashes of the k-word windows of each text, aligned with its words: entry
    offsets[d] + i is the window starting at word i of text d; the last k-1 words of
    each text start no window and get 0."""
    out = np.zeros(len(wh), dtype=np.uint64)
    if len(wh) >= k:
        s = _fmix64(_window_sums(wh, k))
        doc_of_word = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        inside = doc_of_word[:len(s)] == doc_of_word[k - 1:]
        out[:len(s)][inside] = s[inside]
    return out


def shingle_hashes_batch(texts: Sequence[str], k: int = 5, folded: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many texts at once (folded: the texts are text.fold's already).

    Returns (hashes uint64, offsets int64 of length len(texts)+1): the hashes of
    text i are ``hashes[offsets[i]:offsets[i+1]]``, in text order (duplicate
    shingles are kept; MinHash does not care).
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    n_docs = len(texts)
    if n_docs == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    parts = [t.encode("utf-8", "surrogatepass") for t in texts] if folded else [_to_scan_bytes(t) for t in texts]
    doc_byte_start = exclusive_cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=n_docs) + 1)[:-1]
    starts, wh = _word_hashes(_SEPARATOR.join(parts))
    # Separators are non-word bytes, so no word straddles two documents.
    word_off = np.empty(n_docs + 1, dtype=np.int64)
    word_off[:-1] = np.searchsorted(starts, doc_byte_start)
    word_off[-1] = len(starts)
    n_words = np.diff(word_off)

    n_total = len(wh)
    if n_total >= k:
        # s_i = fmix(w_i P^(k-1) + ... + w_{i+k-1}) over the flat word array; the
        # windows that straddle a document boundary are dropped below.
        m = n_total - k + 1
        s = _window_sums(wh, k)
        doc_of_word = np.repeat(np.arange(n_docs, dtype=np.int32), n_words)
        s = s[doc_of_word[:m] == doc_of_word[k - 1:]]
    else:
        s = np.empty(0, dtype=np.uint64)
    counts = np.maximum(n_words - (k - 1), 0)

    short = np.flatnonzero((n_words > 0) & (n_words < k))
    if len(short):
        # A document shorter than k words still gets one shingle (all its words).
        mul = int(_SHINGLE_MUL)
        short_h = np.empty(len(short), dtype=np.uint64)
        for t, d in enumerate(short):
            acc = 0
            for w in wh[word_off[d]:word_off[d + 1]].tolist():
                acc = (acc * mul + w) & _M64  # the same polynomial, over fewer words
            short_h[t] = acc
        s = np.insert(s, exclusive_cumsum(counts)[short], short_h)
        counts[short] = 1
    return _fmix64(s), exclusive_cumsum(counts)


def shingle_hashes(text: str, k: int = 5) -> np.ndarray:
    """uint64 hashes of the word k-gram shingles of one text (see module docstring)."""
    return shingle_hashes_batch([text], k)[0]


# ---------------------------------------------------------------- MinHash


def minhash_signatures_flat(hashes: np.ndarray, offsets: np.ndarray, num_perm: int = 128,
                            seed: int = 1) -> np.ndarray:
    """Signatures of documents whose shingle hashes are ``hashes[offsets[i]:offsets[i+1]]``.

    Returns uint32 (n_docs, num_perm); a document without shingles gets
    EMPTY_VALUE in every slot.
    """
    a, b = _permutations(num_perm, seed)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_docs = len(offsets) - 1
    sig = np.full((n_docs, num_perm), EMPTY_VALUE, dtype=np.uint32)
    # The top 32 bits of a well-mixed 64-bit hash are as good as any 32.
    x_all = (np.asarray(hashes, dtype=np.uint64) >> _S32).astype(np.uint32)
    counts = np.diff(offsets)
    # reduceat returns an element (not the identity) for an empty segment, so
    # only non-empty documents take part; they have strictly increasing offsets.
    docs = np.flatnonzero(counts > 0)
    # Split the documents into chunks of about _CHUNK_SHINGLES shingles each.
    chunk_id = offsets[docs] // _CHUNK_SHINGLES
    cuts = np.flatnonzero(np.diff(chunk_id)) + 1
    for chunk_docs in np.split(docs, cuts):
        if not len(chunk_docs):
            continue
        lo, hi = offsets[chunk_docs[0]], offsets[chunk_docs[-1] + 1]
        x = x_all[lo:hi]
        seg = offsets[chunk_docs] - lo
        tmp = np.empty_like(x)
        out = np.empty((num_perm, len(chunk_docs)), dtype=np.uint32)
        for k in range(num_perm):
            # uint32 arithmetic wraps, which is exactly the mod 2**32 we want.
            np.multiply(x, a[k], out=tmp)
            tmp += b[k]
            np.minimum.reduceat(tmp, seg, out=out[k])
        sig[chunk_docs] = out.T
    return sig


def minhash_signatures(hash_arrays: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """uint32 (n_docs, num_perm) signatures from per-document shingle-hash arrays."""
    counts = np.fromiter(map(len, hash_arrays), dtype=np.int64, count=len(hash_arrays))
    flat = np.concatenate(hash_arrays) if len(hash_arrays) else np.empty(0, dtype=np.uint64)
    return minhash_signatures_flat(flat, exclusive_cumsum(counts), num_perm, seed)


def text_signatures(texts: Sequence[str], k: int = 5, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """Shingle and sign texts in batches: uint32 (len(texts), num_perm).

    Same result as ``minhash_signatures([shingle_hashes(t, k) for t in texts])``
    but faster (batched tokenising, no per-document numpy calls) and with
    memory bounded by the batch size.
    """
    sig = np.empty((len(texts), num_perm), dtype=np.uint32)
    for lo in range(0, len(texts), _TEXT_BATCH_DOCS):
        hashes, offsets = shingle_hashes_batch(texts[lo:lo + _TEXT_BATCH_DOCS], k)
        sig[lo:lo + len(offsets) - 1] = minhash_signatures_flat(hashes, offsets, num_perm, seed)
    return sig


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray | float:
    """Share of equal slots, over the last axis: (..., P) x (..., P) -> (...) float64.

    Two empty documents compare as 1.0 (identical all-EMPTY_VALUE signatures).
    """
    return np.mean(np.asarray(sig_a) == np.asarray(sig_b), axis=-1)


# ---------------------------------------------------------------- LSH


@lru_cache(maxsize=64)
def bands_rows_for_threshold(threshold: float, num_perm: int,
                             weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false-positive and false-negative areas.

    Same objective as datasketch's ``lsh._optimal_param``: for each b, r with
    b*r <= num_perm, FP = integral over [0, t] of P(s) = 1-(1-s^r)^b and
    FN = integral over [t, 1] of 1-P(s); minimise w_fp*FP + w_fn*FN (first
    minimum in b-major, r-minor order wins ties, as there). P is a polynomial
    of degree b*r <= num_perm, so Gauss-Legendre quadrature with
    num_perm//2+1 nodes integrates it exactly, without scipy.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be in [0, 1]")
    w_fp, w_fn = weights
    nodes, node_w = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def on(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        half = (hi - lo) / 2.0
        return lo + half * (nodes + 1.0), half * node_w

    s_fp, w_fp_nodes = on(0.0, threshold)
    s_fn, w_fn_nodes = on(threshold, 1.0)
    best, opt = np.inf, (0, 0)
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1, dtype=np.float64)[:, None]
        fp = (1.0 - (1.0 - s_fp ** r) ** b) @ w_fp_nodes
        fn = ((1.0 - s_fn ** r) ** b) @ w_fn_nodes
        err = fp * w_fp + fn * w_fn
        i = int(np.argmin(err))
        if err[i] < best:
            best, opt = float(err[i]), (b, i + 1)
    return opt


def lsh_band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 hash per band: (n_docs, bands), band i covering slots [i*rows, (i+1)*rows).

    Deterministic across processes and platforms (pure fixed-width arithmetic);
    the band index is mixed in, so equal rows in different bands hash apart.
    """
    sig = np.asarray(signatures)
    if sig.ndim != 2:
        raise ValueError("signatures must be 2-D (n_docs, num_perm)")
    if bands < 1 or rows < 1 or bands * rows > sig.shape[1]:
        raise ValueError(f"bands x rows ({bands} x {rows}) exceeds num_perm ({sig.shape[1]})")
    v = sig[:, :bands * rows].astype(np.uint64).reshape(len(sig), bands, rows)
    h = np.broadcast_to(_fmix64(np.arange(1, bands + 1, dtype=np.uint64)), (len(sig), bands)).copy()
    for j in range(rows):
        h ^= v[:, :, j]
        h *= _BAND_MUL
        h ^= h >> _S32
    return _fmix64(h)


def candidate_pairs(band_hashes: np.ndarray, max_bucket: int = 256) -> np.ndarray:
    """All pairs of documents sharing at least one band hash: int64 (m, 2), i < j, sorted, unique.

    Per band, documents are sorted by hash and each run of equal hashes is a
    bucket. A bucket of more than ``max_bucket`` documents (boilerplate-only
    pages, templated notices) would yield O(size^2) pairs; instead each of its
    members is paired with the bucket's first (lowest-index) document only.
    That keeps the output O(size) and keeps connectivity (union-find over the
    pairs gives the same components), but such members are not paired with each
    other directly.
    """
    bh = np.asarray(band_hashes)
    if bh.ndim != 2:
        raise ValueError("band_hashes must be 2-D (n_docs, bands)")
    n = bh.shape[0]
    found = []
    for band in bh.T:
        order = np.argsort(band, kind="stable")  # within a bucket, doc indices ascend
        sorted_h = band[order]
        run_start = np.flatnonzero(np.concatenate(([True], sorted_h[1:] != sorted_h[:-1])))
        run_len = np.diff(np.append(run_start, n))
        multi = run_len >= 2
        small = multi & (run_len <= max_bucket)
        big = multi & (run_len > max_bucket)
        # Every pair inside a small bucket: member t is paired with t+1 .. L-1.
        s, ln = run_start[small], run_len[small]
        pos = np.repeat(s, ln) + _ranks_within_groups(ln)
        after = np.repeat(s + ln, ln) - pos - 1
        left = np.repeat(pos, after)
        right = left + 1 + _ranks_within_groups(after)
        # Star around the first member of each big bucket.
        s, ln = run_start[big], run_len[big]
        star_left = np.repeat(s, ln - 1)
        star_right = star_left + 1 + _ranks_within_groups(ln - 1)
        i = order[np.concatenate((left, star_left))]
        j = order[np.concatenate((right, star_right))]
        found.append(np.minimum(i, j) * n + np.maximum(i, j))
    codes = sorted_unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
    return np.stack((codes // max(n, 1), codes % max(n, 1)), axis=1).astype(np.int64)


def to_lean_minhash(blob: bytes, seed: int = 1, num_perm: int | None = None):
    """A stored signature (`signatures.minhash`: num_perm little-endian uint32) as a
    `datasketch.LeanMinHash`, to reuse the warehouse's fingerprints with datasketch
    (`MinHashLSH`, also with Redis storage, `MinHashLSHForest`, ...).

    newsfold's permutations are affine maps mod 2**32 (datasketch's "affine32" scheme)
    with their own parameters, so compare these only with each other, never with
    signatures datasketch computed itself. `seed` is DedupParams.seed (drops.parameters):
    datasketch refuses to compare sketches with different seeds, which keeps signatures
    made with other parameters apart. `jaccard` between two of them is newsfold's
    estimate: the share of equal slots.
    """
    from datasketch import LeanMinHash

    values = np.frombuffer(blob, dtype="<u4")
    if num_perm is not None and len(values) != num_perm:
        raise ValueError(f"the signature has {len(values)} values, not num_perm={num_perm}")
    return LeanMinHash(seed=seed, hashvalues=values.astype(np.uint32), scheme="affine32")
