"""Nicks and channel names on IRC, and how they map to the server's accounts and rooms.

A nick is an account's (or guest's) name as it is, a channel is ``#`` and a room's name:
``lobby`` is ``#lobby``, ``张伟`` is the nick ``张伟``. The same rules as the native protocol
apply (:mod:`chat.protocol.names`): 1-32 characters after NFKC, letters, digits, ``_ - .``.
Two nicks (or channels) are the same when their keys are: NFKC, Unicode case folding, NFKC
again (:func:`chat.protocol.names.name_key`). This is what ``CASEMAPPING=rfc8265`` asks
(RFC 8265's UsernameCaseMapped: width mapping, case folding, normalisation) for every name
both allow; NFKC also maps compatibility characters (``ﬁ`` -> ``fi``) that RFC 8265 refuses,
and IRC's ``[]\\^`` / ``{}|~`` equivalence of rfc1459 does not arise, those characters are
not allowed in names.
"""

import unicodedata

from chat.protocol.errors import ProtocolError
from chat.protocol.names import NAME_MAX, name_key, normalise_name

CASEMAPPING = "rfc8265"
CHANNEL_PREFIX = "#"
NICKLEN = NAME_MAX
CHANNELLEN = NAME_MAX + 1


class BadName(ValueError):
    """A nick or channel name the server cannot use; ``str()`` says why."""


def nick_name(nick: str) -> str:
    """The display form of a nick, or :class:`BadName`."""
    if not nick or nick.startswith(("#", ":", "&", "+", "!", "@", "$")):
        raise BadName("nicks are 1 to 32 letters, digits, '_', '-' or '.'")
    try:
        return normalise_name(nick, "nick")
    except ProtocolError as error:
        raise BadName(error.message) from None


def nick_key(nick: str) -> str:
    """The key a nick is compared by (its account's key); :class:`BadName` if it is none."""
    return name_key(nick_name(nick))


def is_channel(target: str) -> bool:
    return target.startswith(CHANNEL_PREFIX)


def channel_room(channel: str) -> str:
    """``#Lobby`` -> ``Lobby`` (the room's display name), or :class:`BadName`."""
    if not channel.startswith(CHANNEL_PREFIX) or len(channel) < 2:
        raise BadName("channel names start with '#'")
    try:
        return normalise_name(channel[1:], "channel name")
    except ProtocolError as error:
        raise BadName(error.message) from None


def channel_key(channel: str) -> str:
    """The room key a channel name is compared by, or :class:`BadName`."""
    return name_key(channel_room(channel))


def room_channel(room_name: str) -> str:
    return CHANNEL_PREFIX + room_name


def irc_fold(text: str) -> str:
    """Fold any text (a mask, an unknown target) the way names are folded, for matching."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
