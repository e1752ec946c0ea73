"""Text measured without a browser (core.textwidth): the widths of Liberation Sans, lines
wrapped to a width, a text cut with … to its room."""

import pytest

from core import textwidth


def test_widths_are_those_of_the_font_at_its_size():
    # H 722, e 556, l 222 twice, o 556: 2278 thousandths of an em.
    assert textwidth.text_width("Hello", 10) == pytest.approx(22.78)
    assert textwidth.text_width("Hello", 10, bold=True) > textwidth.text_width("Hello", 10)
    assert textwidth.text_width("", 12) == 0
    # An accented letter as its base; a wide character as a full em; others as an M.
    assert textwidth.text_width("é", 10) == textwidth.text_width("e", 10)
    assert textwidth.text_width("請", 10) == 10
    assert textwidth.text_width("ŧ", 10) >= textwidth.text_width("t", 10)


def test_wrap_breaks_between_words_within_the_width():
    lines, cut = textwidth.wrap("Register the claim and check the cover", 100, 12)
    assert lines == ["Register the claim", "and check the", "cover"]
    assert not cut
    assert all(textwidth.text_width(line, 12) <= 100 for line in lines)
    # "Register the claim" is 96.0 px wide: narrower than that, "claim" goes on.
    assert textwidth.wrap("Register the claim", 96, 12)[0] == ["Register the", "claim"]


def test_wrap_breaks_a_word_wider_than_a_line_and_cuts_what_does_not_fit():
    lines, cut = textwidth.wrap("Supercalifragilisticexpialidocious", 60, 12)
    assert "".join(lines) == "Supercalifragilisticexpialidocious" and len(lines) > 1
    assert all(textwidth.text_width(line, 12) <= 60 for line in lines)
    lines, cut = textwidth.wrap("one two three four five six seven", 40, 12, lines=2)
    assert cut and len(lines) == 2 and lines[-1].endswith("…")
    assert textwidth.text_width(lines[-1], 12) <= 40


def test_fit_keeps_a_text_that_fits_and_cuts_one_that_does_not():
    assert textwidth.fit("Claims", 100, 12) == "Claims"
    cut = textwidth.fit("Policy Administration Platform", 100, 12)
    assert cut.endswith("…") and cut.startswith("Policy")
    assert textwidth.text_width(cut, 12) <= 100
