"""The control protocol between ``chatctl`` and a running server (no I/O here).

One request per connection to the control socket (``<data-dir>/control.sock``), one reply,
then the server closes it. Each is one line of UTF-8 JSON::

    {"command": "adduser", "args": {"name": "alice", "password": "..."}}
    {"ok": true, "result": {"name": "alice"}}
    {"ok": false, "error": "the name alice is taken"}

The socket is mode 0600 in the 0700 data directory: whoever may open it owns the server's
data anyway, so the protocol has no login of its own. Every request is checked against
:data:`COMMANDS` (the arguments, their types); anything else is a :class:`ControlError`
with a message fit to show as it is.
"""

import json
import os

MAX_LINE = 256 * 1024
"""The longest request line (a notice is at most 16,000 characters, 4 bytes each in UTF-8)."""

SOCKET_NAME = "control.sock"
LOCK_NAME = "server.lock"
"""Held by the running server (and by chatctl working on a stopped server's data dir)."""


def socket_path(data_dir: str) -> str:
    """Where the server on ``data_dir`` listens for chatctl."""
    return os.path.join(os.path.abspath(data_dir), SOCKET_NAME)


class ControlError(Exception):
    """A request that cannot be carried out; ``message`` is one line in plain English."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DataDirHeld(ControlError):
    """A live process holds the data directory, but nothing answers on its socket (a server
    that is starting or stopping, chatctl working offline, or a server without a socket)."""


# command -> {argument: (type, required)}
COMMANDS: dict[str, dict[str, tuple[type, bool]]] = {
    "adduser": {"name": (str, True), "password": (str, True), "admin": (bool, False)},
    "passwd": {"name": (str, True), "password": (str, True)},
    "deluser": {"name": (str, True)},
    "users": {},
    "rooms": {},
    "ban": {"name": (str, True), "reason": (str, False)},
    "unban": {"name": (str, True)},
    "kick": {"name": (str, True), "reason": (str, False)},
    "notice": {"text": (str, True)},
    "stats": {},
    "backup": {"path": (str, True)},
}


def check_request(command, args) -> tuple[str, dict]:
    """``(command, args)`` if they fit :data:`COMMANDS`, else :class:`ControlError`."""
    if not isinstance(command, str) or command not in COMMANDS:
        raise ControlError(f"unknown command {command!r}")
    if not isinstance(args, dict):
        raise ControlError("args must be an object")
    spec = COMMANDS[command]
    for name in args:
        if name not in spec:
            raise ControlError(f"{command}: unknown argument {name!r}")
    for name, (kind, required) in spec.items():
        if name not in args or args[name] is None:
            if required:
                raise ControlError(f"{command}: missing argument {name!r}")
            continue
        # bool is an int in Python, and no argument here is an int: type() is exact enough
        if type(args[name]) is not kind:
            raise ControlError(f"{command}: {name!r} must be a {kind.__name__}")
    return command, {k: v for k, v in args.items() if v is not None}


def _line(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def _object(line: bytes, what: str) -> dict:
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ControlError(f"the {what} is not a line of UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise ControlError(f"the {what} is not a JSON object")
    return obj


def encode_request(command: str, **args) -> bytes:
    command, args = check_request(command, args)
    return _line({"command": command, "args": args})


def decode_request(line: bytes) -> tuple[str, dict]:
    obj = _object(line, "request")
    return check_request(obj.get("command"), obj.get("args", {}))


def encode_ok(result: dict) -> bytes:
    return _line({"ok": True, "result": result})


def encode_error(message: str) -> bytes:
    return _line({"ok": False, "error": message})


def decode_reply(line: bytes) -> dict:
    """The result of an ``ok`` reply; an error reply raises :class:`ControlError`."""
    obj = _object(line, "server's reply")
    if obj.get("ok") is True and isinstance(obj.get("result"), dict):
        return obj["result"]
    if obj.get("ok") is False and isinstance(obj.get("error"), str):
        raise ControlError(obj["error"])
    raise ControlError("the server's reply is not a control reply")
