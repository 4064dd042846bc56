"""Page layout without a DOM: where a page's article lies among its paragraphs.

Which paragraphs are article text (`is_body`), the page's main body block (`main_block`:
the run of paragraphs with the largest summed weight, so a headline list, a ticker or a
footer of links between body-like teasers is not crossed), which line is the headline
(`headline_index`, `_headline_by_lead`), and where a closing list of headlines begins.
The clean stage removes what lies outside (pipeline/clean.py); the chrome stage uses
the same measures to find a page's headline and body (pipeline/chrome.py).

Title: the headline-like line right above the byline or date line (skipping photo
credits and prompts), else the first headline-like line above the body. Lines that
only look like headlines are never the title: newsletter prompts and sources ("From
the ... newsletter"), promoted other stories ("Latest news: ..."), and e-mail subject
lines ("Fwd: ..."), whose text is the title only when the page shows no headline. On a page
flattened onto one line the headline is glued to other text (see _find_title): shown twice above
the body, glued in front of its byline or date, opening the body's first sentence, or else the
stretch above the body that names the lead the most.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Doc, Unit
from .patterns import (BIO_ROLE, BYLINE, BYLINE_WORD, CALL_TO_ACTION, DATE_TOKEN, EMAIL_SUBJECT, NEWSLETTER_SOURCE, PROMO,
                       comments_heading, comments_heading_inside, date_line, legal_footer, login_box, noted_words, photo_credit, plea, related_heading_inside,
                       TRUNCATED, ticker, EMBEDDED_POST_CREDIT)
from .text import capitalised_share, ends_sentence, word_count

MIN_TRAILING_HEADLINES = 3  # headline-like lines closing a page that make a related-links block
MENU_CAPITALS = 0.5     # share of capitalised words above which a long line without a sentence end is a menu
MENU_RUN_WORDS = 30     # words from which a line ending a sentence is still a menu if mostly capitalised
BODY_COST = 8           # words a body paragraph needs to add to the main body block (one-sentence teasers add little)
GAP_COST = 3            # words a non-body line costs the main body block beyond its own (main_block)
TITLE_WINDOW = 12       # paragraphs above the main body block in which the headline is looked for
BODY_MIN_WORDS = 10     # words a paragraph of article text has at least (is_body)
# A line of under 20 words whose words nearly all start with a capital is a headline in
# title case ("He Visited This Gas Station And Was Shocked."), never body text, even when it
# ends in a full stop: prose full of names still has its verbs and articles in lower case.
TITLE_CASE = 0.8
# A paragraph adds at most this many words to the main body block: an article is many
# paragraphs, while a site's blurb, a disclaimer or a glued-on list of headlines that
# stands alone between menus is one long one, which must not outweigh the article.
BODY_CAP = 40
# A sentence cut from a page flattened onto one line of SHORT_SENTENCE_WORDS or more, mostly in
# lower case ("Learn it.", "The verdict?"), is prose, not a label: it weighs nothing, like a
# longer short sentence, instead of cutting an article of punchy sentences in two.
SHORT_SENTENCE_WORDS = 2
# ... and one of TITLE_RUN_WORDS or more space-separated words in title case (TITLE_CASE) that
# ends in "!", "?" or no full stop is headlines and labels glued together ("[via Buzzfeed] Filed
# Under: AUX, Serial, ... Comments More Great Job, Internet!"): it costs like a menu. (One ending
# in a full stop may be German prose, whose nouns are capitalised: "Zwei Männer Arm in Arm.";
# words are counted by spaces, as a Japanese sentence has few and its digits count as capitals.)
TITLE_RUN_WORDS = 10
# A "sentence" cut from a page flattened onto one line that runs past this many words, with
# more than GLUED_CAPITALS of them capitalised (English prose ~0.15), is no sentence but
# menus, headline lists and teasers glued together until the next full stop: it counts like
# a menu, not like article text. (A press release's run-on sentence stays prose: few capitals.)
GLUED_SENTENCE_WORDS = 100
GLUED_CAPITALS = 0.25
# Lines a body line ending in ":" announces ("The rankings were as follows:", "Here is the
# calendar:") are the article's list while their first words have one shape ("1.", "2."
# or "Jan. 1-3:", "Jan. 14-19:"): each adds this much instead of costing like a menu line.
LIST_ITEM_WEIGHT = 1
# On a page flattened onto one line such a list has no line breaks: its items are cut where the
# abbreviation leading each one ends a "sentence" ("... attendees: Jan." | "1-3: UAH ... 200 Jan."
# | "14-19: ..."), so each item ends in the announced abbreviation. The list lasts while that
# abbreviation (at most ITEM_ABBREVIATION letters and a dot) ends a sentence again within
# ITEM_GAP sentences (an item the splitter cut in two, "U.S.").
ITEM_ABBREVIATION = 4
ITEM_GAP = 3
# A sentence cut from a page flattened onto one line that breaks off ("... with sweeping...",
# TRUNCATED) within this many words is a teaser's excerpt of another story; a longer one is
# the article's own text ending in a quote that trails off (a news text sent as one line, whose
# sentences run on past a quote's «...»: a Russian wire copy in toloka_pairs lost its lead).
TEASER_WORDS = 100
# A short label a page repeats (MIN_LABEL_REPEATS times or more, at most LABEL_WORDS words) closes
# each teaser of a list ("Mehr…", "Read more »"): an article does not repeat a label, so each
# costs REPEATED_LABEL_COST more, which a list of teasers between them cannot make up.
LABEL_WORDS = 3
MIN_LABEL_REPEATS = 3
REPEATED_LABEL_COST = 20
# A related-links heading glued into a sentence of a page flattened onto one line ends the main
# body block once the block weighs this much: the headline-and-teaser pairs under it look like
# article text. (A box of related links inside the article's first paragraphs does not end it.)
RELATED_BREAK_WEIGHT = 40
# So does a live ticker glued after the article (a sentence holding this many timed headlines,
# "Direct 14:44 Accusations ... 14:32 Un artiste ... 13:54 En Islande ..."): its entries with
# prose of their own would join the block. (Two are also a video list's box above an article,
# whose block already weighs 40 with that box: clarin.com.)
TICKER_BREAK_HEADLINES = 3


def _item_shape(text: str) -> str | None:
    """A list item's shape: "0" for an item led by a number, else its first word (None
    for a one-word line, which is a label, not an item)."""
    first, _, rest = text.partition(" ")
    if not rest:
        return None
    return "0" if first[:1].isdigit() else first.casefold()


def _glued_list_items(paragraphs: list[Unit]) -> set[int]:
    """Sentences of a page flattened onto one line that are items of a list a body sentence
    announces with its last words ("...: Jan."), see ITEM_ABBREVIATION."""
    items: set[int] = set()
    i = 0
    while i < len(paragraphs):
        u = paragraphs[i]
        i += 1
        if not u.sentence:  # most paragraphs: the cheap test first
            continue
        head, colon, label = u.text.rpartition(": ")
        if not (colon and " " not in label and label.endswith(".")
                and 1 < len(label) <= ITEM_ABBREVIATION + 1 and label[:1].isupper()
                and word_count(head) >= 10 and body_weight(u.text, True) >= 0):
            continue
        last = i - 1  # the last sentence that ends in the label
        while i < len(paragraphs) and i - last <= ITEM_GAP and paragraphs[i].sentence:
            if paragraphs[i].text.endswith(" " + label):
                items.update(range(last + 1, i + 1))
                last = i
            i += 1
        i = last + 1
    return items


def _embedded_posts(paragraphs: list[Unit]) -> set[int]:
    """The lines of the posts an article embeds, as a scraper flattens them: a credit line
    ("— Fiona Kelly (@fizzlekelly) December 22, 2014", EMBEDDED_POST_CREDIT) and the post's
    text right above it. They sit between the article's paragraphs and cost it nothing (a
    tweet's text is often no sentence: "#poweroutage #Stansted pic.twitter.com/…")."""
    posts: set[int] = set()
    for i, u in enumerate(paragraphs):
        # the length first: a substring search of every long paragraph cost more than the regex saves
        if not u.sentence and len(u.text) <= 120 and "(@" in u.text and EMBEDDED_POST_CREDIT.match(u.text):
            posts.update((i - 1, i) if i else (i,))
    return posts


