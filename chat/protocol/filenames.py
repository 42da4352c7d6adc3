"""File names from the network: made safe to show and to save, never trusted as paths.

The server checks the name of every ``file_offer`` with :func:`offered_name`: what
:func:`safe_name` refuses (paths, ``..``, control characters, Windows device names), and
then what would mislead or not save elsewhere made harmless: invisible and direction-changing
characters are dropped (``"invoice\u202efdp.exe"`` would show as ``invoiceexe.pdf``),
``< > : " | ? *`` become ``_``, and the name is at most 255 bytes of UTF-8 (what Linux and
macOS allow), keeping its extension. A receiving client applies :func:`safe_name` again (it
trusts no server either) and saves under ``chat.client.savename.save_path``, which uses the
helpers here, stays inside the download folder and never overwrites.
"""

import os
import re
import unicodedata

from chat.protocol.errors import BAD_REQUEST, ProtocolError

NAME_MAX = 255
"""Longest file name, in bytes of UTF-8."""
EXTENSION_MAX = 16
"""A longer "extension" is part of the name (a dot in a sentence is not an extension)."""
RESERVED_CHARS = re.compile(r'[<>:"|?*]')
"""Characters Windows does not allow in a name (and ``:``, which macOS's Finder shows as /)."""
_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$",
                     re.IGNORECASE)
_INVISIBLE = {"Cf", "Zl", "Zp", "Cc", "Cs"}
_DRIVE = re.compile(r"^[A-Za-z]:")


def is_device_name(name: str) -> bool:
    """Whether Windows takes ``name`` for a device: ``CON``, ``nul.txt``, ``con .txt`` and
    ``prn . txt`` too (Windows ignores the spaces before the dot)."""
    return bool(_DEVICE.match(name.split(".")[0].rstrip(" ")))


def visible(name: str) -> str:
    """``name`` without format characters (bidi controls such as U+202E, zero-width spaces
    and joiners, the BOM, tag characters), line and paragraph separators, control
    characters and lone surrogates: nothing left in it is invisible or reorders what shows."""
    return "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)


def split_extension(name: str) -> tuple[str, str]:
    """``("report", ".pdf")``; ``(".bashrc", "")`` and ``("see you. then", "")``: no extension."""
    stem, ext = os.path.splitext(name)
    if stem == "" or len(ext) > EXTENSION_MAX or " " in ext:
        return name, ""
    return stem, ext


def fit_bytes(name: str, limit: int = NAME_MAX) -> str:
    """``name`` cut to ``limit`` bytes of UTF-8 between characters, keeping its extension."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, ext = split_extension(name)
    budget = limit - len(ext.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return stem.rstrip(" .") + ext


def safe_name(raw: str) -> str:
    """The last path component of ``raw``, checked; ``ProtocolError(bad_request)`` if hostile.

    Refused: control characters (NUL included), absolute paths (``/x``, ``\\x``, ``C:x``),
    any ``..`` component, Windows device names (``CON``, ``nul.txt``, ``COM1``...), and what
    leaves no name (empty, ``.``). Otherwise directories are stripped whatever the separator
    (``docs/report.pdf`` is ``report.pdf``), trailing dots and spaces (which Windows drops)
    go, and the result is NFC and at most 255 bytes of UTF-8, keeping the extension.
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
    if is_device_name(name):
        raise ProtocolError(BAD_REQUEST, f"{name!r} is a reserved device name on Windows")
    return fit_bytes(name)


def offered_name(raw: str) -> str:
    """The name the server keeps for a ``file_offer``'s ``name``: :func:`safe_name`, then
    invisible and direction characters dropped and Windows' reserved characters made ``_``,
    so that every client shows and saves the same, honest name (see the module docstring).
    ``ProtocolError(bad_request)`` if nothing visible is left or it is a device name then."""
    name = safe_name(raw)
    cleaned = RESERVED_CHARS.sub("_", visible(name)).strip(" ").rstrip(". ")
    if cleaned in ("", "."):
        raise ProtocolError(BAD_REQUEST, f"a file name needs visible characters: {raw[:80]!r}")
    if is_device_name(cleaned):
        raise ProtocolError(BAD_REQUEST, f"{cleaned!r} is a reserved device name on Windows")
    return fit_bytes(cleaned)
