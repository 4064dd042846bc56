"""The line patterns of the clean stage: what site chrome and metadata lines look like.

Kept apart from the logic that applies them (pipeline/clean.py: the rule table
LINE_RULES, the page layout, the position rules), the way trafilatura keeps its
XPath expressions in a module of their own: a pattern is changed here, a rule's
word limits and place there. The chrome stage (pipeline/chrome.py) uses the
byline and date patterns too.
"""
from __future__ import annotations

import re
from functools import lru_cache

import re2

from .text import LineHeads


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"^(?:" + "|".join(alternatives) + r")\s*[:.!]*$", re.IGNORECASE)


# Whole-line widget labels that never stand alone inside an article body.
WIDGET = _rx(
    r"skip to (?:the )?(?:main )?(?:content|navigation|search)",
    r"thumbnail|advertisement|advert|sponsored(?: content)?|scroll to continue(?: with content)?",
    r"story continues below(?: advertisement)?|article continues below|continue reading below",
)
# Whole-line navigation / site chrome. Only trusted outside the body.
NAV = _rx(
    r"skip to (?:the )?(?:main )?(?:content|navigation|search)",
    r"(?:latest|breaking|top|more|world|local) (?:news|stories|headlines)", r"latest",
    r"menu|main menu|toggle navigation|navigation|home|homepage|search|close|open",
    r"sign in|sign up|log ?in|log ?out|register|my account|subscribe(?: now| today)?",
    r"advertisement|advert|sponsored(?: content)?|promoted|ad",
    r"thumbnail|image|photo|video|gallery|watch(?: now| live)?|listen(?: to (?:this|the) (?:article|story))?",
    r"back to top|print|email|e-mail|share|tweet|pin it|copy link|read more|continue reading",
    r"(?:view|show|hide|load) (?:more )?comments?|\d+ comments?|comments?",
    r"accept(?: all)?(?: cookies)?|reject all|cookie (?:settings|policy|preferences)|privacy policy",
    r"terms (?:of (?:use|service)|and conditions)|contact us|about us|follow us(?: on .{1,40})?",
    r"(?:facebook|twitter|x|linkedin|whatsapp|reddit|telegram|email|instagram)(?:[\s|/·,]+(?:facebook|twitter|x|linkedin|whatsapp|reddit|telegram|email|instagram))*",
)
SOCIAL = _rx(
    r"(?:share|comment(?: on)?|like|tweet|email|print|save|bookmark|repost)"
    r"(?: (?:this|the))? ?(?:post|article|story|page|link)?(?: (?:on|via|with) .{1,30})?",
)
CREDIT = re.compile(
    r"^(?:.{1,80}['’]s (?:photo|picture|avatar|image|profile picture)"
    r"|(?:image|photo|picture|video|illustration|graphic|file photo|photograph)s?"
    r"(?: by| credit| courtesy(?: of)?| source| via)?\s*:?(?: .{0,120})?"
    r"|\(?(?:credit|source|courtesy)s?:.{0,120}"
    r"|.{0,120}\b(?:getty images|shutterstock|ap photo|afp via getty|reuters/|epa-efe|istock(?:photo)?)\)?\.?"
    r")$",
    re.IGNORECASE,
)
# Every alternative of CREDIT starts or ends in one of these, lower-cased: a first word
# (Photo:, (Credit: ...), or, up to a closing ")" and ".", "'s photo" (A's photo) or an
# agency's name. Keep them in step with CREDIT. They spare most lines the regex, whose
# .{1,80} and .{0,120} backtrack over the whole line (~2-8 us a line), and look only at the
# line's two ends (lower-casing and searching whole lines cost ~1.5 us a line). lower() gives
# what IGNORECASE compares with an ASCII letter wherever none of the four characters stands
# that IGNORECASE, and only it, reads as ASCII letters (_FOLDS_TO_ASCII: "İ" and "ı" as i,
# "ſ" as s, the Kelvin sign as k); where one does, the regex runs.
_CREDIT_STARTS = ("image", "photo", "picture", "video", "illustration", "graphic", "file photo",
                  "(", "credit", "source", "courtesy")
_CREDIT_ENDS = ("s photo", "s picture", "s avatar", "s image", "s profile picture",
                "getty images", "shutterstock", "ap photo", "afp via getty", "reuters/", "epa-efe", "istock",
                "istockphoto")