def is_body(text: str, words: int = -1) -> bool:
    """A paragraph of article text: 20 words, or 10 ending a sentence; never a long line of
    capitalised items that ends no sentence (a menu, a list of headlines run together), nor
    a short one in title case (a headline, see TITLE_CASE). words: word_count(text), if known."""
    words = word_count(text) if words < 0 else words
    if words < BODY_MIN_WORDS or PROMO.match(text):  # the cheap test first: most lines of a page are short
        return False
    if words >= 20:
        return ends_sentence(text) or capitalised_share(text) <= MENU_CAPITALS
    # a headline in title case is no body text, even when it ends in a full stop
    return ends_sentence(text) and capitalised_share(text) <= TITLE_CASE


def body_weight(text: str, sentence: bool = False, body: bool | None = None, words: int = -1) -> int:
    """What a paragraph adds to the body block around it (see main_block): its words if it
    is article text, nothing if it is a short sentence, minus its words and GAP_COST if it
    is anything else (a label, a headline, a menu). sentence: cut from a flattened page;
    body: is_body(text), words: word_count(text), if known."""
    words = word_count(text) if words < 0 else words
    body = is_body(text) if body is None else body
    if words <= 60 and noted_words(text) and (legal_footer(text) or (words <= 40 and plea(text)) or login_box(text)):
        return -(words + GAP_COST)  # a legal footer, a plea or a sign-in box: body-like, never the body
    # a sentence rich in names is prose; a long run of capitalised items that ends in a
    # sentence (menu and headlines glued to it on a flattened page) is not
    menu = sentence and (words > GLUED_SENTENCE_WORDS and capitalised_share(text) > GLUED_CAPITALS
                         or words >= MENU_RUN_WORDS and capitalised_share(text) > MENU_CAPITALS
                         or text.count(" ") >= TITLE_RUN_WORDS - 1 and not text.endswith(".")
                         and capitalised_share(text) > TITLE_CASE
                         or ticker(text) or (words <= TEASER_WORDS and bool(TRUNCATED.search(text))))
    if body and not menu:
        return min(words, BODY_CAP) - BODY_COST
    if ends_sentence(text) and not menu and (words >= 4 or sentence and words >= SHORT_SENTENCE_WORDS
                                             and capitalised_share(text) <= MENU_CAPITALS):
        # ... but not a short "sentence" of a flattened page whose every word is capitalised: a
        # byline or a label cut at an abbreviation ("Ryanne Laratonda | Posted Feb.")
        return -(words + GAP_COST) if sentence and capitalised_share(text) == 1.0 else 0
    return -(words + GAP_COST)


