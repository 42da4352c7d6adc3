"""File names from the network: made safe to show and to save, never trusted as paths.

The server checks the name of every ``file_offer`` with :func:`safe_name`; a receiving client
applies it again (it trusts no server either) and picks the path with :func:`unique_path`,
which stays inside the download folder and never overwrites (``report (1).pdf``).
"""

import os
import re
import unicodedata

from chat.protocol.errors import BAD_REQUEST, ProtocolError

NAME_MAX = 255
_WINDOWS_DEVICES = re.compile(
    r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_name(raw: str) -> str:
    """The last path component of ``raw``, checked; ``ProtocolError(bad_request)`` if hostile.

    Refused: control characters (NUL included), absolute paths (``/x``, ``\\x``, ``C:x``),
    any ``..`` component, Windows device names (``CON``, ``nul.txt``, ``COM1``...), and what
    leaves no name (empty, ``.``). Otherwise directories are stripped whatever the separator
    (``docs/report.pdf`` is ``report.pdf``), trailing dots and spaces (which Windows drops)
    go, and the result is NFC and at most 255 characters, keeping the extension.
    """
    if not isinstance(raw, str):
        raise ProtocolError(BAD_REQUEST, "a file name must be a string")
    if any(unicodedata.category(c) == "Cc" for c in raw):
        raise ProtocolError(BAD_REQUEST, "a file name must not contain control characters")
    if raw.startswith(("/", "\\")) or _DRIVE.match(raw):
        raise ProtocolError(BAD_REQUEST, f"a file name must not be an absolute path: {raw[:80]!r}")
    parts = re.split(r"[/\\]", raw)
    if ".." in (part.strip(" ") for part in parts):
        raise ProtocolError(BAD_REQUEST, f"a file name must not contain '..': {raw[:80]!r}")
    name = unicodedata.normalize("NFC", parts[-1]).strip(" ").rstrip(". ")
    if name in ("", "."):
        raise ProtocolError(BAD_REQUEST, f"not a file name: {raw[:80]!r}")
    if _WINDOWS_DEVICES.match(name):
        raise ProtocolError(BAD_REQUEST, f"{name!r} is a reserved device name on Windows")
    if len(name) > NAME_MAX:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[:NAME_MAX - len(ext)] + ext
    return name


def unique_path(folder: str, name: str) -> str:
    """A path for ``name`` in ``folder`` that does not exist yet: ``name``, ``name (1)``...

    ``name`` goes through :func:`safe_name` again, and the result is checked to lie inside
    ``folder`` (a symlink in the folder cannot lead out of it either).
    """
    name = safe_name(name)
    stem, ext = os.path.splitext(name)
    if stem == "":          # ".bashrc": the dot belongs to the name
        stem, ext = name, ""
    root = os.path.realpath(folder)
    n = 0
    while True:
        candidate = name if n == 0 else f"{stem} ({n}){ext}"
        path = os.path.join(root, candidate)
        n += 1
        if os.path.lexists(path):     # a file, a directory, or a symlink: never written over
            continue
        if os.path.dirname(os.path.realpath(path)) != root:
            raise ProtocolError(BAD_REQUEST, f"{name!r} would leave the download folder")
        return path
