import random
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import SEED
from pipeline import dedup, layout, schema
from pipeline.config import IngestConfig
from pipeline.drop import process_batch

P = dedup.DedupParams()
REAL = Path(__file__).parent / "fixtures" / "real_fold"


def words(n, seed):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(5000)]
    return [vocab[i] for i in rng.integers(0, len(vocab), n)]


def table(texts, ids=None, titles=None):
    ids = ids or [f"d{i}" for i in range(len(texts))]
    sizes, sigs, bands = dedup.fingerprint(texts, P)
    return pa.table({
        "doc_id": ids,
        "title": pa.array(titles or [None] * len(texts), pa.string()),
        "clean_sha256": [dedup.clean_sha256(t) for t in texts],
        "n_shingles": pa.array(sizes, pa.int32()),
        "n_metadata": pa.array([0] * len(texts), pa.int8()),
        "minhash": [dedup.sig_to_bytes(s) for s in sigs],
        "bands": pa.array([list(b) for b in bands], pa.list_(pa.uint64())),
    })


def relations(result):
    return {r["doc_id"]: (r["relation"], r["article_id"]) for r in result.provenance.to_pylist()}


def test_exact_near_contained_and_distinct():
    base = words(600, 1)
    edited = list(base)
    for k in range(0, 600, 100):  # change one word in every hundred
        edited[k] = "changed"
    teaser = base[:240]           # first 40 %
    other = words(600, 2)
    texts = [" ".join(x) for x in (base, base, edited, teaser, other)]
    rel = relations(dedup.assign(table(texts), P, drop_id=1))
    assert rel["d0"][0] == schema.CANONICAL
    assert rel["d1"] == (schema.EXACT_DUPLICATE, rel["d0"][1])
    assert rel["d2"] == (schema.NEAR_DUPLICATE, rel["d0"][1])
    assert rel["d3"] == (schema.CONTAINED, rel["d0"][1])
    assert rel["d4"][0] == schema.CANONICAL and rel["d4"][1] != rel["d0"][1]


def test_canonical_is_the_most_complete_copy_not_the_first_seen():
    base = words(500, 3)
    texts = [" ".join(base[:200]), " ".join(base)]
    rel = relations(dedup.assign(table(texts), P, drop_id=1))
    assert rel["d1"][0] == schema.CANONICAL
    assert rel["d0"] == (schema.CONTAINED, rel["d1"][1])


def test_which_of_two_equally_complete_copies_is_canonical_does_not_follow_their_doc_ids():
    # A and B: near-identical, the same number of shingles and of metadata; the teaser T is
    # inside B only. Whichever of A and B is visited first is canonical, and T folds into the
    # article only if that is B. A doc_id hashes the path: the same files in another folder
    # must still fold alike (the 100,000 generated files gave 73,852 or 73,851 articles).
    shared, only_a, only_b = ([f"{kind}{i}" for i in range(n)] for kind, n in (("s", 300), ("a", 60), ("b", 60)))
    texts = [" ".join(only_a + shared), " ".join(only_b + shared), " ".join(only_b + shared[:60])]

    def groups(ids):
        rel = relations(dedup.assign(table(texts, ids=ids), P, drop_id=1))
        by_article = {}
        for k, doc_id in enumerate(ids):
            by_article.setdefault(rel[doc_id][1], set()).add(k)
        return sorted(sorted(g) for g in by_article.values())

    assert len(set(dedup.fingerprint(texts[:2], P)[0])) == 1   # A and B tie on size
    assert groups(["p", "q", "r"]) == groups(["q", "p", "r"])


def test_no_chaining_through_a_middle_document():
    # A and C share nothing; B is half A, half C. B may join one of them, never both into one cluster.
    a, c = words(400, 4), words(400, 5)
    b = a[:200] + c[200:]
    rel = relations(dedup.assign(table([" ".join(a), " ".join(b), " ".join(c)]), P, drop_id=1))
    assert rel["d0"][1] != rel["d2"][1]