def repeated_labels(paragraphs: list[Unit]) -> set[str]:
    """Short labels (at most LABEL_WORDS words, no body text) that a page flattened onto one line
    repeats at least MIN_LABEL_REPEATS times: the "More…" or "Read more" after each teaser of a
    list. (A page with a line per block repeats labels inside its article too: "Advertisement",
    a photo credit; its lines keep their weights.)"""
    counts: dict[str, int] = {}
    for u in paragraphs:
        if u.sentence and len(u.text) <= 40 and u.text.count(" ") < LABEL_WORDS:
            counts[u.text] = counts.get(u.text, 0) + 1
    return {text for text, n in counts.items() if n >= MIN_LABEL_REPEATS and not is_body(text)}


def main_block(paragraphs: list[Unit], body: list[bool] | None = None,
               words: list[int] | None = None) -> tuple[int, int] | None:
    """First and last paragraph of the page's main body block: the run of paragraphs with
    the largest summed body_weight (Kadane's maximum subarray). Article text gains, every
    other line costs, so a subheading or a caption inside the article is crossed, but a
    block of headlines, a ticker or a footer of links is not, and the body-like text beyond
    it (teasers of other stories, a site blurb, a cookie notice) stays outside. The items of
    a list the article announces (a body line ending in ":") count as article text while
    they keep the first item's shape (see LIST_ITEM_WEIGHT). The block ends at the heading of
    the readers' comments (COMMENTS_HEADING) once it holds something: comments are body-like
    paragraphs between short labels, which the weights alone would join to the article. On a
    page flattened onto one line it also ends at a related-links heading or a live ticker glued
    into a sentence (see RELATED_BREAK_WEIGHT), and a label the page repeats costs more (see repeated_labels);
    an embedded post (its text and credit line, see _embedded_posts) costs nothing;
    its block takes in the short sentences (weight 0) that follow it, as long as no line costs:
    an article cut into sentences ends in some ("It's about your health, it's important."),
    but not in an author's bio (BIO_ROLE), which the clean stage removes there.
    body, words: is_body and word_count of each paragraph, if known (see page_layout)."""
    best, best_at, run, run_start = 0, None, 0, 0
    list_shape, announced = None, False  # the shape of the items a line ending in ":" announced
    repeated = repeated_labels(paragraphs)
    glued_items = _glued_list_items(paragraphs)
    posts = _embedded_posts(paragraphs)
    for i, u in enumerate(paragraphs):
        if u.sentence and best_at is not None and comments_heading_inside(u.text):
            break  # the same, glued into a sentence of a page flattened onto one line
        if u.sentence and best >= RELATED_BREAK_WEIGHT and (related_heading_inside(u.text)
                                                          or ticker(u.text, TICKER_BREAK_HEADLINES)):
            break  # a related-links block follows an article (a box inside it holds no article yet)
        w = body_weight(u.text, u.sentence, None if body is None else body[i], -1 if words is None else words[i])
        if u.text in repeated:
            w -= REPEATED_LABEL_COST
        if i in glued_items:
            w = max(w, LIST_ITEM_WEIGHT)
        elif i in posts:
            w = max(w, 0)
        if w < 0 and not u.sentence:
            if best_at is not None and len(u.text) <= 80 and comments_heading(u.text):
                break  # the readers' comments follow the article: the block ends before them
            if announced or list_shape is not None:
                shape = _item_shape(u.text)
                if announced:
                    list_shape, announced = shape, False
                if shape is not None and shape == list_shape:
                    w = LIST_ITEM_WEIGHT
                else:
                    list_shape = None
        else:
            list_shape = None
            announced = u.text.endswith(":") and w >= 0 and (word_count(u.text) if words is None else words[i]) >= 4
        if run <= 0:
            run, run_start = 0, i
        run += w
        if run > best or (run == best and u.sentence and best_at is not None and best_at[0] == run_start
                          and not BIO_ROLE.match(u.text)):
            best, best_at = run, (run_start, i)
    return best_at


