"""How wide a text is drawn, approximately, and lines of text wrapped to a width: for the SVG
drawn on the server (the value stream map, the flow chart), whose labels must fit their boxes
without a browser to measure them.

The widths are those of Liberation Sans (metrically the same as Arial and Helvetica), the
first font the drawings name, in thousandths of the font size. A character not in the table
counts as wide: a full em for East Asian wide characters, and the width of "M" for any
other, so an estimate errs on the wide side and a label is never wider than its room.
"""

import unicodedata
from functools import lru_cache

ELLIPSIS = "…"

_REGULAR = {
    " ": 278, "!": 278, '"': 355, "#": 556, "$": 556, "%": 889, "&": 667, "'": 191,
    "(": 333, ")": 333, "*": 389, "+": 584, ",": 278, "-": 333, ".": 278, "/": 278,
    ":": 278, ";": 278, "<": 584, "=": 584, ">": 584, "?": 556, "@": 1015,
    "A": 667, "B": 667, "C": 722, "D": 722, "E": 667, "F": 611, "G": 778, "H": 722,
    "I": 278, "J": 500, "K": 667, "L": 556, "M": 833, "N": 722, "O": 778, "P": 667,
    "Q": 778, "R": 722, "S": 667, "T": 611, "U": 722, "V": 667, "W": 944, "X": 667,
    "Y": 667, "Z": 611, "[": 278, "\\": 278, "]": 278, "^": 469, "_": 556, "`": 333,
    "a": 556, "b": 556, "c": 500, "d": 556, "e": 556, "f": 278, "g": 556, "h": 556,
    "i": 222, "j": 222, "k": 500, "l": 222, "m": 833, "n": 556, "o": 556, "p": 556,
    "q": 556, "r": 333, "s": 500, "t": 278, "u": 556, "v": 500, "w": 722, "x": 500,
    "y": 500, "z": 500, "{": 334, "|": 260, "}": 334, "~": 584,
    "…": 1000, "—": 1000, "–": 556, "·": 278, "•": 350, "▪": 604, "⚠": 1000, "→": 1000,
    "€": 556, "£": 556, "¥": 556, "Σ": 713, "‘": 222, "’": 222, "“": 333, "”": 333,
    "\u00a0": 278, "\u202f": 278,
}  # fmt: skip
_BOLD = {
    **_REGULAR,
    "!": 333, '"': 474, "&": 722, "'": 238, ":": 333, ";": 333, "?": 611, "@": 975,
    "A": 722, "B": 722, "J": 556, "K": 722, "L": 611, "[": 333, "]": 333, "^": 584,
    "b": 611, "c": 556, "d": 611, "f": 333, "g": 611, "h": 611, "i": 278, "j": 278,
    "k": 556, "l": 278, "m": 889, "n": 611, "o": 611, "p": 611, "q": 611, "r": 389,
    "s": 556, "t": 333, "u": 611, "v": 556, "w": 778, "x": 556, "y": 556, "{": 389,
    "|": 280, "}": 389,
}  # fmt: skip
for _digit in "0123456789":
    _REGULAR[_digit] = _BOLD[_digit] = 556


@lru_cache(maxsize=4096)
def _char_width(char: str, bold: bool) -> int:
    table = _BOLD if bold else _REGULAR
    width = table.get(char)
    if width is not None:
        return width
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1000
    if unicodedata.combining(char):
        return 0
    base = unicodedata.normalize("NFD", char)[0]  # é → e
    return table.get(base, table["M"])


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width in pixels of ``text`` drawn at ``size`` pixels."""
    return sum(_char_width(char, bold) for char in text) * size / 1000


def fit(text: str, width: float, size: float, *, bold: bool = False) -> str:
    """``text`` cut with … to be at most ``width`` wide (unchanged if it fits)."""
    text = " ".join(text.split())
    if text_width(text, size, bold=bold) <= width:
        return text
    room = width - text_width(ELLIPSIS, size, bold=bold)
    kept, used = [], 0.0
    for char in text:
        used += _char_width(char, bold) * size / 1000
        if used > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def wrap(
    text: str, width: float, size: float, *, bold: bool = False, lines: int = 0
) -> tuple[list[str], bool]:
    """``text`` broken into lines at most ``width`` wide, between words (a word wider than a
    line is broken inside), and whether it had to be cut: with ``lines``, the last line kept
    ends with … when more were needed."""
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold=bold) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        while text_width(word, size, bold=bold) > width:
            head = fit(word, width, size, bold=bold)[:-1] or word[0]
            out.append(head)
            word = word[len(head) :]
        current = word
    if current or not out:
        out.append(current)
    if lines and len(out) > lines:
        out = out[:lines]
        out[-1] = fit(out[-1] + " " + ELLIPSIS, width, size, bold=bold)
        return out, True
    return out, False
