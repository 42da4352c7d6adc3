"""What went wrong, in the user's language: a server error, or why an admin ended the session.

The server's messages are English and say more than their code; the English UI shows them as
they are, the Chinese UI words the code from the catalogue (every string a user sees in the
Chinese UI is Chinese). A code newer than this client is named as it is.
"""

import re

# server messages that name what they are about: worded with that name kept
_MESSAGES = (
    (re.compile(r"no such user: (?P<name>.+)", re.S), "err_no_such_user"),
    (re.compile(r"no such room: (?P<name>.+)", re.S), "err_no_such_room"),
    (re.compile(r"no such file"), "err_no_such_file"),
    # guests (servers started with --allow-guests)
    (re.compile(r"this server does not allow guests: .*", re.S), "err_guests_off"),
    (re.compile(r"the name (?P<name>.+) is taken by a guest online", re.S),
     "err_guest_name_taken"),
    (re.compile(r"(?P<name>.+) is the name of an account: .*", re.S), "err_account_name"),
    (re.compile(r"guests (cannot .+: log in with an account|have no password to change)",
                re.S), "err_guest_forbidden"),
)

_BYE = re.compile(r"(?:kicked|banned) by (?P<admin>\S+?)(?:: (?P<reason>.*))?$", re.S)


def describe_error(translator, code: str, message: str = "") -> str:
    """The text for an ``error`` reply (or a transfer's ``(code, message)``)."""
    if translator.lang == "en" and message:
        return message
    for pattern, key in _MESSAGES:
        found = pattern.fullmatch(message or "")
        if found:
            return translator.tr(key, **found.groupdict())
    try:
        return translator.tr(f"err_{code}")
    except KeyError:
        return translator.tr("err_generic", code=code)


def describe_failure(translator, failure) -> str:
    """The text for a failed request's Failure (RequestFailed, or anything else)."""
    exc = getattr(failure, "value", failure)
    code = getattr(exc, "code", None)
    if code:
        return describe_error(translator, code, getattr(exc, "message", "") or "")
    return describe_error(translator, "server_error",
                          getattr(exc, "message", None) or str(exc) or type(exc).__name__)


def describe_bye(translator, code: str, message: str) -> str:
    """Why the server ended the session (``bye``): "kicked by root: spam" and the like."""
    tr = translator.tr
    if code in ("kicked", "banned"):
        found = _BYE.match(message or "")
        if found:
            text = tr(f"bye_{code}", admin=found.group("admin"))
            reason = (found.group("reason") or "").strip()
        else:
            text, reason = tr(f"bye_{code}_anonymous"), ""
        return tr("bye_with_reason", text=text, reason=tr("bye_reason", reason=reason)) \
            if reason else text
    if code == "abuse":
        return tr("bye_abuse")
    return tr("bye_ended")


_KNOWN_REASONS = {
    "connection lost": "reason_lost", "connection refused": "reason_refused",
    "unknown host": "reason_unknown_host", "timed out": "reason_timed_out",
    "no route to host": "reason_no_route", "closed": "reason_closed",
    "logged out": "reason_logged_out",
    "timed out during the TLS handshake": "reason_tls_timed_out",
    "not connected to the server": "err_not_connected",
}
_REASON_PATTERNS = (
    (re.compile(r"no answer from the server for (?P<seconds>\d+) s"), "reason_silent"),
    (re.compile(r"TLS handshake failed \(.*\); is (?P<where>\S+) a TLS port\?", re.S),
     "reason_tls_handshake"),
    (re.compile(r"the connection closed during the TLS handshake; is (?P<where>\S+) "
                r"a TLS port\?", re.S), "reason_tls_handshake"),
    (re.compile(r"the server's certificate is not issued for (?P<host>\S+)"),
     "reason_tls_wrong_host"),
    (re.compile(r"(?:kicked|banned) by .*", re.S), None),
)


def describe_reason(tr, reason: str) -> str:
    """The client core's reasons for a lost link or a failed connection (English, short) in
    the UI's language; ``tr`` is a translator's ``tr``. An unknown reason is shown as it is
    in English, and as the catalogue's generic words in Chinese."""
    reason = reason or ""
    if reason in _KNOWN_REASONS:
        return tr(_KNOWN_REASONS[reason])
    for pattern, key in _REASON_PATTERNS:
        found = pattern.fullmatch(reason)
        if found and key is None:
            break
        if found:
            params = found.groupdict()
            if "seconds" in params:
                params["seconds"] = int(params["seconds"])
            return tr(key, **params)
    if tr("reason_lost") == "connection lost":          # the English UI
        return reason
    return tr("reason_other")