def byline_name(text: str) -> str | None:
    m = BYLINE.match(text)
    if not m:
        return None
    name = re.split(r"\s*(?:[|,;·•]|\s-\s|\bfor\b|\band\b(?=.*\bfor\b))\s*", m.group(1))[0].strip(" .")
    words = name.split()
    if not 1 <= len(words) <= 5 or not all(w[:1].isupper() for w in words if w.lower() not in {"de", "van", "von", "da", "al", "bin"}):
        return None
    return name


def headline_like(text: str, above_byline: bool = False) -> bool:
    """3-30 words, mostly words (a market ticker is not a headline), and no closing full
    stop, unless the line sits right above the byline, where a headline may end in an
    abbreviation ("... from Quinora Textiles Inc."). Never a newsletter prompt, a promoted
    other story ("Latest news: ...") or an e-mail subject line ("Fwd: ...")."""
    tokens = text.split()
    wordy = sum(1 for t in tokens if t[:1].isalpha())
    return (3 <= len(tokens) <= 30 and wordy >= 0.7 * len(tokens)
            and (above_byline or not ends_sentence(text.rstrip("!?"))) and not _prompt(text))


def _prompt(text: str) -> bool:
    """A line that reads like a headline but points elsewhere: a newsletter prompt or
    source, a promoted other story, an e-mail subject line."""
    return bool(plea(text) or NEWSLETTER_SOURCE.match(text) or PROMO.match(text)
                or EMAIL_SUBJECT.match(text) or CALL_TO_ACTION.match(text))


def headline_index(paragraphs: list[Unit], first_body: int | None = None) -> int | None:
    """The headline sits right above the byline or date line: pages put promos, tickers
    and "Latest news: ..." lines above it, so the first headline-like line is often not it."""
    def meta(text: str) -> bool:
        return bool(byline_name(text) or (text.count(" ") < 14 and date_line(text)))

    for i in range(len(paragraphs) if first_body is None else min(first_body, len(paragraphs))):
        if meta(paragraphs[i].text):
            j = i - 1  # skip a photo credit, a prompt or a second metadata line between headline and byline
            while j >= 0 and (photo_credit(paragraphs[j].text) or _prompt(paragraphs[j].text)
                              or meta(paragraphs[j].text)):
                j -= 1
            return j if j >= 0 and headline_like(paragraphs[j].text, above_byline=True) else None
    return None


def _headline_above(paragraphs: list[Unit], top: int, first_body: int) -> int | None:
    """A page without byline or date line: the headline is the nearest headline-like line
    above the body that is neither a byline the date is glued to ("By Ann Lee2015-01-01")
    nor a photo caption (a line followed by a credit); when the
    line right above it is headline-like too, shorter and of 4 words or more, that one is
    the headline and this one its standfirst."""
    for i in range(first_body - 1, top - 1, -1):
        text = paragraphs[i].text
        if not headline_like(text) or BYLINE.match(text) or (
                i + 1 < len(paragraphs) and photo_credit(paragraphs[i + 1].text)):
            continue
        while i > top and headline_like(up := paragraphs[i - 1].text) and \
                4 <= word_count(up) < word_count(paragraphs[i].text):
            i -= 1
        return i
    return None


