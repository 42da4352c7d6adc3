"""What a client gets once it is registered: 001-005 (with the ISUPPORT tokens) and the MOTD."""

from dataclasses import dataclass, field

from chat.protocol import commands as C
from chat.server.irc import numerics as N
from chat.server.irc.casemap import CASEMAPPING, CHANNELLEN, NICKLEN
from chat.server.irc.lines import Message

TOKENS_PER_LINE = 13
"""ISUPPORT tokens per 005 line (so that a line stays well under 512 bytes)."""
USER_MODES = "io"
CHANNEL_MODES = "intov"
MAX_CHANNELS = 50
AWAYLEN = 300
KICKLEN = C.REASON_MAX

DEFAULT_MOTD = (
    "Welcome to {network}. Its rooms are channels here: /join #lobby",
    "Private chats are /msg <nick>. What you send is kept in the history.",
    "欢迎来到 {network}：房间就是频道（/join #lobby），私聊用 /msg 昵称。",
)


@dataclass
class ServerInfo:
    """What the welcome says about the server."""

    name: str                      # the server's name on IRC (--irc-server-name)
    network: str                   # NETWORK= (the same name by default)
    version: str = "chat"
    created: str = ""              # when the server started, for 003
    topic_len: int = C.TOPIC_MAX
    motd: tuple = field(default_factory=lambda: DEFAULT_MOTD)


def isupport_tokens(info: ServerInfo) -> list:
    """The ISUPPORT (005) tokens, as ``KEY`` or ``KEY=value``."""
    return [
        "AWAYLEN=%d" % AWAYLEN,
        "CASEMAPPING=" + CASEMAPPING,
        "CHANLIMIT=#:%d" % MAX_CHANNELS,
        "CHANMODES=,,,int",
        "CHANNELLEN=%d" % CHANNELLEN,
        "CHANTYPES=#",
        "CHATHISTORY=%d" % C.HISTORY_PAGE_MAX,
        "KICKLEN=%d" % KICKLEN,
        "MODES=4",
        "MSGREFTYPES=msgid,timestamp",
        "NETWORK=" + _token_value(info.network),
        "NICKLEN=%d" % NICKLEN,
        "PREFIX=(ov)@+",
        "TARGMAX=NAMES:1,LIST:1,KICK:1,WHOIS:1,USERHOST:5,PRIVMSG:4,NOTICE:4,JOIN:,PART:",
        "TOPICLEN=%d" % info.topic_len,
        "UTF8ONLY",
    ]


def _token_value(text: str) -> str:
    """A token's value as ISUPPORT writes it: ASCII only, space, ``\\`` and ``=`` and every
    byte of a character that is not ASCII as ``\\xHH`` (a server named 学校 is
    ``NETWORK=\\xE5\\xAD\\xA6\\xE6\\xA0\\xA1``)."""
    out = []
    for ch in text:
        if ch in " \\=" or not 0x21 <= ord(ch) <= 0x7E:
            out.extend("\\x%02X" % byte for byte in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def welcome(info: ServerInfo, nick: str, user_host: str) -> list:
    """001-005, the user counts are left out (not needed by clients), then the MOTD."""
    out = [
        Message(N.RPL_WELCOME, [nick, f"Welcome to the {info.network} IRC gateway, "
                                      f"{nick}!{user_host}"]),
        Message(N.RPL_YOURHOST, [nick, f"Your host is {info.name}, running version "
                                       f"{info.version}"]),
        Message(N.RPL_CREATED, [nick, f"This server was created {info.created or 'today'}"]),
        Message(N.RPL_MYINFO, [nick, info.name, info.version, USER_MODES, CHANNEL_MODES, "ov"]),
    ]
    out.extend(isupport_lines(info, nick))
    out.extend(motd(info, nick))
    return out


def isupport_lines(info: ServerInfo, nick: str) -> list:
    tokens = isupport_tokens(info)
    return [Message(N.RPL_ISUPPORT, [nick, *tokens[i:i + TOKENS_PER_LINE],
                                     "are supported by this server"])
            for i in range(0, len(tokens), TOKENS_PER_LINE)]


def motd(info: ServerInfo, nick: str) -> list:
    if not info.motd:
        return [Message(N.ERR_NOMOTD, [nick, "MOTD File is missing"])]
    out = [Message(N.RPL_MOTDSTART, [nick, f"- {info.name} Message of the day - "])]
    out += [Message(N.RPL_MOTD, [nick, "- " + line.format(network=info.network)])
            for line in info.motd]
    out.append(Message(N.RPL_ENDOFMOTD, [nick, "End of /MOTD command."]))
    return out
