import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest

from pipeline import signatures as S


def _random_text(rng: random.Random, n_words: int, vocab: list[str]) -> str:
    return " ".join(rng.choices(vocab, k=n_words))


@pytest.fixture(scope="module")
def vocab() -> list[str]:
    rng = random.Random(7)
    return ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 12))) for _ in range(20000)]


# ---------------------------------------------------------------- shingling


def test_tokenisation_ignores_case_and_punctuation():
    assert S.words("The “Quick”, brown—fox's ﬁle_2!") == ["the", "quick", "brown", "fox", "s", "file_2"]
    a = S.shingle_hashes("Hello, World! This is -- a TEST of tokens.")
    b = S.shingle_hashes("hello world this is a test of tokens")
    assert a.dtype == np.uint64 and len(a) == 4
    assert np.array_equal(a, b)


def test_non_ascii_text_matches_reference_tokens():
    text = "Ünïcödé «quotes» naïve café ﬁnance Ⅻ straße ΑΒΓ δέλτα — end"
    assert np.array_equal(S.shingle_hashes(text), S.shingle_hashes(" ".join(S.words(text))))
    # Only the words matter, not how they were separated or which path scanned them.
    assert np.array_equal(S.shingle_hashes("“Alpha” beta gamma, delta; epsilon"),
                          S.shingle_hashes("alpha beta gamma delta epsilon"))


def test_fast_tokeniser_agrees_with_re_on_random_unicode():
    # Letters, digits, marks, punctuation, symbols, spaces from many scripts,
    # astral characters (emoji, math letters) and a lone surrogate.
    pool = ("aZ_09 \t\n.,;:!?'\"-–—“”«»…€£°©®™×÷§¶•·é ñ ß ø œ ﬁ ² ½ Ⅻ ı İ ǅ ̈ ́ "
            "ΑΒΓαβγ ЖжЯя אבג عربي हिन्दी 中文字 かな カナ 한글 ๑๒ ٣٤ 😀🚀 𝐀𝐁 𝟙 \u00a0\u2009\u200b\ud800")
    rng = random.Random(9)
    for _ in range(200):
        text = "".join(rng.choices(pool, k=rng.randint(0, 60)))
        expected = S.words(text)
        hashes = S.shingle_hashes(text, 1)
        assert len(hashes) == len(expected), (text, expected)
        assert np.array_equal(hashes, S.shingle_hashes(" ".join(expected), 1))
    codes = np.arange(0x80, 0x10000)
    word = re.compile(r"\w")
    assert S._is_word_codepoint(codes).tolist() == [bool(word.match(chr(c))) for c in codes.tolist()]


def test_shingle_hash_equality_follows_kgram_equality():
    # A small vocabulary forces many repeated k-grams; words of 1..80 bytes
    # exercise the one-chunk, multi-chunk and long-word hashing paths.
    rng = random.Random(3)
    vocab = ["x" * n for n in (1, 7, 8, 9, 16, 17, 64, 65, 80)] + ["a", "b", "ab", "ba", "abcdefghi", "abcdefghj"]
    for k in (1, 2, 5):
        tokens = rng.choices(vocab, k=3000)
        h = S.shingle_hashes(" ".join(tokens), k)
        grams = [tuple(tokens[i:i + k]) for i in range(len(tokens) - k + 1)]
        assert len(h) == len(grams)
        seen: dict[tuple, int] = {}
        for g, v in zip(grams, h.tolist()):
            assert seen.setdefault(g, v) == v
        assert len(set(seen.values())) == len(seen)  # no collisions between distinct k-grams


def test_short_and_empty_texts():
    assert S.shingle_hashes("").dtype == np.uint64
    assert len(S.shingle_hashes("")) == 0
    assert len(S.shingle_hashes("  ... -- !! ")) == 0
    assert len(S.shingle_hashes("one two three")) == 1  # fewer than k words: one shingle of all
    assert not np.array_equal(S.shingle_hashes("one two three"), S.shingle_hashes("one two four"))
    hashes, offsets = S.shingle_hashes_batch(["a b c d e f", "", "x", "p q r s t"], 5)
    assert offsets.tolist() == [0, 2, 2, 3, 4]
    for i, t in enumerate(["a b c d e f", "", "x", "p q r s t"]):
        assert np.array_equal(hashes[offsets[i]:offsets[i + 1]], S.shingle_hashes(t))


