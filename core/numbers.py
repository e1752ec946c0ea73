"""Numbers read from text a client sends (query parameters, command arguments)."""


def whole_number(text: str | None) -> int | None:
    """The whole number ``text`` writes in ASCII digits, or None. ``str.isdigit`` alone also
    takes other scripts' digits and superscripts ("²"), some of which ``int`` refuses."""
    if text and text.isascii() and text.isdigit():
        return int(text)
    return None