_CREDIT_HEAD = max(map(len, _CREDIT_STARTS))
_CREDIT_TAIL = max(map(len, _CREDIT_ENDS)) + len(").\n")  # $ matches before a final newline too
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")


def photo_credit(text: str) -> bool:
    head, tail = text[:_CREDIT_HEAD], text[-_CREDIT_TAIL:]
    ends_known = (head + tail).isascii() or not _FOLDS_TO_ASCII.search(head + tail)
    if ends_known and not (head.lower().startswith(_CREDIT_STARTS)
                           or tail.lower().rstrip(".)\n").endswith(_CREDIT_ENDS)):
        return False
    return bool(CREDIT.match(text))


NEWSLETTER = re.compile(
    r"\b(?:subscribe (?:to|and get)|sign up (?:for|to)|our (?:\w+ )?newsletter|newsletters?\b.{0,40}\binbox"
    r"|to your inbox|join (?:our|the) mailing list|support (?:our|independent) journalism"
    r"|become a (?:member|subscriber|patron)|donate (?:now|today)|enter your e-?mail(?: address)?)\b",
    re.IGNORECASE,
)
# A newsletter named as where the text came from: "From the Daily Echo newsletter",
# "This story first appeared in our Morning Briefing newsletter." A body sentence may
# read alike ("From May the council will send a newsletter."), so only trusted outside the body.
NEWSLETTER_SOURCE = re.compile(
    r"^(?:from|via|as seen in|(?:this (?:story|article) )?(?:first )?appeared in)\s.{0,80}\bnewsletter[.!]?$",
    re.IGNORECASE,
)
# The subject line of a forwarded or replied-to e-mail ("Fwd: <headline>"): the
# article's headline at best, with the mail client's prefix. Never the headline itself.
EMAIL_SUBJECT = re.compile(r"^(?:(?:fwd?|fw|re)\s*:\s*)+(\S.*)$", re.IGNORECASE)
# A promoted headline of another story: "Latest news: ...", "Top stories | ...". Not
# "Latest: ..." or "Breaking: ...", which prefix a page's own headline.
PROMO = re.compile(r"^(?:latest|breaking|top|more|trending) (?:news|stories|headlines?)\s*[:|]\s+\S",
                   re.IGNORECASE)
# A site's legal footer: "© 2024 Example Media", "Copyright 2014 X. All rights reserved."
# Also the clauses of a site's terms ("Use of this site constitutes acceptance of our User
# Agreement", "The material on this site may not be reproduced, distributed, ...").
COPYRIGHT = re.compile(r"©|\(c\) \d{4}|\bcopyright\b.{0,60}\d{4}|\ball rights reserved\b|\bterms of (?:use|service)\b"
                       r".{0,40}\bprivacy\b|\buse of this (?:site|website) constitutes\b"
                       r"|\bon this (?:site|website) may not be reproduced\b", re.IGNORECASE)
# A line must hold one of these words (lower-cased) for COPYRIGHT, NEWSLETTER or LOGIN_BOX to
# match: substring tests are ~40x cheaper than those regexes, and most lines hold none.
_FOOTER_WORDS = ("©", "copyright", "(c) ", "rights reserved", "terms of", "this site", "this website")
_PLEA_WORDS = ("subscri", "sign up", "newsletter", "inbox", "mailing list", "journalism", "become a", "donate",
               "enter your")
_LOGIN_WORDS = ("forgot", "remember me", "account", " in as", "sign in with")
_WORD_GROUPS = (_FOOTER_WORDS, _PLEA_WORDS, _LOGIN_WORDS)  # bit 0, 1, 2 of a line's mask (note_page)


# body_weight asks legal_footer, plea and login_box of every paragraph of up to 60 words, and
# lower-casing and searching each paragraph cost ~5 us a page line. The clean stage has the
# words of a whole page found at once (note_page): one RE2 scan over the page's UTF-8 bytes for
# the words of all groups, case-insensitive, which is what `word in line.lower()` tells wherever
# the page holds neither "ſ" (RE2 reads it as s, lower() keeps it) nor "İ" (lower() makes it "i̇",
# RE2 reads it as no i); on such a page, and for lines of no noted page, each line is lower-cased.
# The scan finds the lines that hold any word (a line holding a word holds a match: no word spans
# a newline; more than half of the pages hold none); only those few lines are lower-cased and
# tested group by group (a match of one group's word may hide an overlapping word of another,
# "become account"). tests/test_fast_paths.py checks both ways agree.
_ANY_WORD_SCAN = re2.compile("(?i)" + "|".join(re.escape(word) for words in _WORD_GROUPS for word in words))
_NOTED: dict[str, int] = {}  # line -> its mask, for the lines of the page noted last