# ---------------------------------------------------------------- MinHash


def test_jaccard_estimates_close_to_exact():
    rng = np.random.default_rng(11)
    errors = []
    for _ in range(20):
        n_common, n_a, n_b = rng.integers(50, 1500), rng.integers(0, 800), rng.integers(0, 800)
        universe = rng.integers(0, 2**64, n_common + n_a + n_b, dtype=np.uint64)
        common, only_a, only_b = np.split(universe, [n_common, n_common + n_a])
        a, b = np.concatenate([common, only_a]), np.concatenate([common, only_b])
        exact = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
        sig = S.minhash_signatures([a, b], num_perm=128)
        errors.append(float(S.estimate_jaccard(sig[0], sig[1])) - exact)
    errors = np.array(errors)
    assert np.abs(errors).max() < 0.1
    assert np.abs(errors).mean() < 0.04
    assert abs(errors.mean()) < 0.02  # no systematic bias


def test_signature_shape_dtype_and_identical_texts(vocab):
    rng = random.Random(1)
    t = _random_text(rng, 300, vocab)
    sig = S.minhash_signatures([S.shingle_hashes(t), S.shingle_hashes(t.upper())], num_perm=64, seed=5)
    assert sig.shape == (2, 64) and sig.dtype == np.uint32
    assert np.array_equal(sig[0], sig[1])
    other_seed = S.minhash_signatures([S.shingle_hashes(t)], num_perm=64, seed=6)
    assert not np.array_equal(sig[0], other_seed[0])


def test_empty_documents_get_empty_signature_without_shifting_others(vocab):
    rng = random.Random(2)
    texts = ["", _random_text(rng, 50, vocab), "", "", _random_text(rng, 80, vocab), ""]
    sig = S.minhash_signatures([S.shingle_hashes(t) for t in texts])
    for i in (0, 2, 3, 5):
        assert (sig[i] == S.EMPTY_VALUE).all()
    alone = S.minhash_signatures([S.shingle_hashes(texts[1]), S.shingle_hashes(texts[4])])
    assert np.array_equal(sig[[1, 4]], alone)
    assert S.minhash_signatures([]).shape == (0, 128)
    assert np.array_equal(S.text_signatures(texts), sig)


def test_chunking_does_not_change_signatures(vocab, monkeypatch):
    rng = random.Random(4)
    texts = [_random_text(rng, rng.randint(0, 200), vocab) for _ in range(40)]
    expected = S.minhash_signatures([S.shingle_hashes(t) for t in texts])
    monkeypatch.setattr(S, "_CHUNK_SHINGLES", 97)
    monkeypatch.setattr(S, "_TEXT_BATCH_DOCS", 7)
    assert np.array_equal(S.minhash_signatures([S.shingle_hashes(t) for t in texts]), expected)
    assert np.array_equal(S.text_signatures(texts), expected)


def test_estimate_jaccard_is_vectorised():
    a = np.array([[1, 2, 3, 4], [1, 1, 1, 1]], dtype=np.uint32)
    b = np.array([[1, 2, 0, 0], [1, 1, 1, 1]], dtype=np.uint32)
    assert S.estimate_jaccard(a, b).tolist() == [0.5, 1.0]
    assert S.estimate_jaccard(a[0], b[0]) == 0.5


# ---------------------------------------------------------------- LSH


@pytest.mark.parametrize("num_perm", [16, 64, 128])
def test_bands_rows_match_datasketch(num_perm):
    from datasketch.lsh import _optimal_param

    assert S.bands_rows_for_threshold(0.8, 128) == (9, 13)
    for t in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9):
        assert S.bands_rows_for_threshold(t, num_perm) == _optimal_param(t, num_perm, 0.5, 0.5)