# Title of a page without a DOM: the headline-like line, within LEAD_TITLE_WINDOW paragraphs
# above the main body block, that shares the most words of 4+ letters (at least
# MIN_LEAD_OVERLAP) with the block's first LEAD_WORDS words (see _headline_by_lead).
LEAD_TITLE_WINDOW = 25
LEAD_WORDS = 120
MIN_LEAD_OVERLAP = 2
_CONTENT_WORD = re.compile(r"\w{4,}")
# A sentence ending inside a line ("... can see it. Are you sure?"): a notice, not a headline
# (a lower-case word before the stop, so "U.S. Army" and "Mr. Smith" are no sentence end).
_TWO_SENTENCES = re.compile(r"[a-z]{2}[.!?][\"'”’]? [\"'“‘]?[A-Z]")


def _content_words_of(text: str) -> set[str]:
    return set(_CONTENT_WORD.findall(text.casefold()))


def _lead_overlap(text: str, lead: set[str]) -> int:
    return len(_content_words_of(text) & lead)


def _lead_words(paragraphs: list[Unit], first_body: int, body_idx: list[int]) -> set[str]:
    """The words of 4+ letters of the article's lead: its first LEAD_WORDS words."""
    lead: set[str] = set()
    n = 0
    for i in body_idx:
        if i < first_body:
            continue
        text = paragraphs[i].text
        lead.update(_CONTENT_WORD.findall(text.casefold()))
        n += word_count(text)
        if n >= LEAD_WORDS:
            break
    return lead


# A page flattened onto one line glues its headline between the menus above it and the lead
# below: the headline is then the stretch of at most GLUED_TITLE_WORDS words, above the
# body, that starts and ends in a word of the lead and holds the most of them (at least
# MIN_GLUED_OVERLAP).
GLUED_TITLE_WORDS = 20
MIN_GLUED_OVERLAP = 3


def _headline_in_glued_text(paragraphs: list[Unit], top: int, first_body: int,
                            lead: set[str]) -> tuple[int, str] | None:
    """(paragraph, headline) for a page flattened onto one line; the nearest best wins."""
    best, best_at = MIN_GLUED_OVERLAP - 1, None
    for i in range(first_body - 1, top - 1, -1):
        tokens = paragraphs[i].text.split(" ")
        named = [(k, _content_words_of(t) & lead) for k, t in enumerate(tokens)]
        named = [(k, words) for k, words in named if words]
        bylines = _byline_starts(tokens)
        for a, (start, _) in enumerate(named):
            shared: set[str] = set()
            stop = next((k for k in bylines if k > start), len(tokens))
            for end, words in named[a:]:
                if end - start >= GLUED_TITLE_WORDS or end >= stop:
                    break
                shared |= words
                if len(shared) > best:
                    best, best_at = len(shared), (i, " ".join(tokens[_headline_first(tokens, start):end + 1]))
    return best_at


def _byline_starts(tokens: list[str]) -> list[int]:
    """Where a byline ("By Ann Lee") starts among a glued text's tokens: it ends the headline before it."""
    return [k for k in range(len(tokens) - 1) if tokens[k] in ("By", "by") and tokens[k + 1][:1].isupper()]


def _headline_first(tokens: list[str], start: int) -> int:
    """The first token of a headline whose first word of the lead is tokens[start]: the short
    capitalised word before it, if any (see _short_capitalised)."""
    return start - 1 if start > 0 and _short_capitalised(tokens[start - 1]) else start


# ... or the headline opens the body's first "sentence" itself, with no full stop after it: between
# the page's last chrome and the standfirst, byline or lead ("La agenda con que Interior busca
# ... del oficialismo Isabel Caro, Rocío Latorre ... Hace 13 horas ..."). It is then the first
# stretch of that sentence that names the rest of the lead (the words of the sentences after it):
# it starts with a capital at a word of the lead and stops right before a capital or a byline,
# where the next block of the page begins, within GLUED_TITLE_WORDS words; the sentence's own
# text goes on for at least OPENING_REST_WORDS words after it.
OPENING_REST_WORDS = 10
# It beats a headline guessed in the glued text above the body only when it names OPENING_MARGIN
# more words of the lead: the lead's own first words name the rest of it too.
OPENING_MARGIN = 2


def _headline_opening_body(text: str, lead: set[str]) -> tuple[int, str] | None:
    """(lead words named, headline) for the body's first paragraph of a page flattened onto one
    line, see OPENING_REST_WORDS; of the stretches from one start, the one naming the most wins."""
    tokens = text.split(" ")
    named = [(k, _content_words_of(t) & lead) for k, t in enumerate(tokens)]
    named = [(k, words) for k, words in named if words]
    best, best_at = MIN_GLUED_OVERLAP - 1, None
    bylines = _byline_starts(tokens)
    for a, (start, _) in enumerate(named):
        first = _headline_first(tokens, start)
        if not tokens[first][:1].isupper():
            continue
        shared: set[str] = set()
        for end, words in named[a:]:
            if end - first >= GLUED_TITLE_WORDS:
                break
            shared |= words
            stop = next((k for k in range(end + 1, min(first + GLUED_TITLE_WORDS, len(tokens)))
                         if tokens[k][:1].isupper() or k in bylines), None)
            if stop is None or len(shared) <= best or len(tokens) - stop < OPENING_REST_WORDS:
                continue
            headline = " ".join(tokens[first:stop])
            if headline_like(headline) and not _TWO_SENTENCES.search(headline) and _whole(headline):
                best, best_at = len(shared), headline
        if best_at is not None:  # the first headline wins: a photo caption after it names the lead too
            return best, best_at
    return None