def test_a_longer_version_that_holds_the_original_is_the_same_article():
    # news people's view: the original plus as much again (an update) is the same article,
    # whatever its headline; the longer version is the canonical copy
    original = words(500, 6)
    update = original + words(500, 7)
    texts = [" ".join(x) for x in (original, update)]
    rel = relations(dedup.assign(table(texts, titles=["Three held", "Update: five held after raid"]), P, drop_id=1))
    assert rel["d1"][0] == schema.CANONICAL
    assert rel["d0"] == (schema.CONTAINED, rel["d1"][1])


def test_seeds_000_and_002_share_quotes_but_stay_apart():
    processed = process_batch([SEED["000"], SEED["002"]], IngestConfig(dedup=P))
    rel = relations(dedup.assign(processed, P, drop_id=1))
    assert {r for r, _ in rel.values()} == {schema.CANONICAL}
    sigs = [dedup.sig_from_bytes(b) for b in processed.column("minhash").to_pylist()]
    j, _, _ = dedup.compare(sigs[0], sigs[1])
    assert j < 0.3


def test_params_validate_bands_rows():
    with pytest.raises(ValueError, match="must equal num_perm"):
        dedup.DedupParams(num_perm=128, bands=20, rows=5)


def test_article_ids_are_reproducible():
    texts = [" ".join(words(300, 9))]
    a = dedup.assign(table(texts), P, drop_id=1)
    b = dedup.assign(table(texts, ids=["other"]), P, drop_id=7)
    assert a.new_articles.keys() == b.new_articles.keys()


def test_containment_of_a_short_teaser_is_exact_when_wholly_inside():
    # a teaser a fifth of its article: from J and the set sizes the estimate wanders by
    # +-0.1 and often falls under the 0.8 threshold; from the minima it is exactly 1
    for seed in range(20):
        article = words(1000, 100 + seed)
        sizes, sigs, _ = dedup.fingerprint([" ".join(article[:200]), " ".join(article)], P)
        j, teaser_in_article, article_in_teaser = dedup.compare(sigs[0], sigs[1])
        assert teaser_in_article == 1.0
        assert 0.1 < j < 0.35 and 0.1 < article_in_teaser < 0.35


def test_params_validate_lead_windows_and_common_df():
    with pytest.raises(ValueError, match="lead_windows"):
        dedup.DedupParams(lead_windows=0)
    with pytest.raises(ValueError, match="common_df"):
        dedup.DedupParams(common_df=-1)


def test_sentence_starts_skip_a_caption_and_its_credit():
    text = ("England's Jo Bloggs will captain the side against Ireland next month (Joe Giddens/PA) "
            "Jo Bloggs is set to become the youngest captain. He said it was an honour on Dec. 31 last year.\nNext")
    found = dedup.sentence_starts(text, 5, 1500)
    words_ = re.findall(r"\w+", text)
    assert [words_[k] if k < len(words_) else None for k in found][:2] == ["Jo", "He"]
    assert len(found) == 3  # "Dec. 31" is no sentence start; the line break is


_READABLE_SENTENCE_BREAK = re.compile(r"(?:[.!?][\"'”’)\]]*|\))[ \t]+(?=[\"“‘']?[A-ZÀ-ÖØ-ÞА-ЯЁ])|\n+")


def _sentence_starts_listing_every_word(text: str, n: int, reach: int) -> list[int]:
    """dedup.sentence_starts as it was before issue #14: every word start of the head listed."""
    import bisect

    head = text[:reach]
    word_starts = [m.start() for m in re.finditer(r"\w+", head)]
    found: list[int] = []
    for m in _READABLE_SENTENCE_BREAK.finditer(head):
        k = bisect.bisect_left(word_starts, m.end())
        if k < len(word_starts) and k > (found[-1] if found else 0):
            found.append(k)
            if len(found) == n:
                break
    return found if n > 0 else []