def note_page(lines: list[str]) -> None:
    """Find the words of _WORD_GROUPS in all these lines (a page's paragraphs) at once."""
    global _NOTED
    _NOTED = {}
    page = "\n".join(lines)
    if "ſ" in page or "İ" in page or page.count("\n") != len(lines) - 1:
        return
    try:
        data = page.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return
    masks = dict.fromkeys(lines, 0)
    for at in {data.count(b"\n", 0, m.start()) for m in _ANY_WORD_SCAN.finditer(data)}:  # matches are few
        masks[lines[at]] = _words_mask(lines[at])
    _NOTED = masks


def _words_mask(line: str) -> int:
    low = line.lower()
    return sum(1 << k for k, words in enumerate(_WORD_GROUPS) if any(word in low for word in words))


# The bits of noted_words: a line can pass legal_footer, plea or login_box only if it holds the bit.
FOOTER_WORDS, PLEA_WORDS, LOGIN_WORDS = 1, 2, 4
_ALL_GROUPS = (1 << len(_WORD_GROUPS)) - 1


def noted_words(text: str) -> int:
    """The word groups (FOOTER_WORDS, PLEA_WORDS, LOGIN_WORDS) a line of the page noted last
    holds, as note_page found them; every bit for a line of no noted page (its tests then look
    for themselves). Most lines hold none: asking this first spares them the three cached tests
    (~0.6 us a line on hits, ~1.2 us a test on misses)."""
    return _NOTED.get(text, _ALL_GROUPS)


def _holds_words(text: str, group: int) -> bool:
    """Does the line, lower-cased, hold a word of _WORD_GROUPS[group]?"""
    mask = _NOTED.get(text)
    if mask is None:
        low = text.lower()
        return any(word in low for word in _WORD_GROUPS[group])
    return bool(mask >> group & 1)


@lru_cache(maxsize=1 << 12)  # asked of a line by the layout (body_weight) and again by the line rules
def legal_footer(text: str) -> bool:
    return _holds_words(text, 0) and bool(COPYRIGHT.search(text))


@lru_cache(maxsize=1 << 12)  # asked by body_weight, the line rules and headline_like of the same lines
def plea(text: str) -> bool:
    return _holds_words(text, 1) and bool(NEWSLETTER.search(text))


# A site's sign-in box: "Sign in to OregonLive.com Remember me Forgot your username and
# password?", "Don't have an account? Register now for free, or sign in with any of these
# services: You are signed in as ..." Body-like sentences, never the body.
LOGIN_BOX = re.compile(
    r"\b(?:forgot (?:your )?(?:username|password|login|user ?name)|remember me\b|(?:don['’]t|do not) have an account"
    r"|you are (?:signed|logged) in as|sign in with (?:any of these|your (?:facebook|google|social))"
    r"|(?:create|register) (?:an|your|a free) account)", re.IGNORECASE)


@lru_cache(maxsize=1 << 12)  # asked of a line by the layout (body_weight) and again by the line rules
def login_box(text: str) -> bool:
    return _holds_words(text, 2) and bool(LOGIN_BOX.search(text))


# A prompt addressed to the reader, never a headline: "Sign in to read more", "Click here to ..."
CALL_TO_ACTION = re.compile(
    r"^(?:please )?(?:sign (?:in|up)|log ?in|register|subscribe|click|tap|download|read more|continue reading"
    r"|already (?:a )?(?:subscriber|member)|create (?:an|your) account|get (?:the|our) app|enable javascript)\b",
    re.IGNORECASE)
