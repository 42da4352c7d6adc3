"""Field checkers used by the command classes.

A checker takes ``(field name, raw JSON value)`` and returns the value to keep, or raises
``ProtocolError(bad_request)`` naming the field. Each is a small closure so that a command
declares its fields in one line each.
"""

import unicodedata

from chat.protocol import names
from chat.protocol.errors import BAD_REQUEST, TOO_LARGE, ProtocolError

MAX_SAFE_INT = 2**53 - 1  # what a JavaScript or JSON peer can hold exactly


def _bad(field: str, what: str) -> ProtocolError:
    return ProtocolError(BAD_REQUEST, f"field {field!r} {what}")


def integer(low: int = 0, high: int = MAX_SAFE_INT):
    def check(field, value):
        if type(value) is not int or not low <= value <= high:
            raise _bad(field, f"must be an integer from {low} to {high}")
        return value
    return check


def number(low: float, high: float):
    def check(field, value):
        if type(value) not in (int, float) or not low <= value <= high:
            raise _bad(field, f"must be a number from {low} to {high}")
        return value
    return check


def boolean(field, value):
    if type(value) is not bool:
        raise _bad(field, "must be true or false")
    return value


def text(low: int = 0, high: int = 1024, too_large: bool = False):
    """A string of ``low``..``high`` characters; with ``too_large``, overlong is ``too_large``."""
    def check(field, value):
        if type(value) is not str:
            raise _bad(field, "must be a string")
        if len(value) > high and too_large:
            raise ProtocolError(TOO_LARGE, f"field {field!r} is over {high} characters")
        if not low <= len(value) <= high:
            raise _bad(field, f"must be {low} to {high} characters")
        try:
            value.encode("utf-8")  # lone surrogates from "\ud800" escapes cannot be re-sent
        except UnicodeEncodeError:
            raise _bad(field, "holds an invalid Unicode surrogate") from None
        return value
    return check


def request_id(field, value):
    """A client's request id: a non-negative integer or a short string."""
    if type(value) is int and 0 <= value <= MAX_SAFE_INT:
        return value
    if type(value) is str and 1 <= len(value) <= 64:
        return value
    raise _bad(field, "must be an integer or a string of 1 to 64 characters")


def user_name(field, value):
    return names.normalise_name(value, f"field {field!r}")


def room_name(field, value):
    if type(value) is str and value.startswith(names.ROOM_PREFIX):
        value = value[1:]
    return names.normalise_name(value, f"field {field!r}")


def password(field, value):
    """A new password: normalised, and its length checked."""
    return names.check_password(value)


_password_given_text = text(1, 1024)


def password_given(field, value):
    """A password typed to prove who one is (login, the old one of a change): normalised
    as a new one was, any length up to 1,024 (the rules may have changed since)."""
    return names.normalise_password(_password_given_text(field, value))


def conv_ref(field, value):
    """``#room`` or ``@user``, kept in its normalised string form."""
    kind, name = names.parse_conv(value)
    return (names.ROOM_PREFIX if kind == "room" else names.USER_PREFIX) + name


def mapping(field, value):
    if not isinstance(value, dict):
        raise _bad(field, "must be an object")
    return value


def listing(field, value):
    if not isinstance(value, list):
        raise _bad(field, "must be a list")
    return value


def anything(field, value):
    return value


def one_of(*choices):
    def check(field, value):
        if value not in choices:
            raise _bad(field, f"must be one of {', '.join(map(str, choices))}")
        return value
    return check


def list_of(item_check, high: int):
    def check(field, value):
        if not isinstance(value, list) or len(value) > high:
            raise _bad(field, f"must be a list of at most {high} items")
        return [item_check(field, item) for item in value]
    return check


def sha256_hex(field, value):
    """64 lowercase hexadecimal digits."""
    if type(value) is not str or len(value) != 64 or value.strip("0123456789abcdef"):
        raise _bad(field, "must be 64 lowercase hexadecimal digits (a SHA-256)")
    return value


def file_name(field, value):
    """A file name by the rules of chat.protocol.filenames (returned made safe)."""
    from chat.protocol.filenames import offered_name
    return offered_name(text(1, 4096)(field, value))


def file_target(field, value):
    """``#room``, ``@user`` or ``@all`` (everybody; admins only)."""
    if value == "@all":
        return value
    return conv_ref(field, value)


# Code points that would make a reaction lie about what it is or break a line: bidi
# controls (they reorder what follows), line and paragraph separators, BOM.
_REACTION_REFUSED = frozenset(
    [0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def reaction(field, value):
    """An emoji reaction: 1-32 characters, no whitespace or control characters, and at least
    one character outside ASCII (so that ``+1`` or ``ok`` are not reactions; a keycap ``1️⃣``
    is, by its U+FE0F and U+20E3)."""
    value = text(1, 32)(field, value)
    for ch in value:
        if (ch.isspace() or ord(ch) in _REACTION_REFUSED
                or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")):
            raise _bad(field, "must be an emoji without spaces or control characters")
    if value.isascii():
        raise _bad(field, "must be an emoji, not plain ASCII text")
    return value


def timestamp(field, value):
    """A wire time (``2026-12-04T07:00:00.000Z``, any ISO 8601 with a time zone), kept as
    given; the server reads it with :func:`chat.protocol.timestamps.parse_ts`."""
    from chat.protocol.timestamps import parse_ts
    value = text(1, 64)(field, value)
    if not ("Z" in value or "+" in value[10:] or "-" in value[10:]):
        raise _bad(field, "must be an ISO 8601 time with its time zone (…Z)")
    try:
        parse_ts(value)
    except (ValueError, OverflowError, OSError):
        raise _bad(field, "must be an ISO 8601 time such as 2026-12-04T07:00:00.000Z") from None
    return value
