"""What the conversation view reads in a message's text: links, and whether it is emoji alone.

:func:`find_links` finds web addresses (``https://…``, ``http://…``, ``www.…``) with where
they start and end, so that the view can colour them and open them on a click;
:func:`emoji_count` says how many emoji a text is made of when it is nothing but emoji (one to
three are shown large, as in the chat apps people know).
"""

import re

# the characters a URL may hold (RFC 3986) and nothing else: the address ends at a space,
# a Chinese character or full-width punctuation ("看https://x.org/a，好吗" links x.org/a)
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+",
                  re.IGNORECASE)
_TRAILING = ".,;:!?'\"*"


def find_links(text: str) -> list:
    """The web addresses in ``text``: a list of ``(start, end, url)`` (``url`` is what to open:
    ``www.example.org`` opens ``http://www.example.org``). Punctuation that ends a sentence
    is not part of the address, nor is a closing bracket without its opening one."""
    links = []
    for match in _URL.finditer(text):
        start, end = match.span()
        if start > 0 and (text[start - 1].isascii() and text[start - 1].isalnum()
                          or text[start - 1] in "/.@"):
            continue                 # "xwww.a" or "a.www.b" is not an address of its own
        url = match.group()
        while url:
            if url[-1] in _TRAILING:
                url = url[:-1]
            elif url[-1] == ")" and url.count("(") < url.count(")"):
                url = url[:-1]
            elif url[-1] == "]" and url.count("[") < url.count("]"):
                url = url[:-1]
            else:
                break
        end = start + len(url)
        bare = url.lower().rstrip("/")
        if bare.endswith(":") or bare.endswith("://") or bare == "www" or (
                "." not in url and "localhost" not in bare):
            continue                 # "http://" alone, or "www." with nothing after
        if url.lower().startswith("www."):
            url = "http://" + url
        links.append((start, end, url))
    return links


# ------------------------------------------------------------------ emoji
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x23CF, 0x23CF), (0x23E9, 0x23F3),
    (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB), (0x25B6, 0x25B6),
    (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x27BF), (0x2934, 0x2935),
    (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A), (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA), (0x1F400, 0x1F53D), (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)
ZWJ, VS16, VS15, KEYCAP = "\u200d", "\ufe0f", "\ufe0e", "\u20e3"


def _pictographic(ch: str) -> bool:
    code = ord(ch)
    for low, high in _PICTOGRAPHIC:
        if code < low:
            return False
        if code <= high:
            return True
    return False


def _text_default(ch: str) -> bool:
    """Symbols older than emoji (©, ®, ™, arrows, 〰): emoji only with VS16 after them."""
    code = ord(ch)
    return code < 0x2300 or 0x3030 <= code <= 0x3299


def _modifier(ch: str) -> bool:
    return 0x1F3FB <= ord(ch) <= 0x1F3FF           # skin tones


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF           # the letters of flags


def _tag(ch: str) -> bool:
    return 0xE0020 <= ord(ch) <= 0xE007F           # subdivision flags (England, Scotland)


def emoji_count(text: str, limit: int = 3) -> int:
    """How many emoji ``text`` is made of if it holds emoji and spaces only (a family of
    four joined by ZWJ, a skin tone, a flag or a keycap each count as one), else 0. Counting
    stops past ``limit`` (``limit + 1`` means "more")."""
    chars = [c for c in text if not c.isspace()]
    count, i, n = 0, 0, len(chars)
    while i < n:
        ch = chars[i]
        if _regional(ch):
            if i + 1 >= n or not _regional(chars[i + 1]):
                return 0
            i += 2
        elif ch in "0123456789#*":
            # a keycap: the digit, an optional VS16 and the enclosing keycap mark
            j = i + 1
            if j < n and chars[j] == VS16:
                j += 1
            if j >= n or chars[j] != KEYCAP:
                return 0
            i = j + 1
        elif _pictographic(ch):
            i += 1
            if _text_default(ch) and (i >= n or chars[i] != VS16):
                return 0             # "©" or "™" as text, not the emoji
            while i < n:
                if chars[i] in (VS16, VS15) or _modifier(chars[i]) or _tag(chars[i]):
                    i += 1
                elif chars[i] == ZWJ and i + 1 < n and _pictographic(chars[i + 1]):
                    i += 2
                else:
                    break
        else:
            return 0
        count += 1
        if count > limit:
            return count
    return count