def test_sentence_starts_counting_by_stretches_is_listing_every_word():
    rnd = random.Random(3)
    pieces = ["A", "b", "É", "x_y", ". ", "! ", "? ", ".) ", ") ", ")", ".", "\n", "\n\n", " ", "\t", '"', "“", "’",
              "‘", "]", "'", "Й", "Я", "3"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 60))) for _ in range(3000)]
    texts += [(SEED["004"].read_text(encoding="utf-8"))]
    for t in texts:
        assert ([m.span() for m in dedup._SENTENCE_BREAK.finditer(t)]
                == [m.span() for m in _READABLE_SENTENCE_BREAK.finditer(t)]), t
        for n, reach in ((3, 1500), (1, 10), (0, 5), (6, 40)):
            assert dedup.sentence_starts(t, n, reach) == _sentence_starts_listing_every_word(t, n, reach), (t, n)


def test_common_content_decides_nothing():
    # ten unrelated documents share one long block (a site's headline list that cleaning missed):
    # plain MinHash calls any two of them near duplicates; without the block they share nothing
    n = P.common_df + 2
    block = words(700, 50)
    texts = [" ".join(block + words(300, 60 + k)) for k in range(n)]
    off = dedup.assign(table(texts), replace(P, common_df=0), drop_id=1)
    assert len(off.new_articles) < n
    on = dedup.assign(table(texts), P, drop_id=1)
    assert len(on.new_articles) == n
    # a real copy among them still folds: its distinctive content matches
    texts.append(texts[0] + " " + " ".join(words(20, 99)))
    rel = relations(dedup.assign(table(texts), P, drop_id=1))
    assert rel[f"d{n}"][1] == rel["d0"][1] and rel["d0"][1] != rel["d1"][1]


def test_copies_of_one_story_count_once_in_the_document_frequency():
    # a dozen near-identical copies of a wire story (each with its own short tail) must not make
    # the story's own text common content
    story = words(600, 70)
    texts = [" ".join(story + words(15, 80 + k)) for k in range(12)]
    result = dedup.assign(table(texts), P, drop_id=1)
    assert len(result.new_articles) == 1
    m = dedup.drop_minima(table(texts), P)
    assert len(set(m.family.tolist())) == 1 and max(counts.max() for _, counts in _position_counts(m)) == 1


def test_drop_minima_counts_families_per_key():
    base = words(400, 90)
    texts = [" ".join(base), " ".join(base), " ".join(words(400, 91))]
    m = dedup.drop_minima(table(texts), P)
    assert m.family[0] == m.family[1] != m.family[2]
    found = _position_counts(m)
    assert max(counts.max() for _, counts in found) <= 2 and all(len(values) >= 1 for values, _ in found)


def _position_counts(m):
    return [dedup.position_counts(m.sigs[:, p], m.family) for p in range(P.num_perm)]


# --- real pages (tests/fixtures/real_fold, see its README) ---------------------------------

def _real(*names):
    return [REAL / n for n in names]


def test_real_trimmed_wire_copy_under_another_headline_is_contained():
    processed = process_batch(_real("wire_full_sport24.txt", "wire_trimmed_malaymail.txt"), IngestConfig(dedup=P))
    rel = relations(dedup.assign(processed, P, drop_id=1))
    ids = processed.column("doc_id").to_pylist()
    assert rel[ids[0]][0] == schema.CANONICAL
    assert rel[ids[1]] == (schema.CONTAINED, rel[ids[0]][1])


def test_real_caption_led_copy_folds_through_the_lead_windows():
    files = _real("caption_led_wapo.txt", "caption_led_nytimes.txt")
    processed = process_batch(files, IngestConfig(dedup=P))
    ids = processed.column("doc_id").to_pylist()
    rel = relations(dedup.assign(processed, P, drop_id=1))
    assert rel[ids[1]] == (schema.CONTAINED, rel[ids[0]][1])
    # with the lead taken at the text's start only, the caption hides the story's lead
    one = replace(P, lead_windows=1)
    rel = relations(dedup.assign(process_batch(files, IngestConfig(dedup=one)), one, drop_id=1))
    assert rel[ids[1]][1] != rel[ids[0]][1]