def _headline_before_byline(paragraphs: list[Unit], top: int, first_body: int,
                            lead: set[str]) -> tuple[int, str] | None:
    """(paragraph, headline) for a page flattened onto one line whose headline is glued in front
    of its byline or date (BYLINE_WORD, DATE_TOKEN): of the stretches of at most
    GLUED_TITLE_WORDS words that end right before one, start with a capital and read like a
    headline, the one that names the most words of the lead (at least MIN_GLUED_OVERLAP), the
    shorter on a tie; the nearest paragraph wins a tie."""
    best, best_at = MIN_GLUED_OVERLAP - 1, None
    for i in range(min(first_body, len(paragraphs) - 1), top - 1, -1):
        tokens = paragraphs[i].text.split(" ")
        marks = [m for m in range(1, len(tokens)) if DATE_TOKEN.match(tokens[m]) or BYLINE_WORD.match(
            tokens[m]) and m + 1 < len(tokens) and tokens[m + 1][:1].isupper()]
        for a, m in enumerate(marks):
            if not (_content_words_of(" ".join(tokens[max(0, m - 2):m])) & lead):
                continue  # the headline's last words name the lead: no chrome between it and the byline
            shared: set[str] = set()
            for s in range(m - 1, max(-1, m - 1 - GLUED_TITLE_WORDS, marks[a - 1] if a else -1), -1):
                if _chrome_mark(tokens[s], tokens[s + 1]):
                    break
                shared |= _content_words_of(tokens[s]) & lead
                if len(shared) <= best or not tokens[s][:1].isupper():
                    continue
                headline = " ".join(tokens[s:m])
                if headline_like(headline) and not _TWO_SENTENCES.search(headline):
                    best, best_at = len(shared), (i, headline)
    return best_at


def _chrome_mark(token: str, after: str) -> bool:
    """A token no headline holds: a breadcrumb's or a menu's separator ("News » World", "Home |
    Sport") or a lone capital before another ("Font Size A A A")."""
    return token in ("|", "»", "›", "/", "•", "·") or (len(token) == 1 and token.isupper() and len(after) == 1)


def _whole(headline: str) -> bool:
    """A headline does not stop inside a quote ('... the 1968 film "Night of the Living') or after
    a word of at most three letters in lower case ("... tardar décadas por", "... of the"): a
    sentence of the lead running on to a name does."""
    last = headline.rsplit(" ", 1)[-1]
    return not (last.isalpha() and last.islower() and len(last) <= 3) and headline.count('"') % 2 == 0 \
        and headline.count("“") == headline.count("”") and headline.count("«") == headline.count("»")


def _short_capitalised(token: str) -> bool:
    """A headline's first word too short to be a lead word ("Un troisième Français mort ...",
    "The Modern ..."): a capitalised word of at most three letters, not a byline's "By"."""
    return len(token) <= 3 and token.isalpha() and token[:1].isupper() and not token.isupper() and token != "By"


# A headline shown twice is 3-30 words long. A 3-word run that the text above the body shows
# more than MAX_GRAM_SHOWINGS times is a pattern of the page (a ticker's stamp, a degenerate
# text of one repeated word), not a headline: comparing every pair of its showings, each as
# far as the run goes on, costs the cube of the page's length (a one-line page of 30,000
# repeated words took minutes).
MAX_REPEATED_HEADLINE_WORDS = 30
MAX_GRAM_SHOWINGS = 8


