"""Logging an IRC connection in, and what it gets once registered.

Three ways, all through the server's own login handler (same password hashing in a thread,
same backoff after failures, same bans):

* SASL PLAIN during CAP negotiation: the account is logged in before registration ends; the
  nick becomes the account's name.
* ``PASS <password>`` with ``NICK <account name>``: checked when NICK and USER are in.
* Neither: a nick that is an account's name is reserved (433); any other nick is a guest if
  the server allows guests, else registration waits for SASL or PASS (the client is told).
"""

from twisted.internet import defer

from chat.protocol import commands as C
from chat.protocol.errors import BAD_CREDENTIALS, BANNED, NAME_TAKEN, ProtocolError, RATE_LIMITED
from chat.server.irc import channel_commands
from chat.server.irc import numerics as N
from chat.server.irc.gateway import make_request as make
from chat.server.irc.casemap import BadName, nick_name
from chat.server.irc.lines import Message
from chat.server.irc.render import clean_ident
from chat.server.irc.welcome import welcome as welcome_lines

NEEDS_ACCOUNT = ("This server has no guests: log in with SASL PLAIN (your account's name and "
                 "password) or send PASS <password> for the nick of your account. "
                 "本服务器需要账户：请用 SASL PLAIN 或 PASS <密码> 登录。")


def login_request(connection, name: str, password: str):
    """Log ``connection`` in as ``name``: a Deferred of the login reply (ProtocolError on a
    refusal)."""
    try:
        request = make(C.Login, username=name, password=password)
    except ProtocolError as error:
        return defer.fail(error)
    return connection.gateway.request(connection, request)


def guest_request(connection, name: str):
    """A guest login under ``name`` if the server has guests, else None."""
    guest_class = getattr(C, "GuestLogin", None)
    if guest_class is None or not getattr(connection.server.config, "allow_guests", False):
        return None
    try:
        request = make(guest_class, username=name)
    except ProtocolError as error:
        return defer.fail(error)
    return connection.gateway.request(connection, request)


def check(connection, registration):
    """Decide the login of a connection whose NICK and USER are in (Registration's driver);
    the Deferred of the login when it is not decided at once, else None."""
    nick = registration.nick
    if connection.session is not None:
        registration.accepted()           # SASL did it
        return
    try:
        name = nick_name(nick)
    except BadName as error:
        connection.numeric(N.ERR_ERRONEUSNICKNAME, nick, f"Erroneous nickname: {error}")
        registration.nick = None
        registration.refused()
        return
    if registration.password is not None:
        password, registration.password = registration.password, None
        d = login_request(connection, name, password)
        return d.addCallbacks(lambda _: _accepted(connection, registration),
                              lambda failure: _login_failed(connection, registration, failure))
    if connection.gateway.is_account(name):
        # kept: a PASS may still come for it (or another NICK)
        connection.numeric(N.ERR_NICKNAMEINUSE, nick,
                           "Nickname is reserved for an account: log in with SASL or PASS")
        registration.refused()
        return
    d = guest_request(connection, name)
    if d is None:
        connection.server_notice(NEEDS_ACCOUNT)
        registration.refused()          # PASS or AUTHENTICATE may still come
        return
    return d.addCallbacks(lambda _: _accepted(connection, registration),
                          lambda failure: _guest_failed(connection, registration, failure))


def _accepted(connection, registration) -> None:
    if connection.closed:
        return
    if connection.session is None:      # the connection closed during the check
        registration.refused()
        return
    registration.accepted()


def _login_failed(connection, registration, failure) -> None:
    if connection.closed:
        return
    error = failure.value
    if not isinstance(error, ProtocolError):
        connection.numeric("400", "PASS", "Internal server error")
        registration.refused()
        return
    if error.code == BANNED:
        connection.numeric(N.ERR_YOUREBANNEDCREEP, error.message)
        registration.refused()
        connection.quit(error.message)
        return
    if error.code == RATE_LIMITED:
        connection.numeric(N.ERR_PASSWDMISMATCH, f"Password incorrect ({error.message})")
        registration.refused()
        connection.quit(error.message)
        return
    connection.numeric(N.ERR_PASSWDMISMATCH, "Password incorrect")
    registration.refused()
    connection.quit("Bad password")


def _guest_failed(connection, registration, failure) -> None:
    if connection.closed:
        return
    error = failure.value
    nick = registration.nick
    registration.nick = None
    if isinstance(error, ProtocolError) and error.code == NAME_TAKEN:
        connection.numeric(N.ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
    elif isinstance(error, ProtocolError) and error.code == BAD_CREDENTIALS:
        connection.numeric(N.ERR_NICKNAMEINUSE, nick, "Nickname is reserved for an account")
    elif isinstance(error, ProtocolError):
        connection.numeric(N.ERR_ERRONEUSNICKNAME, nick or "*", error.message)
    else:
        connection.numeric("400", "NICK", "Internal server error")
    registration.refused()


def welcome(connection) -> None:
    """001-005 and the MOTD, user modes, then a JOIN of every room the account is in (as a
    bouncer does: the rooms are the account's, whatever client it uses)."""
    gateway = connection.gateway
    session = connection.session
    if gateway.is_guest(session.account_id):
        ident = clean_ident(connection.registration.user or "")
        if ident:
            gateway.idents[session.account_id] = ident
    for line in welcome_lines(gateway.info, session.name, connection.mask.split("!", 1)[1]):
        line.source = gateway.info.name
        connection.send(line)
    modes = "+" + ("i" if connection.invisible else "") + ("o" if session.admin else "")
    if modes != "+":
        connection.send(Message("MODE", [session.name, modes], session.name))
    if gateway.is_guest(session.account_id):
        # a guest has no rooms of its own (nothing of a guest is kept); the MOTD says
        # /join #lobby, and a guest's IRC client shows only the channels it joins
        return
    for room in gateway.rooms_of(session.account_id):
        channel_commands.open_channel(connection, room, None)