def test_real_pages_of_one_site_stay_apart_when_cleaning_misses_their_headline_block(monkeypatch):
    from pipeline import chrome

    # "whether or not cleaning caught them": the chrome stage off, the block stays in the text
    monkeypatch.setattr(chrome, "strip_batch", lambda docs, known=None, **thresholds: {})
    # and the main-body-block rule of the clean stage, which catches this block on one page
    monkeypatch.setattr(layout, "main_block", lambda paragraphs, body=None, words=None: None)
    files = sorted((REAL / "site_pages").glob("*.txt"))
    processed = process_batch(files, IngestConfig(dedup=P))
    assert len(dedup.assign(processed, replace(P, common_df=0), drop_id=1).new_articles) < len(files)
    assert len(dedup.assign(processed, P, drop_id=1).new_articles) == len(files)


def _drop(wh_path, files, drop_id, tmp_path):
    """One drop through the pure stages and the real commit (no Prefect)."""
    from pipeline.drop import stage_batch
    from pipeline.plan import plan_drop
    from pipeline.warehouse import Warehouse

    staged = tmp_path / f"staging{drop_id}" / "batch-0.parquet"
    stage_batch(files, IngestConfig(dedup=P), staged)
    with Warehouse(wh_path) as wh:
        plan = plan_drop([staged], wh, P, drop_id)
        wh.commit_drop(drop_id, plan.tables, plan.relation_updates, plan.staged)
        return plan, dict(wh.sql("SELECT p.doc_id, p.article_id FROM provenance p WHERE drop_id = ?",
                                 [drop_id]).fetchall())


def test_the_warehouse_remembers_common_content_for_a_small_later_drop(tmp_path, monkeypatch):
    from pipeline import chrome

    monkeypatch.setattr(chrome, "strip_batch", lambda docs, known=None, **thresholds: {})
    monkeypatch.setattr(layout, "main_block", lambda paragraphs, body=None, words=None: None)  # as in the test above
    pages = sorted((REAL / "site_pages").glob("*.txt"))
    pair = [p for p in pages if p.stem in ("7433ca33b695682d", "ed9594d2018b9d49")]
    rest = [p for p in pages if p not in pair]
    # two pages of the site alone: their shared headline block looks like a copy
    _, alone = _drop(tmp_path / "alone", pair, 1, tmp_path)
    assert len(set(alone.values())) == 1
    # after a drop of eight other pages of the site, the warehouse knows the block
    plan, first = _drop(tmp_path / "wh", rest, 1, tmp_path)
    assert len(set(first.values())) == len(rest) and plan.tables["minima_df"].num_rows > 0
    _, later = _drop(tmp_path / "wh", pair, 2, tmp_path)
    assert len(set(later.values())) == 2


def test_a_short_sliver_of_site_chrome_does_not_fold_by_containment_alone():
    # mashable.com: cleaning once cut a page down to the site's 70-word blurb, which every
    # page of the site that keeps its footer holds: the sliver was `contained` in another
    # mashable article (Jaccard 0.41, containment 1.0). Too short to fold by containment alone.
    sliver = (REAL / "sliver_mashable_blurb.txt").read_text(encoding="utf-8")
    page = (REAL / "sliver_mashable_page.txt").read_text(encoding="utf-8")
    sizes, sigs, _ = dedup.fingerprint([sliver, page], P)
    assert sizes[0] < dedup.MIN_CONTAINED_SHINGLES <= sizes[1]
    assert 0.8 * sizes[1] < dedup.estimated_size(sigs[1]) < 1.2 * sizes[1]
    j, sliver_in_page, page_in_sliver = dedup.compare(sigs[0], sigs[1])
    assert j < P.jaccard_threshold and sliver_in_page == 0.0
    result = dedup.assign(table([page, sliver]), P, drop_id=1)
    assert len(result.new_articles) == 2
    # a longer real copy that the story holds still folds by containment (the trimmed AFP copy)
    full = (REAL / "wire_full_sport24.txt").read_text(encoding="utf-8")
    trimmed = (REAL / "wire_trimmed_malaymail.txt").read_text(encoding="utf-8")
    _, sigs, _ = dedup.fingerprint([trimmed, full], P)
    assert dedup.estimated_size(sigs[0]) >= dedup.MIN_CONTAINED_SHINGLES