def _repeated_headline(paragraphs: list[Unit], top: int, first_body: int,
                       lead: set[str]) -> tuple[int, str] | None:
    """(paragraph, headline) for a page flattened onto one line that shows its headline twice
    above the body (a breadcrumb or a share box, then the article's heading): the longest
    stretch of 3-30 words that occurs twice there, reads like a headline and names the lead
    (MIN_LEAD_OVERLAP words, and a quarter of its words of 4+ letters: a menu the page repeats names a
    word or two of it). Its later occurrence, the nearer to the body, is the headline, unless it
    opens the body's first paragraph; inside that paragraph only its opening words count as a
    showing (words a headline shares with its lead, "... with great white shark", are none), or
    the headline shown twice in a row opening it ("Zuckerberg offers peek ... Zuckerberg offers
    peek ... Facebook CEO says ..."), which is then the title of that paragraph, kept as body."""
    # the second showing may open the body's first paragraph, glued to the lead
    tokens = [(i, t) for i in range(top, min(first_body + 1, len(paragraphs))) for t in paragraphs[i].text.split(" ")]
    keys = [(i, t.casefold()) for i, t in tokens]
    folded = [k for _, k in keys]  # a 3-gram's key is its casefolded words: a slice of these, not a tuple built per word
    opening = next((q for q, (i, _) in enumerate(keys) if i >= first_body), None)  # the body's first word
    seen: dict[tuple, list[int]] = {}
    best, best_at = (MIN_LEAD_OVERLAP - 1, 0), None
    for q in range(len(keys) - 2):
        if keys[q][0] != keys[q + 2][0]:
            continue  # a headline stays inside one paragraph
        showings = seen.setdefault(tuple(folded[q:q + 3]), [])
        if len(showings) > MAX_GRAM_SHOWINGS:
            continue
        inside = keys[q][0] >= first_body and q != opening  # in the body's first paragraph, past its opening
        for p in showings:
            if p and keys[p - 1][1] == keys[q - 1][1] and keys[p - 1][0] == keys[p][0]:
                continue  # not the start of the repeat
            if inside and p != opening:
                continue  # there only the opening words show the headline again, or repeat it
            n = 3
            while n <= MAX_REPEATED_HEADLINE_WORDS and q + n < len(keys) and p + n < q \
                    and keys[p + n][1] == keys[q + n][1] and keys[q + n][0] == keys[q][0] and keys[p + n][0] == keys[p][0]:
                n += 1
            text = " ".join(t for _, t in tokens[q:q + n])
            named = _lead_overlap(text, lead)
            if n <= MAX_REPEATED_HEADLINE_WORDS and (named, n) > best \
                    and 4 * named >= len(_content_words_of(text)) \
                    and headline_like(text) and (not inside or p + n == q):
                at = q if tokens[q][0] < first_body else p  # the headline is a paragraph above the body
                if tokens[at][0] < first_body or at == opening:  # ... or shown twice opening the body
                    best, best_at = (named, n), (tokens[at][0], text)
        showings.append(q)
    return best_at


def _headline_by_lead(paragraphs: list[Unit], top: int, first_body: int,
                      body_idx: list[int]) -> tuple[int, int, set[str]] | None:
    """The headline-like line above the body that shares the most words of 4+ letters
    with the article's lead (its first LEAD_WORDS words): a headline names what the lead
    tells, a caption, a video player's label or a prompt of the site does not. The nearest
    wins a tie; fewer than MIN_LEAD_OVERLAP shared words is no headline.
    Returns (index, shared words, the lead's words)."""
    lead = _lead_words(paragraphs, first_body, body_idx)
    best = None
    for i in range(first_body - 1, top - 1, -1):
        text = paragraphs[i].text
        shared = _lead_overlap(text, lead)  # the cheap test first
        if shared < MIN_LEAD_OVERLAP or (best is not None and shared <= best[1]):
            continue
        if not headline_like(text) or BYLINE.match(text) or photo_credit(text) or _TWO_SENTENCES.search(text) or (
                i + 1 < len(paragraphs) and photo_credit(paragraphs[i + 1].text)):
            continue
        best = (i, shared, lead)
    if best is not None:
        # a standfirst below its headline tells more of the lead than the headline does: the
        # shorter headline-like line right above it that names the lead too is the headline
        i = best[0]
        if i > top and headline_like(up := paragraphs[i - 1].text) and 4 <= word_count(up) < word_count(
                paragraphs[i].text) and _lead_overlap(up, lead) >= MIN_LEAD_OVERLAP:
            best = (i - 1, _lead_overlap(up, lead), lead)
    return best


@dataclass
class PageLayout:
    """Where a page's article lies among its paragraphs (see _layout)."""

    words: list[int]                  # word_count of each paragraph
    body: list[bool]                  # is_body of each paragraph
    block: tuple[int, int] | None     # the main body block (text input only)
    body_idx: list[int]               # body paragraphs (inside the block, if any)
    first_body: int
    last_body: int
    title_at: int | None = None       # the headline, if found by position
    title_by_lead: bool = False       # ... because it names the article's lead
    title_text: str | None = None     # the headline, when it is only part of paragraph title_at
    title_in_body: bool = False       # ... which is the body's first paragraph, kept as body text
    tail: int = 0                     # paragraphs from here on are a closing headline list

    def outside(self, i: int) -> bool:
        return i < self.first_body or i > self.last_body