RELATED_HEADING = _rx(
    r"related(?: articles| stories| posts| news| coverage| content| reading| links)?",
    r"more (?:from|on|stories|news|articles|in)(?: .{1,40})?",
    r"read (?:more|next|also)(?: on .{1,40})?", r"also read", r"see also", r"further reading",
    r"you (?:may|might) also (?:like|be interested in)", r"recommended(?: for you| stories| reading)?",
    r"most (?:popular|read|viewed|shared)", r"trending(?: now| stories)?", r"popular (?:stories|posts)",
    r"editor['’]s picks", r"what to read next", r"top stories",
    # the same headings on Spanish, Portuguese, German, French, Italian and Dutch news sites
    r"(?:mirá|mira|lee|leé|lea|ver|vea|veja|leia) (?:también|tambem|também)", r"(?:te|le) puede interesar",
    r"(?:también )?te (?:puede|podría) interesar", r"informate más", r"(?:noticias|notas|artículos) relacionad[oa]s",
    r"lo más (?:leído|visto)", r"más (?:noticias|leídas)(?: .{1,40})?", r"(?:notícias|matérias) relacionadas",
    r"(?:as )?mais lidas", r"leia mais", r"saiba mais",
    r"(?:die )?(?:meistgelesenen?|neuesten?|weitere|ähnliche|verwandte) (?:artikel|beiträge|nachrichten)(?: .{1,40})?",
    r"mehr zum thema(?: .{1,40})?", r"lesen sie (?:auch|mehr)", r"das könnte sie (?:auch )?interessieren", r"auch interessant",
    r"(?:à )?lire aussi", r"(?:à )?voir aussi", r"sur le même sujet", r"les plus lus", r"articles? (?:liés|similaires)",
    r"leggi anche", r"potrebbe interessarti", r"articoli correlati", r"(?:i )?più letti",
    r"lees ook", r"meer (?:over|nieuws)(?: .{1,40})?", r"gerelateerde artikelen",
)
# The heading of the readers' comments below an article: "Leave a Reply", "Join the
# discussion", "There are 13 comments", "Comments from our readers". (Not a bare count such as
# "36 comments", which many pages show next to the byline.)
COMMENTS_HEADING = re.compile(
    r"^(?:leave a (?:reply|comment)|(?:post|add|write) a comment|join the (?:discussion|conversation)"
    r"|there (?:are|is) \d+ comments?|comments (?:from|powered by)\b)", re.IGNORECASE)


# The same heading glued inside a sentence of a page flattened onto one line: it starts with a
# capital ("... Tagged jobs There are 13 comments Sallie ...", "View comments (27)").
COMMENTS_HEADING_INSIDE = re.compile(
    r"(?:^|\s)(?:Leave a (?:[Rr]eply|[Cc]omment)|(?:Post|Add|Write) a [Cc]omment|Join the (?:[Dd]iscussion|[Cc]onversation)"
    r"|There (?:are|is) \d+ [Cc]omments?|(?:View|Show|Read|Post)(?:/\w+)? (?:all )?[Cc]omments? \(\d+\)"
    r"|\d+ [Cc]omments? (?:Leave|Add|Post)|Comments (?:from|powered by)\b"
    # a comment widget's prompt or button: "Comments (10580) Sign in to post a comment.", "Tweet
    # Comments Show Comments Discussion Policy", "Comments To post a comment, log into ...", "0 comments
    # about this story. Start the discussion »"
    r"|(?:Sign|Log) in to (?:post a |leave a |add a )?(?:[Cc]omment|[Rr]eply)|(?:Show|View|Load|Hide) (?:All )?Comments\b"
    # the same button in lower case, a heading's capital after it: "... in the comments! show comments What do you
    # think?" (not a teaser's "Click to view comments")
    r"|(?<!to )(?:show|view|load|hide) (?:all )?comments(?= [A-Z])"
    r"|To (?:post|leave|add|write) a comment\b|(?:Start|Be part of) the (?:[Dd]iscussion|[Cc]onversation)"
    r"|\d+ comments? (?:about|on) this (?:story|article|post)\b"
    # a comment service's notice: "Please enable JavaScript to view the comments powered by
    # Disqus.", "You can only post comments if you register with Disqus ..."; a heading in title
    # case: "Claim Book Comments Have Your Say December 29, 2014 isights: Seems obvious to me."
    r"|view the comments powered by\b|post comments if you (?:register|sign in|log in)\b"
    r"|reserves the right to (?:remove|delete|edit) comments\b"
    r"|Have Your Say\b)")