def test_candidate_pairs_find_near_duplicates_only(vocab):
    rng = random.Random(5)
    originals = [_random_text(rng, rng.randint(200, 600), vocab) for _ in range(60)]
    texts, expected = list(originals), set()
    for src in range(0, 60, 3):
        words = originals[src].split()
        for _ in range(2):  # change two words: Jaccard ~0.95+
            words[rng.randrange(len(words))] = rng.choice(vocab)
        expected.add((src, len(texts)))
        texts.append(" ".join(words))
    bands, rows = S.bands_rows_for_threshold(0.8, 128)
    sig = S.text_signatures(texts)
    band_hashes = S.lsh_band_hashes(sig, bands, rows)
    assert band_hashes.shape == (len(texts), bands) and band_hashes.dtype == np.uint64
    pairs = S.candidate_pairs(band_hashes)
    assert pairs.shape[1] == 2 and pairs.dtype == np.int64
    assert {tuple(p) for p in pairs.tolist()} == expected
    est = S.estimate_jaccard(sig[pairs[:, 0]], sig[pairs[:, 1]])
    assert (est > 0.8).all()


def test_candidate_pairs_matches_brute_force():
    rng = np.random.default_rng(8)
    bh = rng.integers(0, 6, size=(50, 4)).astype(np.uint64)  # many collisions
    brute = {(i, j) for i in range(50) for j in range(i + 1, 50) if (bh[i] == bh[j]).any()}
    assert {tuple(p) for p in S.candidate_pairs(bh).tolist()} == brute
    assert S.candidate_pairs(np.empty((0, 4), dtype=np.uint64)).shape == (0, 2)
    assert S.candidate_pairs(bh[:1]).shape == (0, 2)


def test_giant_bucket_is_capped_to_a_star():
    bh = np.zeros((10, 3), dtype=np.uint64)
    bh[:, 1] = np.arange(10)
    assert len(S.candidate_pairs(bh)) == 45
    star = S.candidate_pairs(bh, max_bucket=4)
    assert star.tolist() == [[0, j] for j in range(1, 10)]


_DETERMINISM_SCRIPT = """
import sys
from pipeline import signatures as S
texts = ["the quick brown fox jumps over the lazy dog again and again",
         "Ünïcödé text, with punctuation; and a verylongwordthatgoesonandonforever here"]
sig = S.text_signatures(texts)
print(S.lsh_band_hashes(sig, 9, 13).tobytes().hex())
"""


def test_band_hashes_deterministic_across_processes():
    outputs = set()
    for hashseed in ("1", "2", "random"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        out = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        outputs.add(out)
    assert len(outputs) == 1


def test_algorithm_is_pinned():
    # Signatures and band hashes are persisted in the warehouse: if this
    # fails, the algorithm changed and ALGORITHM_VERSION must be bumped.
    h = S.shingle_hashes("the quick brown fox jumps over the lazy dog")
    sig = S.minhash_signatures([h], num_perm=8, seed=1)
    band = S.lsh_band_hashes(sig, 2, 4)
    assert S.ALGORITHM_VERSION == 2  # 2 changed only texts in unspaced scripts (CJK, Thai)
    assert h.tolist() == [7512802264356955082, 5971460508373239578, 4479741928403648922,
                          16483005148582694554, 5094936580953907768]
    assert sig.tolist() == [[1134841670, 2980992472, 184537300, 386406292,
                             1350239425, 974006155, 905324929, 1409794036]]
    assert band.tolist() == [[1872624913919156731, 6415520026304484900]]


def test_sorted_unique_is_np_unique():
    rng = np.random.default_rng(0)
    for a in (np.empty(0, dtype=np.uint64), np.array([7], dtype=np.uint64),
              rng.integers(0, 50, size=1000).astype(np.uint64), rng.integers(0, 2 ** 62, size=1000)):
        assert np.array_equal(S.sorted_unique(a), np.unique(a))