def page_layout(doc: Doc, paragraphs: list[Unit]) -> PageLayout:
    # each paragraph's words and is_body, once for the page: the block, the line rules and the
    # position rules ask for them again (is_body is asked only of the lines long enough for it)
    words = [word_count(u.text) for u in paragraphs]
    body = [n >= BODY_MIN_WORDS and is_body(u.text, n) for n, u in zip(words, paragraphs)]
    body_idx = [i for i, b in enumerate(body) if b]
    # Without a DOM (text input), the article is the main body block; what lies outside it
    # is page chrome however body-like (teasers, blurbs, notices). trafilatura did this for HTML.
    block = main_block(paragraphs, body, words) if doc.fmt != "html" else None
    if block is not None:
        body_idx = [i for i in body_idx if block[0] <= i <= block[1]] or body_idx
    first_body = body_idx[0] if body_idx else len(paragraphs)
    last_body = body_idx[-1] if body_idx else -1
    if block is not None and body_idx and body_idx[-1] >= block[0]:
        last_body = max(last_body, block[1])  # the block may end in the items of an announced list
    layout = PageLayout(words, body, block, body_idx, first_body, last_body)
    if doc.title is None:
        _find_title(layout, paragraphs)
    if layout.title_at is not None and layout.title_at >= layout.first_body and not layout.title_in_body:
        later = [i for i in body_idx if i > layout.title_at]
        layout.first_body = later[0] if later else len(paragraphs)
    # A list of headlines closing the page is a related-links block whose heading, if it
    # had one, is gone (the chrome stage removes a site's recurring headings).
    tail = len(paragraphs)
    while tail > max(layout.last_body, layout.first_body) + 1 and headline_like(paragraphs[tail - 1].text):
        tail -= 1
    layout.tail = len(paragraphs) if len(paragraphs) - tail < MIN_TRAILING_HEADLINES or doc.fmt == "html" else tail
    return layout


def _find_title(layout: PageLayout, paragraphs: list[Unit]) -> None:
    """The headline's position: right above the body, in the last TITLE_WINDOW paragraphs
    before it (a headline ending in "Inc." looks like a sentence: one line past it too). On a
    page flattened onto one line: the headline shown twice (unless it is three words and a
    headline stands before a byline), else the one before a byline or date, else the glued-text
    guess, unless the body's first sentence opens with a headline naming the lead clearly more."""
    first_body, block = layout.first_body, layout.block
    if block is not None and first_body < len(paragraphs) and paragraphs[first_body].sentence:
        lead = _lead_words(paragraphs, first_body, layout.body_idx)
        top = max(0, first_body - LEAD_TITLE_WINDOW)
        glued = _repeated_headline(paragraphs, top, first_body, lead)
        before_byline = _headline_before_byline(paragraphs, top, first_body, lead)
        if glued is not None and before_byline is not None and glued[1].count(" ") < 3:
            glued = None  # three words shown twice are a section's name, the headline stands before the byline
        if glued is None:  # shown once: glued to the chrome above the body, or opening the body
            glued = before_byline or _headline_in_glued_text(paragraphs, top, first_body, lead)
            rest = _lead_words(paragraphs, first_body + 1, layout.body_idx)
            opening = _headline_opening_body(paragraphs[first_body].text, rest)
            if opening is not None and (
                    glued is None or opening[0] >= _lead_overlap(glued[1], rest) + OPENING_MARGIN):
                glued = (first_body, opening[1])
        if glued is not None:  # a page flattened onto one line: its headline is glued to other text
            (layout.title_at, layout.title_text), layout.title_by_lead = glued, True
            layout.title_in_body = glued[0] == first_body  # opening the body's first paragraph, kept as body
            return
    top = max(0, first_body - TITLE_WINDOW) if block is not None else 0
    title_at = headline_index(paragraphs[top:], first_body + 2 - top)
    if title_at is not None:
        title_at += top
    if block is not None:  # a headline that names the lead beats the line above a byline
        lead_top = max(0, first_body - LEAD_TITLE_WINDOW)
        by_lead = _headline_by_lead(paragraphs, lead_top, first_body, layout.body_idx)
        if by_lead is not None and (
                title_at is None or by_lead[1] > _lead_overlap(paragraphs[title_at].text, by_lead[2])):
            title_at, layout.title_by_lead = by_lead[0], True
    if block is not None and title_at is None:
        title_at = _headline_above(paragraphs, top, first_body)
    layout.title_at = title_at
