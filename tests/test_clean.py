import gzip
from datetime import date
from pathlib import Path

import pytest

from conftest import SEED
from pipeline import chrome, clean, repeats, schema, sources, text

CHROME = ["Skip to main content", "Thumbnail", "Share this post", "Comment this post", "Tyler Durden's Photo",
          "Related articles", "Subscribe to our evening newsletter", "is the news editor of Antiwar.com"]


def cleaned(key):
    return repeats.collapse_repeats(clean.clean_document(sources.read_document(SEED[key])))


@pytest.mark.parametrize("key", sorted(SEED))
def test_seed_chrome_is_stripped(key):
    doc = cleaned(key)
    assert doc.accepted
    for phrase in CHROME:
        assert phrase not in doc.text


def test_seed_metadata():
    assert cleaned("000").title == "Russia Warns Pentagon: Don't Deploy Troops In Central Asia Near Afghanistan"
    assert cleaned("001").title == "Russia Warns Against US Military Presence in Central Asia Near Afghanistan"
    assert cleaned("003").title == "Kremlin Is Worried US Troops Might Actually Leave Afghanistan"
    assert cleaned("004").title == "Russia Opposes Possible US Military Deployment in Central Asia"
    assert cleaned("000").byline == "Tyler Durden"
    assert cleaned("001").byline == "Dave DeCamp"
    assert cleaned("000").published_at == date(2021, 7, 14)
    assert cleaned("002").title is None  # 002 starts straight with its body


def test_hard_wrapped_lines_are_rejoined():
    doc = cleaned("002")
    assert "strongly warned the United States against deploying" in doc.text
    # paragraphs are re-formed, not the whole file glued into one
    assert 5 < len(doc.units) < 40


def test_removed_spans_point_into_raw_text():
    doc = cleaned("003")
    assert doc.removed
    for span in doc.removed:
        assert doc.raw_text[span.start:span.end] == span.text
    reasons = {s.reason for s in doc.removed}
    assert {"related_links", "photo_credit", "metadata_title"} <= reasons


