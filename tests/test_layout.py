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
