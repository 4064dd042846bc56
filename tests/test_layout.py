"""pipeline/layout.py: body paragraphs, the main body block, the headline."""
from pipeline import layout
from pipeline.model import Unit

BODY = ("The city council approved the new transit budget on Monday after a long debate about "
        "bus routes and the cost of running the night service.")


def units(*texts):
    return [Unit(i, i + 1, t) for i, t in enumerate(texts)]


def test_body_paragraphs_are_prose_not_title_case_headlines_or_menus():
    assert layout.is_body(BODY)
    assert layout.is_body("Barack Obama met Angela Merkel and Francois Hollande in Berlin on Monday morning.")
    assert not layout.is_body("He Visited This Gas Station Bathroom And Was Shocked By What He Discovered Inside.")
    assert not layout.is_body("Home News Sport Business Culture Opinion Weather Travel Money Jobs Cars Homes "
                              "Video Podcasts Puzzles Newsletters Events Shop About Contact")
    assert not layout.is_body("Short line.")


def test_the_main_body_block_does_not_cross_a_headline_list():
    headlines = [f"Story Number {k} Makes Headlines Across The Region" for k in range(8)]
    paragraphs = units("Home News Sport", "Council Approves Transit Budget", BODY, BODY, BODY,
                       *headlines, "A teaser of another story that ran on the site last week, in one sentence.")
    assert layout.main_block(paragraphs) == (2, 4)


def test_the_headline_is_the_line_above_the_byline():
    paragraphs = units("Latest news: markets close higher", "Council Approves Transit Budget", "By Ann Lee",
                       BODY, BODY)
    assert layout.headline_index(paragraphs) == 1
    assert layout.byline_name("By Ann Lee") == "Ann Lee"


def test_prompts_are_never_headlines():
    assert layout.headline_like("Council Approves Transit Budget")
    assert not layout.headline_like("Sign up for our daily newsletter")
    assert not layout.headline_like("The council met. It voted.")


def test_the_headline_of_a_page_flattened_onto_one_line_is_cut_out_of_the_text_around_it():
    glued = ("Home World Sport Business Sign in Subscribe Council Approves Transit Budget After Long Debate "
             "By Ann Lee March 3, 2024 Share this article")
    lead = ("The city council approved the transit budget on Monday after a long debate about bus routes, "
            "night service and fares.")
    paragraphs = [Unit(0, 1, glued, sentence=True)] + [Unit(i, i + 1, lead, sentence=True) for i in range(1, 6)]
    found = layout._headline_in_glued_text(paragraphs, 0, 1, layout._lead_words(paragraphs, 1, [1, 2, 3, 4, 5]))
    assert found == (0, "Council Approves Transit Budget After Long Debate")


def test_a_glued_run_of_a_page_flattened_onto_one_line_is_no_article_text():
    # a sentence-case menu and teasers: under half capitalised, so no menu by MENU_CAPITALS
    glued = " ".join(["Latest news on the Markets and the Economy"] * 13) + " today."
    prose = " ".join(["the council said it would review the budget before the vote"] * 10) + "."
    assert layout.body_weight(glued, sentence=True) < 0  # 105 words, over a quarter capitalised
    assert layout.body_weight(prose, sentence=True) > 0  # a run-on sentence of prose stays text
    assert layout.body_weight(glued, sentence=False) > 0  # a line of its own is judged as before


def test_the_body_block_of_a_page_flattened_onto_one_line_ends_at_a_glued_comments_heading():
    body = [Unit(i, i + 1, BODY, sentence=True) for i in range(4)]
    comments = [Unit(4, 5, "Posted in News Tagged budget There are 13 comments Ann Lee wrote: I agree with "
                           "the council on this one.", sentence=True)] + [
        Unit(i, i + 1, BODY, sentence=True) for i in range(5, 12)]
    assert layout.main_block(body + comments) == (0, 3)


def test_a_repeated_headline_search_on_a_degenerate_page_compares_few_showings(monkeypatch):
    # A one-line page of one word repeated 30,000 times took minutes (hostile drops): every
    # showing of "lorem lorem lorem" was compared with every earlier one, as far as it ran.
    # A headline is shown twice, so a run shown more often is compared a few times only.
    compared = []
    real = layout._lead_overlap
    monkeypatch.setattr(layout, "_lead_overlap", lambda text, lead: compared.append(len(text)) or real(text, lead))
    words = 2_000
    paragraphs = units("lorem " * words + "ends here.", BODY)
    layout._repeated_headline(paragraphs, 0, 1, {"lorem"})
    assert len(compared) <= layout.MAX_GRAM_SHOWINGS * words
    assert max(compared) <= len("lorem ") * layout.MAX_REPEATED_HEADLINE_WORDS
