"""Rules for user names, room names, passwords and conversation references.

A name is 1-32 characters after NFKC normalisation: Unicode letters (with their combining
marks), decimal digits, and ``_ - .``. Two names are the same account or room when their
keys (NFKC, case-folded, NFKC again) are equal, so ``Alice`` and ``ALICE`` collide and
``张伟`` works as it is. Invisible characters (Unicode's default-ignorable code points, such as
U+3164 HANGUL FILLER, a letter by category) are refused. Look-alike names (``аlice`` in
Cyrillic) are the server's to refuse: see ``chat.server.lookalikes``.

A conversation reference names what a message goes to, as the user sees it:
``#lobby`` is a room, ``@alice`` the private chat with alice.
"""

import unicodedata

from chat.protocol.errors import BAD_REQUEST, ProtocolError

NAME_MAX = 32
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
_NAME_PUNCTUATION = frozenset("_-.")
ROOM_PREFIX = "#"
USER_PREFIX = "@"


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that show as
# nothing, several of them letters or marks by category (U+3164 HANGUL FILLER is a letter), so
# "alice" + one of them would be a second "alice" on screen
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def is_default_ignorable(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


def _name_char_ok(ch: str, first: bool) -> bool:
    if ch in _NAME_PUNCTUATION:
        return True
    if is_default_ignorable(ch):
        return False
    category = unicodedata.category(ch)
    if category[0] == "L" or category == "Nd":
        return True
    # combining marks belong to the letter before them (Devanagari, Thai, ...)
    return category[0] == "M" and not first


def normalise_name(raw: str, what: str = "user name") -> str:
    """Return the display form of a name, or raise ``ProtocolError(bad_request)``."""
    if not isinstance(raw, str):
        raise ProtocolError(BAD_REQUEST, f"{what} must be a string")
    name = unicodedata.normalize("NFKC", raw)
    if not 1 <= len(name) <= NAME_MAX:
        raise ProtocolError(BAD_REQUEST, f"{what} must be 1 to {NAME_MAX} characters")
    for index, ch in enumerate(name):
        if is_default_ignorable(ch):
            raise ProtocolError(
                BAD_REQUEST, f"{what} may not hold invisible characters (U+{ord(ch):04X})")
        if not _name_char_ok(ch, index == 0):
            raise ProtocolError(
                BAD_REQUEST,
                f"{what} may hold only letters, digits, '_', '-' and '.' (not {ch!r})")
    return name


def name_key(name: str) -> str:
    """The case-insensitive identity of an already normalised name."""
    return unicodedata.normalize("NFKC", name.casefold())


def normalise_password(raw: str) -> str:
    """The one normalisation of every password the server is given (a new one, a login's,
    the old one of a change): NFC, so that the same keys type the same password on any
    system (macOS input methods send NFD, most others NFC)."""
    if not isinstance(raw, str):
        raise ProtocolError(BAD_REQUEST, "password must be a string")
    return unicodedata.normalize("NFC", raw)


def check_password(raw: str) -> str:
    """Return a *new* password, normalised, if its length is allowed."""
    password = normalise_password(raw)
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ProtocolError(
            BAD_REQUEST, f"password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def check_operator_password(raw: str) -> str:
    """A password the server's operator sets (``chatctl adduser``/``passwd``), normalised:
    any length from 1 to ``PASSWORD_MAX``. The ``PASSWORD_MIN`` of registration is the
    operator's to waive (test accounts, scripted set-ups); chatctl warns when it does."""
    password = normalise_password(raw)
    if not 1 <= len(password) <= PASSWORD_MAX:
        raise ProtocolError(BAD_REQUEST, f"password must be 1 to {PASSWORD_MAX} characters")
    return password


def parse_conv(ref: str) -> tuple[str, str]:
    """Split ``#room`` / ``@user`` into ``("room"|"user", normalised name)``."""
    if not isinstance(ref, str) or len(ref) < 2:
        raise ProtocolError(BAD_REQUEST, "a conversation is '#room' or '@user'")
    prefix, rest = ref[0], ref[1:]
    if prefix == ROOM_PREFIX:
        return "room", normalise_name(rest, "room name")
    if prefix == USER_PREFIX:
        return "user", normalise_name(rest)
    raise ProtocolError(BAD_REQUEST, "a conversation is '#room' or '@user'")
