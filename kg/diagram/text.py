"""Text in the diagram: font sizes, glyph widths (the layout measures labels with them), word wrap,
clipping and number formatting."""

FONT, SMALL = 12, 10
CHAR, SMALL_CHAR, BOLD_CHAR = 6.6, 5.5, 7.0     # average glyph widths of the sans-serif font
LABEL_CHARS, LABEL_LINES = 22, 2
ZONE_LABEL_CHARS = 40
LABEL_H = 14


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:max(1, limit - 1)].rstrip() + "…"


def wrap(text: str, width: int = LABEL_CHARS, lines: int = LABEL_LINES) -> list[str]:
    """Greedy word wrap to at most `lines` lines of `width` characters; the last is cut with '…'."""
    words = [w[i:i + width] for w in text.split() for i in range(0, len(w), width)] or [""]
    out = [words[0]]
    for word in words[1:]:
        if len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = clip(out[-1] + "…", width)
    return out


def num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")
