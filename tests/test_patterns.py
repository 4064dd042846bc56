"""pipeline/patterns.py: what chrome and metadata lines look like (the clean stage's patterns)."""
import pytest

from pipeline import patterns


def test_the_comments_heading_is_not_a_count_next_to_the_byline():
    assert patterns.comments_heading("Leave a Reply Cancel reply")
    assert patterns.comments_heading("There are 13 comments")
    assert not patterns.comments_heading("36 comments")


@pytest.mark.parametrize("line", ["© 2024 Example Media", "Copyright 2014 The Daily. All rights reserved."])
def test_legal_footers(line):
    assert patterns.legal_footer(line)


def test_a_sentence_about_copyright_law_is_no_footer():
    assert not patterns.legal_footer("The court said the copyright claim was weak.")


@pytest.mark.parametrize("line", ["Published: March 3, 2021", "Updated 2021-03-03 14:05", "3 March 2021 | 2:05 pm"])
def test_date_lines(line):
    assert patterns.DATE_LINE.match(line)


def test_a_sentence_with_a_date_is_no_date_line():
    assert not patterns.DATE_LINE.match("On March 3, 2021 the council met again.")


def test_bylines_name_the_author():
    assert patterns.BYLINE.match("By Jane Roe").group(1) == "Jane Roe"
    assert not patterns.BYLINE.match("Bystanders watched the fire")


def test_a_comments_heading_glued_inside_a_sentence():
    from pipeline.patterns import comments_heading_inside

    assert comments_heading_inside("Posted in News Tagged jobs There are 13 comments Sallie Goetsch wrote")
    assert comments_heading_inside("Read/Post Comments (25) | Recommend This Article (46)")
    assert comments_heading_inside("View comments (27) Read the Terms of Use")
    assert not comments_heading_inside("The minister declined to comment on the report.")
    assert not comments_heading_inside("there are 13 comments in the file, the clerk said.")
    assert comments_heading_inside("in the comments! show comments What do you think?")
    assert not comments_heading_inside("Science Associated Press 11Comments. Click to view comments Russia: Space")
    assert not comments_heading_inside("Records show comments were deleted by the mayor's office.")


def test_a_comment_widget_prompt_and_a_related_heading_glued_inside_a_sentence():
    from pipeline.patterns import comments_heading_inside, related_heading_inside

    assert comments_heading_inside("Politics & Government American flag Sign in to post a reply.")
    assert comments_heading_inside("Comments (10580) Sign in to post a comment.")
    assert not comments_heading_inside("Comments (25) Need a reason to invest in stocks?")  # a count by the byline
    assert comments_heading_inside("Share on TwitterTweet Comments Show Comments Discussion Policy")  # washingtonpost
    assert not comments_heading_inside("The app will show comments from readers, she said.")
    assert comments_heading_inside("Kim Gump, Dallas Top Picks Comments To post a comment, log into your network")
    assert comments_heading_inside("Share your thoughts » 0 comments about this story.")
    assert comments_heading_inside("Start the discussion » Credit: Courtesy of IBM Research India")
    assert comments_heading_inside("You can find our Community Guidelines in full here. Be part of the conversation")
    assert related_heading_inside("There was no listed phone number for the club. Related Stories NYPD identifies")
    assert related_heading_inside("Watch Kroll Show's Liz hang out with Seth Rogen Suggested Reads More Great Job")
    assert not related_heading_inside("The related stories ran in the paper on Monday.")
    assert not related_heading_inside("Related Articles Reuters box")  # set between an article's paragraphs


def test_a_sign_in_box():
    from pipeline.patterns import login_box

    assert login_box("Sign in to OregonLive.com Remember me Forgot your username and password?")
    assert login_box("Register now for free, or sign in with any of these services: You are signed in as")
    assert not login_box("The bank said the account holders would be told on Monday.")


def test_a_ticker_of_timed_headlines():
    from pipeline.patterns import ticker

    assert ticker("Direct 14:44 Accusations de viols : 14 militaires mis en cause 14:32 Un artiste arrêté")
    assert ticker("02:00 News Hour BC BC grandmother breaks another marathon record 22:59 Global National")
    assert not ticker("The store opens at 9:00 AM and closes at 5:00 PM on weekdays.")
    assert not ticker("The polls opened at 7:00 and closed at 20:00, the commission said.")
    # three make the live ticker that ends a one-line page's body block (layout.main_block)
    assert ticker("Direct 14:44 Accusations de viols : 14 militaires 14:32 Un artiste 13:54 En Islande", 3)
    assert not ticker("Direct 14:44 Accusations de viols : 14 militaires mis en cause 14:32 Un artiste arrêté", 3)


def test_share_bars_among_a_sentences_words():
    from pipeline.patterns import share_runs

    def runs(text):
        return share_runs(text.split(" "))

    assert runs("5,263 facebook linkedin twitter google+ print email The UK may be forced") == [(1, 7)]
    assert runs("Share on Facebook Share on Twitter Share by email Words need defenders.") == [(0, 9)]
    assert runs("Send it by email and print it, she said on Facebook.") == []


def test_related_headings_of_sites_in_other_languages():
    from pipeline.patterns import RELATED_HEADING

    for heading in ("Mirá también", "Le puede interesar", "Veja Também:", "Neueste Artikel",
                    "Die meistgelesenen Artikel bei SWR.de/Sport", "À lire aussi", "Leggi anche", "Lees ook"):
        assert RELATED_HEADING.match(heading), heading
    # whole lines only: the same words inside a sentence are prose
    assert not RELATED_HEADING.match("Lesen Sie auch, was der Minister am Montag dazu sagte, bevor er abreiste.")


def test_an_embedded_posts_credit_line():
    assert patterns.EMBEDDED_POST_CREDIT.match("— Fiona Kelly (@fizzlekelly) December 22, 2014")
    assert patterns.EMBEDDED_POST_CREDIT.match("— Jiří Hošek (@hosekj) December 22, 2014")
    assert not patterns.EMBEDDED_POST_CREDIT.match("Follow Fiona Kelly (@fizzlekelly) on Twitter")
    assert not patterns.EMBEDDED_POST_CREDIT.match("— Fiona Kelly (@fizzlekelly) said the planes were stuck, December 22, 2014")