# A related-links heading glued inside a sentence of a page flattened onto one line, in the
# title case of a heading ("... for the club. Related Stories NYPD identifies suspect ...",
# "View/Post Comments Related Stories House of the Week ..."). Prose writes them in lower case.
# Not "Related Articles", "Related News" or "Related Coverage": sites (Reuters, the Telegraph, the
# New York Times) set boxes under these headings between the article's paragraphs.
# "More from Space.com" (a site's name), "More from our site" or "Editor's Recommendations" heads the
# site's other stories (not "Editor's Picks": Salon sets such a box inside its articles).
RELATED_HEADING_INSIDE = re.compile(
    r"(?:^|\s)(?:Related (?:Stories|Posts|Links|Content|Videos|Reading)"
    r"|You (?:May|Might) Also (?:Like|Enjoy)|Recommended (?:for You|Stories|Reading)|Suggested Reads"
    r"|What to Read Next|More Stories|Editor['’]s Recommendations|More [Ff]rom (?:[A-Z][\w.]*\.(?:com|org|net|co\.uk)|[Oo]ur [Ss]ite))\b")


def related_heading_inside(text: str) -> bool:
    return ("Related" in text or "Also" in text or "Recommended" in text or "Read" in text or "Editor" in text
            or "More" in text) and bool(RELATED_HEADING_INSIDE.search(text))


def _about_comments(text: str) -> bool:
    low = text.lower()  # substring tests first: most lines hold none of these words
    return "comment" in low or "reply" in low or "discussion" in low or "conversation" in low


def comments_heading(text: str) -> bool:
    return _about_comments(text) and bool(COMMENTS_HEADING.match(text))


def comments_heading_inside(text: str) -> bool:
    return _about_comments(text) and bool(COMMENTS_HEADING_INSIDE.search(text))


# A clock time or a video's running time in front of a headline ("14:44 Accusations de viols :
# ...", "02:00 News Hour BC ..."): a live ticker or a video list. Two of them in one sentence cut
# from a flattened page make it a ticker, not prose (prose writes "from 9:00 AM to 5:00 PM",
# which is no headline).
TIMED_HEADLINE = re.compile(r"(?:^|\s)\d{1,2}:\d{2}\s+(?![AP]\.?M\b)[\"'“‘«]?[A-Z\u00c0-\u00de]")


def ticker(text: str, headlines: int = 2) -> bool:
    return ":" in text and len(TIMED_HEADLINE.findall(text)) >= headlines


# The words of a share bar ("Share on Facebook Share on Twitter Share via Email", "facebook
# linkedin twitter google+ print email"); a run of SHARE_RUN of them, with only "on", "via",
# "it" between them, is a share bar glued into a sentence of a page flattened onto one line.
SHARE_WORDS = frozenset({"share", "tweet", "pin", "print", "email", "e-mail", "facebook", "twitter", "linkedin",
                         "google+", "pinterest", "whatsapp", "reddit", "tumblr", "save", "sms", "messenger",
                         "flipboard", "pocket", "stumbleupon", "digg", "delicious", "telegram"})
SHARE_JOINERS = frozenset({"on", "via", "it", "by"})
SHARE_RUN = 3


def share_runs(tokens: list[str]) -> list[tuple[int, int]]:
    """(first, last + 1) token of each share bar among a sentence's tokens (see SHARE_WORDS)."""
    runs, start, last, n = [], None, None, 0
    for k, token in enumerate([*tokens, ""]):
        word = token.casefold().rstrip(":,|")
        if word in SHARE_WORDS:
            start, last, n = k if start is None else start, k, n + 1
        elif start is not None and word in SHARE_JOINERS and k - last == 1:
            continue
        else:
            if n >= SHARE_RUN:
                runs.append((start, last + 1))
            start, last, n = None, None, 0
    return runs


# A sentence of a page flattened onto one line that breaks off ("... with sweeping...", "... die
# Festtage […]") is a teaser's excerpt of another story, not the article's own text.
TRUNCATED = re.compile(r"(?:\.\.\.|…|\[…\]|\[\.\.\.\])[\"'”’)\]]*$")