def _doc_from(text, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text(text)
    return repeats.collapse_repeats(clean.clean_document(sources.read_document(p)))


BODY = ("The city council approved the new transit budget on Monday after a long debate about bus routes. "
        "Officials said the plan adds twelve routes and extends service hours on weekends across the region.")


def test_general_chrome_rules_not_just_seed_strings(tmp_path):
    text = "\n\n".join([
        "Menu", "Search", "Sign in", "Local News", "Transit budget approved after marathon session",
        "By Maria Lopez | Staff Writer", "March 3, 2023 at 4:15 p.m. EST", "Photo: John Doe/Getty Images",
        BODY, BODY.replace("council", "board"),
        "Advertisement", "Share on Facebook", "Read more:", "Mayor opens new library", "Schools close early",
        "Sign up for our daily newsletter and get the news in your inbox",
        "Maria Lopez is a staff reporter covering city hall. Follow her on Twitter @mlopez.",
    ])
    doc = _doc_from(text, tmp_path)
    assert doc.title == "Transit budget approved after marathon session"
    assert doc.byline == "Maria Lopez"
    assert doc.published_at == date(2023, 3, 3)
    assert "The city council approved" in doc.text and "The city board approved" in doc.text
    for junk in ("Menu", "Sign in", "Getty", "Advertisement", "Facebook", "library", "newsletter", "Follow her"):
        assert junk not in doc.text


def test_text_without_article_is_rejected(tmp_path):
    doc = _doc_from("Home\n\nMenu\n\nShare this post\n\nLogin", tmp_path)
    assert doc.reject_reason == schema.NO_ARTICLE_TEXT


def test_flattened_page_is_split_into_sentences(tmp_path):
    flat = " ".join([BODY] * 1 + [f"Sentence {i} explains another detail of the plan in plain words." for i in range(60)])
    doc = _doc_from(flat, tmp_path)
    assert len(doc.units) > 10
    for u in doc.units:
        assert doc.raw_text[u.start:u.end].strip()


# Headline rules: lines that only look like a headline must never become the title.

def test_newsletter_source_line_is_not_the_headline(tmp_path):
    # a forwarded newsletter: "From the ... newsletter" sits where a headline would
    text = "\n\n".join(["From the Riverside Courier newsletter", "Transit budget approved after a long and bitter marathon session",
                        BODY, "From May the council will also post every resident a printed newsletter.", BODY])
    doc = _doc_from(text, tmp_path)
    assert doc.title == "Transit budget approved after a long and bitter marathon session"
    assert [s.reason for s in doc.removed if "Courier" in s.text] == ["newsletter_prompt"]
    assert "marathon session" not in doc.text  # the headline is lifted out, not left in the body
    assert "printed newsletter" in doc.text  # a body sentence about a newsletter stays


def test_email_subject_line_is_not_the_headline(tmp_path):
    text = "\n\n".join(["Fwd: Transit budget approved after a long and bitter marathon session",
                        "Transit budget approved after a long and bitter marathon session", BODY, BODY])
    doc = _doc_from(text, tmp_path)
    assert doc.title == "Transit budget approved after a long and bitter marathon session"
    assert [s.reason for s in doc.removed if s.text.startswith("Fwd:")] == ["email_header"]
    assert "marathon session" not in doc.text


def test_email_subject_names_the_headline_when_the_page_has_none(tmp_path):
    doc = _doc_from("\n\n".join(["RE: Fwd: Transit budget approved after marathon session", BODY, BODY]), tmp_path)
    assert doc.title == "Transit budget approved after marathon session"
    assert "marathon" not in doc.text


def test_prompt_between_headline_and_byline_is_skipped(tmp_path):
    # the headline sits above the byline, a newsletter prompt or a promoted story between them
    for prompt in ("Sign up to the Riverside Courier briefing", "Latest news: Mayor opens new library"):
        doc = _doc_from("\n\n".join(["Local News", "Transit budget approved after marathon session", prompt,
                                      "By Maria Lopez", "March 3, 2023", BODY, BODY]), tmp_path)
        assert doc.title == "Transit budget approved after marathon session", prompt
        assert doc.byline == "Maria Lopez"
        assert "Riverside" not in doc.text and "library" not in doc.text


def test_headlines_closing_the_page_are_a_related_block_and_the_bio_above_them_goes(tmp_path):
    body = ("The council approved the new budget on Tuesday after a long debate about the cost of "
            "repairing the old bridge, which has been closed to traffic since the spring floods.")
    related = ["Storm leaves thousands without power", "Harbour Wolves stunned in cup upset",
               "Parents angry over school closures"]
    text = "\n\n".join(["Council approves bridge budget", "By Ann Lee", body, body.replace("Tuesday", "Monday"),
                        "Ann Lee is a senior reporter at the Gazette covering local politics.", *related])
    doc = clean.clean_document(_doc_from(text, tmp_path))
    reasons = {r.text: r.reason for r in doc.removed}
    assert all(reasons[h] == "related_links" for h in related)
    assert reasons["Ann Lee is a senior reporter at the Gazette covering local politics."] == "author_bio"
    assert doc.text.endswith("spring floods.")
    # two headline-like lines at the end are not enough to call them a related block, but
    # they stand past the main body block, so a text page loses them all the same
    doc = clean.clean_document(_doc_from("\n\n".join(["Council approves bridge budget", "By Ann Lee", body,
                                                      body, *related[:2]]), tmp_path))
    reasons = {r.text: r.reason for r in doc.removed}
    assert doc.text.endswith("spring floods.") and reasons[related[1]] == "bottom_chrome"


# Real pages (tests/fixtures/real_pages/README.md): flattened to visible text as a scraper keeps
# it, or HTML, each cleaned alone, as a one-file drop from a site never seen before.
REAL = Path(__file__).parent / "fixtures" / "real_pages"


def _alone(name):
    doc = sources.read_document(REAL / name)
    chrome.strip_batch([doc])
    return clean.clean_document(doc)


def _reasons(doc):
    return {r.text.strip(): r.reason for r in doc.removed}


def test_flattened_page_loses_its_headline_block_and_keeps_its_body():
    # liberation.fr, one block per line: ~70 menu lines above the article, a live ticker of
    # ~20 time-stamped headlines and the site's footer links below it
    doc = _alone("liberation-1.lines.txt")
    # the headline is found by the words it shares with the lead; a body-like line between it
    # and the article (here a caption-like line under the photo) is kept, menus above are not
    assert doc.title == "Un troisième Français mort dans le séisme au Népal"
    first, second = doc.text.split("\n\n")[:2]
    assert first.startswith("Laurent Fabius a accueilli")
    assert second.startswith("Un troisième Français a été tué dans le tremblement de terre")
    assert doc.text.endswith("Des dizaines de milliers de personnes sont sans abri.")
    reasons = _reasons(doc)
    for headline in ("14:32 Un artiste arrêté pour avoir coloré un geyser",
                     "13:08 Les calories bientôt affichées sur les bouteilles d'alcool"):
        assert headline not in doc.text and reasons[headline] == "bottom_chrome"
    assert reasons["La bibliothèque"] == "top_chrome"
    assert len(doc.text.split()) < 400  # the page holds ~1,700 words


def test_headline_runs_glued_into_one_long_line_are_cut_off():
    # graziadaily.co.uk flattened onto one line: menus, "You May Also Like" and "Latest
    # Stories" headline runs and a comments notice around a four-paragraph article
    doc = _alone("graziadaily.co.uk1.one_line.txt")
    assert doc.text.startswith("Gaga's no stranger to the world of beauty")
    for chrome_text in ("You May Also Like", "Latest Stories", "Disqus allows you", "Fashion Trends"):
        assert chrome_text not in doc.text
    assert all(r.reason in ("top_chrome", "bottom_chrome", "copyright_footer", "metadata_title") for r in doc.removed)
    # the headline, glued between the menus and the byline on the one line
    assert doc.title == "Gaga Took 50 Selfies For New Shiseido Campaign"


# Pages flattened onto one line, each alone (a site never seen before): what must stay of the
# article and what must go, and why (the chrome that used to survive).
ONE_LINE_PAGES = [
    ("globalnews.ca1.one_line.txt", "a one-sentence article glued to ~40 timed video headlines and the footer",
     ["ask for prayers of support as they are about to welcome two sets of twins"],
     ["Utah couple’s dream of parenthood", "Camera captures birth of giant panda twins", "Copyright Shaw"]),
    ("campograndenews.com.br-adolescente.one_line.txt", "a news ticker ('08:44 Em Pauta ... 08:34 Com "
     "mandados ...') between the article and the footer",
     ["intrigante. Conforme a irmã", "Luana na mesma noite do"], ["Veja Também", "Nos siga no", "08:34 Com mandados"]),
    ("coolhunting.com1.one_line.txt", "teasers of other stories whose excerpts break off ('... focuses on...')",
     ["The resort will open for the 2015 season on 17 April."],
     ["This first story, in a series of three", "Amangiri", "Pedras Salgadas", "The Royal Mansour"]),
    ("gq.com1.one_line.txt", "short sentences ('Make sure you bring sunscreen.', 'Learn it. Live it. Love it.'), "
     "each weighing nothing alone, are prose that closes the run, not labels",
     ["Make sure you bring sunscreen.", "There's an art to folding.", "Learn it. Live it. Love it.",
      "Skip the running shoes"], ["Tags: How-To"]),
    ("avclub.com2.one_line.txt", "tags and next headlines glued into title-case 'sentences' ending in '!' "
     "('Filed Under: AUX, Serial, ... Comments More Great Job, Internet!')",
     ["as most remixes of a single sound are"], ["Filed Under", "Previous Great Job", "Watch Adam Savage build"]),
    ("thedebrief.co.uk1.one_line.txt", "a comment service's body-like notices after the article ('You can "
     "only post comments if you register with Disqus ...')",
     ["Ultimately we think Tay can do better"], ["register with Disqus", "Disqus will use your registration data"]),
    ("sitepoint.com1.one_line.txt", "readers' comments under 'Comments Have Your Say', glued to a book offer",
     [], ["Have Your Say", "I blame framework bloat"]),
    ("backstage.com2.one_line.txt", "a byline cut at each abbreviation ('By C. Ryanne Laratonda | Posted Feb. "
     "27, 2014') into capitalised 'sentences' that joined a plea above them to the article",
     ["Each of the entries contains the following information"],
     ["Ryanne Laratonda | Posted Feb.", "start applying to auditions"]),
    ("space.com1.one_line.txt", "'More from Space.com AUTHOR BIO ...' glued to the last links starts the "
     "author's bio and the site's other stories",
     ["Learn more about Mars at NASA's Solar System Exploration website."],
     ["AUTHOR BIO", "is a contributing writer for Space.com"]),
    ("lifebuzz.com2.one_line.txt", "'Subscribe and get your daily-dose of feel-good ... stories' after the article",
     ["Firefighter Sean Coyle came to the rescue."], ["Subscribe and get your daily-dose"]),
    ("livescience.com2.one_line.txt", "'Editor's Recommendations' glued into a sentence heads other stories "
     "and the author's bio", ["Original article on Live Science."],
     ["Editor's Recommendations", "poked hot lava with a stick"]),
    ("al.com2.one_line.txt", "a calendar the article announces ('... attendees: Jan.') whose items, cut at "
     "each 'Jan.', read as capitalised 'sentences' and were lost: they stay while 'Jan.' ends one again",
     ["1-3: UAH - Charger Hockey", "17-18: Alabama Regional Future City Competition",
      "Spring Career Fair, Courtyard by Marriott, 500 Jan."],
     ["Favorite Schools", "Watch the latest AL.com videos", "All rights reserved"]),
    ("teenvogue.com2.one_line.txt", "a comment widget's button in lower case glued to the article's last sentence "
     "('... in the comments! show comments What do you think? Post a comment'), after the article shown twice",
     ["don't forget to nominate your favorites in the comments!"], ["show comments", "What do you think?"]),
    ("syracuse.com2.one_line.txt", ("a byline run glued in front of a lead that opens with a name ('... View/Post "
     "Comments The Onondaga Historical Association leads ...') is cut before the name's article, not its last word"),
     ["The Onondaga Historical Association leads groups through the Hotel Syracuse"], ["View/Post Comments"]),
]


@pytest.mark.parametrize("name, why, kept, gone", ONE_LINE_PAGES, ids=[case[0] for case in ONE_LINE_PAGES])
def test_one_line_page_keeps_its_article_and_loses_its_chrome(name, why, kept, gone):
    doc = _alone(name)
    flat = " ".join(doc.text.split())
    for sentence in kept:
        assert sentence in flat, why
    for chrome_text in gone:
        assert chrome_text not in doc.text, why


def test_one_line_page_ends_at_a_glued_related_heading():
    # nydailynews.com flattened onto one line: "Related Stories" glued after the article's last
    # sentence, then ~15 headline-and-teaser pairs that read like article text
    doc = _alone("nydailynews.com1.one_line.txt")
    assert doc.text.endswith('"Any one of us could have been a victim," she said.')
    for teaser in ("Related Stories", "Lawmakers want to improve a hospital", "Queens drummer gets over Oscars"):
        assert teaser not in doc.text


def test_one_line_page_ends_at_a_comment_widget_prompt():
    # yahoo.com flattened onto one line: the comment widget ("Sign in to post a reply.", "Rating
    # failed. Try again.") and a recommended-stories stream follow the article
    doc = _alone("yahoo-3.one_line.txt")
    assert doc.text.endswith("plans to give 15 percent of all profits related to these shoots to the USO.")
    for widget in ("Sign in to post", "Try again.", "Recommended for You", "Trevor Tice"):
        assert widget not in doc.text


def test_one_line_page_a_teaser_list_with_a_repeated_label_is_not_the_body():
    # heise.de flattened onto one line: under the article, ten teasers of other stories, each
    # closed by "Mehr…"; their sentences are longer than the article's short ones
    doc = _alone("heise.one_line.txt")
    assert "Das in der iOS-Version bereits enthaltene TOTP-Feature" in doc.text
    assert doc.text.endswith("Die Engine zur Passworteingabe im Browser soll beschleunigt worden sein.")
    for teaser in ("Mehr…", "Ex-HP-Chefin kritisiert", "Die besseren Mac minis"):
        assert teaser not in doc.text


def test_one_line_page_loses_a_share_bar_glued_before_its_lead():
    # businessinsider.com flattened onto one line: the date, a share count and a bar of share
    # buttons in lower case run into the photo caption and the lead
    doc = _alone("businessinsider.com1.one_line.txt")
    assert "The UK may be forced to review its Falkland Islands air defenses" in doc.text
    assert "google+ print email" not in doc.text and "Share on Linkedin" not in doc.text
    bars = [r.text for r in doc.removed if r.reason == "share_buttons"]
    assert bars and bars[0].startswith("facebook linkedin twitter google+ print email")


def test_one_line_page_headline_shown_twice_is_the_title():
    # caymancompass.com flattened onto one line: the headline stands in the breadcrumb and
    # again above the byline, between menus and the lead
    doc = _alone("caymancompass.com-prison.one_line.txt")
    assert doc.title == "Prison official: ‘Anyone’ could escape from Northward"
    assert doc.text.startswith("A senior prison official has said in a sworn affidavit that")


def test_one_line_page_words_the_headline_shares_with_the_lead_are_no_second_showing():
    # nypost.com flattened onto one line: "great white shark" stands in the headline and again
    # inside the lead's first sentence; only a repeat that opens the body's first paragraph is
    # the headline shown again, so the headline itself is the title, not the shared words
    doc = _alone("nypost.com2.one_line.txt")
    assert doc.title == "Surfer survives ‘Jaws’ moment with great white shark"


def test_one_line_page_headline_glued_into_a_sign_up_prompt_is_still_the_title():
    # ars-1 (Ars Technica) flattened onto one line: the headline is glued between the comment
    # box's "Sign up to comment and more Sign up Biz & IT —" and the standfirst; the rule that
    # claims that sentence as a sign-in box claims its chrome, not the headline cut out of it
    doc = _alone("ars-1.one_line.txt")
    assert doc.title.startswith("Just-released Minecraft exploit makes it easy to crash game servers")
    assert doc.text.startswith("A flaw in the wildly popular online game Minecraft makes it easy")


@pytest.mark.parametrize("name, title, lead", [
    ("regards.fr-enquetes.one_line.txt",
     "Deux ans et demi en Macronie : une condamnation, dix mises en examen et six enquêtes en cours",
     "On vous aurait bien fait un top 10 des macronistes"),
    ("latercera.com-laagenda.one_line.txt",
     "La agenda con que Interior busca contener la crisis de seguridad y el dilema del oficialismo",
     "Isabel Caro, Rocío Latorre y José Miguel Wilson")])
def test_one_line_page_headline_opening_the_first_sentence_is_the_title(name, title, lead):
    # regards.fr and latercera.com flattened onto one line: the headline opens the body's first
    # "sentence", with no full stop between it and the standfirst or byline ("... en cours On vous
    # aurait ...", "... del oficialismo Isabel Caro, ..."); it is the title, and that sentence stays body
    doc = _alone(name)
    assert doc.title == title
    assert lead in doc.text


def test_one_line_page_headline_shown_twice_opening_the_body_is_the_title():
    # cnet flattened onto one line: the headline and its copy open the body's first sentence
    # ("Zuckerberg offers peek at Facebook's acquisition strategies Zuckerberg offers peek at ...
    # Facebook CEO says ..."), after a long menu
    doc = _alone("cnet.one_line.txt")
    assert doc.title == "Zuckerberg offers peek at Facebook's acquisition strategies"
    assert "Facebook CEO says be a friend and have a shared vision" in doc.text


def test_one_line_page_headline_glued_in_front_of_its_date_is_the_title():
    # a telebasel page (trafilatura's evaluation page 0afd671f) flattened onto one line: photo
    # captions of a gallery, "Region", the headline, then its date ("... in einer Nacht 19.10.2019
    # 11:36 telebasel In der Nacht ..."); the captions name the lead as much as the headline
    doc = _alone("telebasel-0afd671f.one_line.txt")
    assert doc.title == "Junge Lenker schrotten Corvette und Audi in einer Nacht"


def test_one_line_page_section_name_shown_twice_is_not_the_title():
    # webmd-1 flattened onto one line: "Allergies Health Center" stands in the menu and again
    # above the article; the headline is glued between "Font Size A A A" and the byline
    doc = _alone("webmd-1.one_line.txt")
    assert doc.title == "Babies Who Eat Peanuts Early May Avoid Allergy"


def test_one_line_page_lead_words_do_not_beat_a_headline_above_the_body():
    # syracuse.com flattened onto one line: the lead's first sentence ("Today on the first day of
    # Kwanzaa, a week-long celebration which honors African heritage ...") names the rest of the
    # lead too; the headline above the body names it almost as well and stays the title
    assert _alone("syracuse.com1.one_line.txt").title == "Kwanzaa is celebrated at Beauchamp Library"


def test_one_line_page_a_sign_in_box_is_not_the_body():
    # oregonlive.com flattened onto one line: the site's sign-in box ("Remember me Forgot your
    # username and password? Don't have an account? Register now for free ...") above the article
    doc = _alone("oregonlive.com2.one_line.txt")
    assert doc.text.startswith("A 36-year-old part-time missionary")
    for widget in ("Forgot your username", "Register now for free", "You are signed in as"):
        assert widget not in doc.text
    # above the article, the box's lines are navigation (a line rule), whatever the layout
    assert _reasons(doc)["Don't have an account?"] == "navigation"


def test_one_line_page_a_sites_terms_and_e_mail_form_are_not_the_body():
    # details.com flattened onto one line: a three-sentence slideshow intro, then a newsletter
    # form ("Enter your e-mail address") and the site's terms ("use of this site constitutes
    # agreement to its User Agreement", "The material on this site may not be reproduced"),
    # body-like sentences that outweighed the intro
    doc = _alone("details.com2.one_line.txt")
    assert doc.text.startswith("This season, designers updated a classic color")
    assert "The most effortless way to transition into fall" in doc.text
    for chrome_text in ("Enter your e-mail address", "use of this site constitutes", "may not be reproduced"):
        assert chrome_text not in doc.text


def test_one_line_page_a_capitalised_run_between_headline_and_lead_is_chrome():
    # globalnews.ca flattened onto one line: between the line taken as the headline and the
    # lead, a menu ("Politics Money Entertainment ... Contests Like") and a dateline ("Follow
    # World December 29 2014 9:11pm 01:34 Loading...") in title case, no deck
    doc = _alone("globalnews.ca1.one_line.txt")
    assert "Politics Money Entertainment" not in doc.text and "9:11pm" not in doc.text
    assert _reasons(doc)["Politics Money Entertainment Health Lifestyle Tech Science Sports Video Contests Like"] \
        == "top_chrome"


def test_one_line_page_loses_an_embedded_frames_markup():
    # globalnews.ca flattened onto one line: the video's <iframe ...> markup and its fallback text
    # ("Your browser does not support frames. <a href=...>Click here ...</a>") follow the lead
    doc = _alone("globalnews.ca1.one_line.txt")
    assert "twins into the world 12 weeks early." in doc.text
    for markup in ("<iframe", "allowfullscreen", "does not support frames", "</iframe>"):
        assert markup not in doc.text
    assert any(r.reason == "navigation" and r.text.startswith("<iframe") for r in doc.removed)


def test_one_line_page_a_sentence_ending_in_a_straight_quote_ends_a_sentence():
    # cleveland.com flattened onto one line: "In 2014 'i am hungry' was searched a button-popping 7x
    # more than 'i am thirsty.'" ends in a full stop inside straight quotes; read as no sentence
    # end, it cost like a label and cut off the article's last three sentences
    doc = _alone("cleveland.com1.one_line.txt")
    flat = " ".join(doc.text.split())
    assert "more than 'i am thirsty.'" in flat and "The lesson, as always: you are what you search." in flat


def test_one_line_page_headline_keeps_its_short_first_word():
    # liberation.fr flattened onto one line: the headline glued between menus and the lead is
    # found by the lead's words of 4+ letters, so its first word "Un" was left out of the title
    doc = _alone("liberation-1.one_line.txt")
    assert doc.title.startswith("Un troisième Français mort dans le séisme au Népal")


def test_one_line_page_ends_at_a_live_ticker_glued_after_the_article():
    # liberation.fr flattened onto one line: "... sans abri. AFP Recevoir la newsletter ... Direct
    # 14:44 Accusations de viols ... 14:32 Un artiste arrêté ..." and ~40 more timed entries, some
    # with prose of their own, which joined the block (1,149 words kept of a 283-word article)
    doc = _alone("liberation-1.one_line.txt")
    assert doc.text.endswith("Des dizaines de milliers de personnes sont sans abri.")
    for entry in ("Un artiste arrêté pour avoir coloré un geyser", "Merci à tous d'avoir suivi ce live"):
        assert entry not in doc.text


def test_a_news_text_on_one_line_keeps_a_sentence_whose_quote_trails_off():
    # a Russian news text of tgcontest_toloka_pairs sent as one line (title, blank line, text): its
    # second "sentence" runs 137 words to a quote's «...», which is no teaser's excerpt
    doc = _alone("toloka-ru_honey_150_first.txt")
    assert doc.text.startswith("По оценкам специалистов, Одесский припортовый завод")
    assert len(doc.text.split()) > 300


def test_a_header_prompt_is_not_the_title(tmp_path):
    # medium.com: "Ready to publish?" (the site's header) is the first headline-like line
    assert _alone("medium-2.lines.txt").title == "On Behalf of “Literally”"
    body = " ".join([BODY] * 3)
    doc = _doc_from("\n".join(["Home", "World", "Sign in to read more", "Harbour bridge to reopen in May", body,
                               "Storm leaves thousands without power", "Cup final moved to Sunday"]), tmp_path)
    assert doc.title == "Harbour bridge to reopen in May"
    assert _reasons(doc)["Sign in to read more"] == "top_chrome"


def test_one_page_from_an_unknown_site_loses_header_share_line_and_footer():
    # mashable.com, one file, no other page of the site, nothing learnt in a warehouse
    doc = _alone("mashable.com1.lines.txt")
    assert doc.title == "I'm Feeling Lucky: Google's New Year Surprise"
    assert doc.text.startswith("Google doesn't just have a new logo today")
    assert doc.text.endswith("a subtle reminder to visit Google.com once in awhile?")
    reasons = set(_reasons(doc).values())
    assert {"top_chrome", "share_buttons", "copyright_footer"} <= reasons
    for chrome_text in ("Mashable Australia", "Tweet", "©", "Load Comments"):
        assert chrome_text not in doc.text


def _html_page(name, tmp_path):
    path = tmp_path / name.removesuffix(".gz")
    path.write_bytes(gzip.decompress((REAL / name).read_bytes()))
    return path


def test_html_keeps_every_body_paragraph_trafilatura_kept(tmp_path):
    # glamour.com: the line rules used to drop a body sentence above the first long
    # paragraph as top chrome; on HTML only metadata and chrome-wherever-it-stands lines go
    path = _html_page("glamour.com1.html.gz", tmp_path)
    doc = sources.read_document(path)
    extracted = [line.strip() for line in doc.raw_text.splitlines() if line.strip()]
    doc = _alone_doc(doc)
    assert "Oh, RiRi. You truly are an icon." in doc.text
    kept = doc.text
    lost = [r for r in doc.removed if r.reason not in ("metadata_title", "metadata_byline", "metadata_date")]
    assert not lost
    assert all(line in kept or line == doc.title for line in extracted)


def _alone_doc(doc):
    chrome.strip_batch([doc])
    return clean.clean_document(doc)


def test_html_takes_the_fuller_extraction_when_the_precise_one_is_a_fragment(tmp_path):
    # bhg.com: favor_precision keeps 7 words of a 1,100-word article, favor_recall all of it
    doc = _alone_doc(sources.read_document(_html_page("bhg.com1.html.gz", tmp_path)))
    assert doc.accepted and len(doc.text.split()) > 500


def test_a_page_of_short_menu_lines_is_not_taken_for_a_hard_wrap():
    # usnews.com, one block per line: 700 menu and list lines of 4-30 characters made the page
    # look hard-wrapped at 30 columns, and the whole page was joined into two paragraphs
    doc = _alone("usnews.com1.lines.txt")
    assert doc.text.startswith("U.S. News is tracking 2016 visits to Iowa")
    paragraphs = doc.text.split("\n\n")
    assert "Long before the 2014 midterm elections, the next potential candidates" in paragraphs[1]
    for menu in ("Rankings & Advice", "Washington Whispers", "Cartoons"):
        assert menu not in doc.text


def test_an_article_keeps_the_list_it_announces_and_the_headline_naming_its_lead():
    # money.cnn.com: nine short paragraphs around a numbered list ("... as follows:"); a
    # 150-word market-data disclaimer stands alone between the footer's menus
    doc = _alone("cnn.lines.txt")
    assert doc.text.startswith("The U.S. has long been heralded as a land of opportunity")
    assert "Most stock quote data provided by BATS" not in doc.text
    items = [line for line in doc.text.split("\n\n") if line[:1].isdigit()]
    assert items[0] == "1. Finland" and items[-1] == "10. United States" and len(items) == 10
    # the title names what the lead tells, unlike the video player's label above the body
    assert doc.title == "The 'birth lottery' and economic mobility"


def test_a_list_closing_the_article_is_kept():
    # al.com: a calendar announced by "... with host hotel if applicable:" ends the article
    doc = _alone("al.com2.lines.txt")
    assert doc.text.startswith("HUNTSVILLE, Alabama - Hockey players")
    entries = [line for line in doc.text.split("\n\n") if line.startswith("Jan. ")]
    assert len(entries) == 13
    assert doc.text.endswith("Embassy Suites Hotel & Spa, 15")
    assert "See who's On the Move in business" not in doc.text


def test_a_quote_closed_by_a_straight_quote_ends_a_sentence():
    # elle.com: 'What she said: "Have you heard of this thing called Tinder?"' lines
    doc = _alone("elle.com2.lines.txt")
    assert doc.text.endswith("and she’s 42 and just got married and had a baby.\"")
    assert "Another State Joins the Crusade Against Revenge Porn" not in doc.text


def test_headlines_in_title_case_are_not_body_text():
    # lifebuzz.com: two pages whose short articles (a lead and photo captions) sit among lists
    # of title-case headlines ending in full stops; the headline lists were taken for the body
    # of both pages, which then folded as copies of each other
    docs = [_alone(f"lifebuzz.com{k}.lines.txt") for k in (1, 2)]
    assert docs[0].text.startswith("Grammy Award-winning, singer-songwriter Colbie Caillat")
    assert docs[1].text.startswith("Sylvie a 13 year old Husky went on her morning walk")
    for doc in docs:
        assert "Going Viral" not in doc.text and "Urinals You Need To Pee To Believe" not in doc.text


def test_a_site_blurb_alone_does_not_outweigh_an_article_cut_by_embedded_posts():
    # mashable.com: an article of one- and two-sentence paragraphs between embedded tweets and
    # their attribution lines, against the site's 70-word blurb between the footer's menus
    doc = _alone("mashable.com2.lines.txt")
    assert "Mashable is a leading source for news" not in doc.text
    assert "Stansted Airport reported that there were some delays, but flights are operating." in doc.text


def test_an_embedded_posts_text_and_credit_line_do_not_split_the_article():
    # mashable.com2 again: the embedded tweets' texts ("#poweroutage #stanstedairport #Stansted
    # pic.twitter.com/...", a Czech tweet) above their credit lines ("— Fiona Kelly (@fizzlekelly)
    # December 22, 2014") cost the block like labels, and the first paragraphs of the article were
    # cut off (F1 0.69 -> 0.99)
    doc = _alone("mashable.com2.lines.txt")
    assert doc.text.startswith("A power outage at Stansted International Airport in London held up holiday travel")
    assert "The power outage lasted about two hours." in doc.text
    assert "— Fiona Kelly (@fizzlekelly) December 22, 2014" in doc.text
    assert doc.title == "Power outage at London's Stansted airport holds up holiday travel"


def test_the_main_body_block_ends_where_the_readers_comments_begin():
    # wptavern.com (WordPress): share buttons, three related posts with teasers and 13 comments
    # of 20-90 words follow the article; "There are 13 comments" heads the comments
    doc = _alone("wordpress.lines.txt")
    assert doc.text.startswith("Stack Overflow published its analysis of 2017 hiring trends")
    assert doc.text.endswith("These are both highly portable skills that are in demand on the web.")
    for later in ("Sallie Goetsch", "If there were really no demand for WordPress developers", "Reply"):
        assert later not in doc.text


def test_metadata_is_read_from_the_rules_findings_apart_from_removal(tmp_path):
    raw = "\n".join(["Home | World | Sport", "Council Approves Transit Budget", "By Ann Lee",
                     "Published March 3, 2024", BODY, BODY])
    (tmp_path / "x.txt").write_text(raw)
    doc = sources.read_document(tmp_path / "x.txt")
    paragraphs = text.paragraphs(raw)
    layout = clean.page_layout(doc, paragraphs)
    claims = clean._rule_claims(layout, paragraphs)
    title_at = clean._title_index(doc, layout, paragraphs, claims)
    clean.extract_metadata(doc, layout, paragraphs, claims, title_at)
    assert (doc.title, doc.byline, doc.published_at) == ("Council Approves Transit Budget", "Ann Lee",
                                                         date(2024, 3, 3))
    assert doc.removed == []  # reading the metadata removes nothing; strip_boilerplate does
    assert [c.reason if c else None for c in claims[:4]] == [None, None, "metadata_byline", "metadata_date"]
