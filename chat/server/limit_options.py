"""The ``twistd chatserver`` options for limits and sizes (see docs/ARCHITECTURE.md, *Limits*).

Kept apart from chat.server.tap: each option is one row here (its name, the ServerConfig field
it sets, how its value is read), tap.py only adds the rows to its options, checks them in
``postOptions`` and copies them into the config. An option left out keeps the ServerConfig
default, which the help text shows.
"""

import math

from twisted.python import usage

from chat.protocol import commands as C
from chat.protocol.framing import MAX_CONTROL_FRAME
from chat.server.core import ServerConfig


def _size(text: str) -> int:
    from chat.server.tap import parse_size   # one size syntax for every option
    return parse_size(text)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{text!r} is negative")
    return value


def _number(text: str) -> float:
    value = float(text)
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{text!r} is not a number >= 0")
    return value


def _between(parse, low, high, unit=""):
    def check(text):
        value = parse(text)
        if not low <= value <= high:
            raise ValueError(f"{text!r} is not between {low}{unit} and {high}{unit}")
        return value
    return check


def _not_zero(parse):
    def check(text):
        value = parse(text)
        if value == 0:
            raise ValueError(f"{text!r} must be more than 0")
        return value
    return check


_D = ServerConfig()

# option, ServerConfig field, parse, help (0 turns a count or rate off where the help says so)
LIMIT_OPTIONS = [
    ("max-connections", "max_connections", _count,
     f"Connections in all; more get bye server_full (0: no limit) [default: "
     f"{_D.max_connections}]."),
    ("max-connections-per-address", "max_connections_per_address", _count,
     f"Connections from one IP address; more get bye too_many_connections (0: no limit) "
     f"[default: {_D.max_connections_per_address}]."),
    ("login-timeout", "login_timeout", _number,
     f"Seconds a connection may stay without a login (0: for ever) [default: "
     f"{_D.login_timeout:g}]."),
    ("prelogin-requests", "prelogin_requests", _count,
     f"Requests a connection may make before it logs in; more get bye abuse (0: no limit) "
     f"[default: {_D.prelogin_requests}]."),
    ("max-output-buffer", "max_output_buffer", _size,
     "Unsent output a connection that does not read may pile up before it is dropped "
     "(0: no limit) [default: 4M]."),
    ("login-failures", "login_failures", _count,
     f"Failed logins per account from one IP address before that address must wait 1, 2, "
     f"4 ... s for it (0: no limit) [default: {_D.login_failures}]."),
    ("login-failures-per-account", "login_failures_per_account", _count,
     f"Failed logins per account from all addresses before every address that has failed "
     f"for it must wait; an address with no failures still logs in (0: no limit) "
     f"[default: {_D.login_failures_per_account}]."),
    ("login-failures-per-address", "login_failures_per_address", _count,
     f"The same per IP address (0: no limit) [default: {_D.login_failures_per_address}]."),
    ("login-backoff-max", "login_backoff_max", _not_zero(_number),
     f"The longest wait after failed logins, in seconds [default: "
     f"{_D.login_backoff_max:g}]."),
    ("registrations-per-hour", "registrations_per_hour", _count,
     f"Accounts registered per IP address per hour (0: no limit) [default: "
     f"{_D.registrations_per_hour}]."),
    ("send-rate", "send_rate", _number,
     f"Messages per second per account, on average (0: no limit) [default: "
     f"{_D.send_rate:g}]."),
    ("send-burst", "send_burst", _not_zero(_count),
     f"Messages an account may send at once before --send-rate applies [default: "
     f"{_D.send_burst}]."),
    ("query-rate", "query_rate", _number,
     f"Read requests (history, sync, users, files ...) per second per account, on average "
     f"(0: no limit) [default: {_D.query_rate:g}]."),
    ("query-burst", "query_burst", _not_zero(_count),
     f"Read requests an account may make at once before --query-rate applies [default: "
     f"{_D.query_burst}]."),
    ("file-offers-per-minute", "file_offers_per_minute", _count,
     f"New files offered per account per minute (0: no limit) [default: "
     f"{_D.file_offers_per_minute}]."),
    ("rooms-per-hour", "rooms_per_hour", _count,
     f"Rooms an account may create per hour (0: no limit) [default: {_D.rooms_per_hour}]."),
    ("rooms-per-account", "rooms_per_account", _count,
     f"Rooms created by one account that may exist at once (0: no limit) [default: "
     f"{_D.rooms_per_account}]."),
    ("topics-per-minute", "topics_per_minute", _count,
     f"Topic changes per account per minute (0: no limit) [default: "
     f"{_D.topics_per_minute}]."),
    ("joins-per-minute", "joins_per_minute", _count,
     f"Joins and leaves of rooms per account per minute (0: no limit) [default: "
     f"{_D.joins_per_minute}]."),
    ("irc-flood-rate", "irc_flood_rate", _number,
     f"IRC lines per second per connection after the burst; more wait (flood control by "
     f"delay; 0: no flood control) [default: {_D.irc_flood_rate:g}]."),
    ("irc-flood-burst", "irc_flood_burst", _not_zero(_count),
     f"IRC lines a connection may send at once before --irc-flood-rate applies [default: "
     f"{_D.irc_flood_burst}]."),
    ("max-text", "max_text", _between(int, 1, C.TEXT_MAX),
     f"Characters of a message or notice, at most {C.TEXT_MAX} [default: {_D.max_text}]."),
    ("max-avatar", "max_avatar", _between(_size, 1, C.AVATAR_MAX, " bytes"),
     "Bytes of an avatar, at most 256K [default: 256K]."),
    ("history-page", "history_page", _between(int, 1, C.HISTORY_PAGE_MAX),
     f"Messages per history page at most [default: {_D.history_page}]."),
    ("max-control-frame", "max_control_frame", _between(_size, 1024, MAX_CONTROL_FRAME, " bytes"),
     "Bytes of a request's control frame, 1K to 64K [default: 64K]."),
]

LIMIT_PARAMETERS = [[name, None, None, help_text] for name, _, _, help_text in LIMIT_OPTIONS]
LIMIT_FLAGS = [
    ["exempt-loopback", None, "Per-address limits (connections, failed logins, registrations) "
     "do not apply to 127.0.0.1 and ::1 (e.g. for benchmarks on one machine)."],
]


def check_limit_options(options) -> None:
    """Parse every limit option given; a bad value is one usage error."""
    for name, _, parse, _ in LIMIT_OPTIONS:
        value = options[name]
        if value is None or not isinstance(value, str):
            continue
        try:
            options[name] = parse(value.strip())
        except ValueError as error:
            detail = str(error)
            if "invalid literal" in detail or "could not convert" in detail:
                detail = f"{value!r} is not a number"
            raise usage.UsageError(f"bad --{name}: {detail}") from None


def apply_limit_options(options, config) -> None:
    """Copy the limit options that were given into ``config``."""
    for name, field, _, _ in LIMIT_OPTIONS:
        if options[name] is not None:
            setattr(config, field, options[name])
    config.exempt_loopback = bool(options["exempt-loopback"])