BIO_ROLE = re.compile(
    r"^(?:about the author:?\s*)?[A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,3} (?:is|was|has been|writes)\b.{0,200}?"
    r"\b(?:editor|writer|reporter|correspondent|journalist|columnist|author|contributor|analyst"
    r"|producer|fellow|founder|director|blogger|freelance|staff)\b",
)
FOLLOW = re.compile(r"\bfollow (?:him|her|them|me|us) on (?:twitter|x|facebook|instagram|linkedin)\b|"
                    r"(?:^|\s)@\w{2,}\.?$", re.IGNORECASE)


def follow_prompt(text: str) -> bool:
    """FOLLOW.search, asked only of lines that hold "@" or "follow" in some case (the regex has
    no literal to start from and tries every place of the line: ~5-8 us a paragraph). No
    non-ASCII character is one of the letters of "follow" to IGNORECASE (see _FOLDS_TO_ASCII)."""
    return ("@" in text or "follow" in text.lower()) and bool(FOLLOW.search(text))
BYLINE = re.compile(r"^(?:by|written by|words by|author|authors|posted by|reporting by)\s*:?\s+(.{2,80})$",
                    re.IGNORECASE)
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
DATE_LINE = re.compile(
    r"^(?:(?:published|updated|posted|last updated|date)\s*:?\s*)?(?:[A-Za-z]+,?\s+)?"
    r"(?:" + _MONTH + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"\.?,?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})"
    r"(?:\s*(?:[-–—|,@]|at)?\s*\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?\s*$",
    re.IGNORECASE,
)

# Every alternative of DATE_LINE holds a digit, and most lines hold none: looking for one (~0.2 us
# a short line) spares them the regex (~0.6 us: its optional leading word backtracks).
_DIGIT = re.compile(r"\d")


def date_line(text: str) -> bool:
    """DATE_LINE.match, asked only of lines that hold a digit."""
    return _DIGIT.search(text) is not None and DATE_LINE.match(text) is not None


# The credit line under a post embedded in an article ("— Fiona Kelly (@fizzlekelly) December 22,
# 2014", as a scraper flattens an embedded tweet): part of the article between its paragraphs.
EMBEDDED_POST_CREDIT = re.compile(r"^[—–-] ?[^()\n]{1,60} \(@\w{1,30}\) \w[\w.]* \d{1,2},? \d{4}$")


# An embedded frame's markup left as text by a scraper that flattened a page (the iframe's
# fallback text is markup the browser never shows): "<iframe width='670' ... src='...'>Your
# browser does not support frames. <a href=\"...\">Click here ...</a>.</iframe>". Never article
# text; bounded so that a stray "<iframe" cannot swallow the page.
EMBEDDED_FRAME = re.compile(r"<iframe\b[^<>]{0,600}>(?:[^<]|<(?!/?iframe\b)){0,800}?</iframe>", re.IGNORECASE)


# What follows a headline glued into a page flattened onto one line: a byline's first word in a
# few languages, capitalised or with a colon, before a capitalised name ("… Avoid Allergy By
# Brenda Goodman", "… Krebs? Von Claudia Riedler", "… moi Par Matthieu Hy", "… emerge by: Cora
# Neas"; a preposition in lower case is prose: "… organised by Ann Lee"), or a date in digits
# ("… liefern 06.11.23 - …", "19.10.2019", "2020-02-19", "4/11/2020"), one token each.
BYLINE_WORD = re.compile(r"^(?:(?:[Bb]y|[Vv]on|[Pp]ar|[Pp]or|[Dd]oor):|By|BY|Von|VON|Par|PAR|Por|POR|Door)$")
DATE_TOKEN = re.compile(r"^(?:\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}),?$")


# The line heads (text.line_head: a line's first characters) each anchored pattern may match
# (text.LineHeads): the clean stage asks these patterns only of the lines whose head is listed
# (a line of a real page starts as one of them about once in ten). None: any line.
SOCIAL_HEADS = LineHeads(SOCIAL).heads
WIDGET_HEADS = LineHeads(WIDGET).heads
NAV_OR_PROMO_HEADS = LineHeads(NAV, PROMO).heads
NEWSLETTER_SOURCE_HEADS = LineHeads(NEWSLETTER_SOURCE).heads
EMAIL_SUBJECT_HEADS = LineHeads(EMAIL_SUBJECT).heads
BYLINE_HEADS = LineHeads(BYLINE).heads
RELATED_HEADING_HEADS = LineHeads(RELATED_HEADING).heads