# --- common content, one signature position at a time ---------------------------------------
# Reference: the whole-matrix computation the per-position code replaced (at a million
# documents it held 128 million keys and their sorts at once).

def _whole_matrix_counts(sigs, family):
    keys = dedup.minima_keys(sigs)
    pairs = {(int(k), int(f)) for row, f in zip(keys, family) for k in row}
    counts = {}
    for k, _ in pairs:
        counts[k] = counts.get(k, 0) + 1
    return counts


def _small_random_drop(seed, n=60, k=16, values=12):
    rng = np.random.default_rng(seed)
    # few distinct values per position, so keys are shared across documents and families
    sigs = rng.integers(0, values, size=(n, k)).astype(np.uint32)
    family = rng.integers(0, n // 3, size=n).astype(np.int64)
    return sigs, family


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_common_minima_per_position_equal_the_whole_matrix_count(seed):
    sigs, family = _small_random_drop(seed)
    params = dedup.DedupParams(num_perm=16, bands=4, rows=4, common_df=4)
    known_keys = np.array([(3 << 32) | 5, (7 << 32) | 40, (0 << 32) | 1], dtype=np.uint64)  # 40: not in the drop
    known = dedup.KnownMinima(known_keys, np.array([2, 6, 1]))
    counts = _whole_matrix_counts(sigs, family)
    for key, n in zip(known_keys.tolist(), [2, 6, 1]):
        counts[key] = counts.get(key, 0) + n
    expected = sorted(k for k, c in counts.items() if c >= params.common_df)
    assert dedup.common_minima(sigs, family, known, params).tolist() == expected
    common = np.array(expected, dtype=np.uint64)
    assert (dedup.is_common(sigs, common) == np.isin(dedup.minima_keys(sigs), common)).all()


def test_minima_to_keep_counts_kept_families_and_the_warehouse():
    sigs, family = _small_random_drop(3)
    minima = dedup.DropMinima(sigs, family, np.empty((0, 2), dtype=np.int64))
    from_warehouse = family == family[0]           # that story is counted in the warehouse already
    known = dedup.KnownMinima(np.array([(2 << 32) | 11], dtype=np.uint64), np.array([1]))
    keys, counts = dedup.minima_to_keep(minima, known, from_warehouse)
    keep = family != family[0]
    drop_counts = _whole_matrix_counts(sigs[keep], family[keep])
    total = {k: c + (1 if k == (2 << 32) | 11 else 0) for k, c in drop_counts.items()}
    expected = sorted(k for k, c in total.items() if c >= 2)
    assert keys.tolist() == expected
    assert counts.tolist() == [drop_counts[k] for k in expected]


def test_warehouse_minima_are_asked_a_few_positions_at_a_time(monkeypatch):
    sigs, _ = _small_random_drop(4, n=50, k=16)
    article_sigs, _ = _small_random_drop(5, n=5, k=16)
    stored = {int(k): 3 for k in dedup.minima_keys(sigs)[::7].reshape(-1)}
    asked = []

    def counts_of(keys):
        asked.append(len(keys))
        hits = [k for k in keys.tolist() if k in stored]
        return np.array(hits, dtype=np.uint64), np.array([stored[k] for k in hits], dtype=np.int64)

    monkeypatch.setattr(dedup, "POSITION_CHUNK_KEYS", 220)   # 4 positions of 55 signatures per question
    known = dedup.look_up_minima([sigs, article_sigs], counts_of)
    assert len(asked) == 4 and max(asked) <= 4 * 55
    assert dict(zip(known.keys.tolist(), known.counts.tolist())) == stored

