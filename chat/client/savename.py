"""The name a received file is saved under, on Linux, macOS and Windows alike.

The server's name rule (:func:`chat.protocol.filenames.safe_name`) refuses what is hostile
(paths, ``..``, control characters, device names). A name it lets through can still be one a
local file system will not take, or one that misleads whoever looks at the folder; the
client core (both clients) saves under :func:`local_name` instead:

* invisible and direction-changing characters (Unicode format characters: bidi overrides
  such as U+202E, zero-width spaces and joiners, the BOM) and line/paragraph separators are
  dropped: ``"invoice\\u202efdp.exe"`` would show as ``invoiceexe.pdf``;
* ``< > : " | ? *`` (not allowed on Windows, ``:`` not on macOS's Finder either) become ``_``;
* trailing dots and spaces (Windows drops them) and leading spaces go;
* a Windows device name (``CON``, ``prn.txt``, ``COM1``...) gets a leading ``_``;
* the result is at most 255 bytes in UTF-8 (Linux and APFS count bytes; Windows and HFS+
  count UTF-16 units, never more) also once decomposed (macOS keeps names in NFD, where a
  Hangul syllable or an accented letter takes more bytes): a longer stem is cut on a
  character boundary, the extension is kept, and the room for a `` (n)`` suffix (a name
  already taken) is left when asked for.

:func:`save_path` picks the path in the download folder: never an existing one, never outside.
"""

import os
import unicodedata

from chat.protocol.errors import BAD_REQUEST, ProtocolError
from chat.protocol.filenames import (
    RESERVED_CHARS, is_device_name, safe_name, split_extension, visible)

NAME_BYTES = 255
"""Longest file name, in UTF-8 bytes, on the file systems we save to."""
FALLBACK = "download"
"""The name of a file whose name had nothing visible left."""


def _size(text: str) -> int:
    """Bytes ``text`` takes as a file name, the larger of NFC and NFD."""
    return max(len(text.encode("utf-8", "surrogatepass")),
               len(unicodedata.normalize("NFD", text).encode("utf-8", "surrogatepass")))


def _cut(text: str, budget: int) -> str:
    """The longest start of ``text`` that fits ``budget`` bytes, cut between characters and
    not before a combining mark (an accent stays with its letter)."""
    if _size(text) <= budget:
        return text
    end = 0
    for i in range(1, len(text) + 1):
        if _size(text[:i]) > budget:
            break
        end = i
    while end > 0 and end < len(text) and unicodedata.combining(text[end]):
        end -= 1
    return text[:end].rstrip(" .")


def clean(name: str) -> str:
    """``name`` (from the network) checked by ``safe_name`` and made safe for every local
    file system, without the length rule (see the module docstring)."""
    name = RESERVED_CHARS.sub("_", visible(safe_name(name))).strip(" ").rstrip(". ")
    if not name or name == ".":
        name = FALLBACK
    if is_device_name(name):
        name = "_" + name
    return name


def fit(name: str, suffix: str = "") -> str:
    """``name`` with ``suffix`` before its extension, shortened to fit NAME_BYTES."""
    stem, ext = split_extension(name)
    ext = _cut(ext, NAME_BYTES // 4)
    budget = NAME_BYTES - _size(suffix) - _size(ext)
    stem = _cut(stem, budget) or FALLBACK[:max(budget, 1)]
    return stem + suffix + ext


def local_name(name: str) -> str:
    """The name to save ``name`` under (see the module docstring); ``ProtocolError`` if the
    name is hostile."""
    return fit(clean(name))


def save_path(folder: str, name: str) -> str:
    """A path in ``folder`` for ``name`` that does not exist yet (``name``, ``name (1)``...),
    checked to lie inside ``folder`` (a symlink in it cannot lead out). Blocking: call it in
    a thread."""
    name = clean(name)
    root = os.path.realpath(folder)
    n = 0
    while True:
        candidate = fit(name, f" ({n})" if n else "")
        path = os.path.join(root, candidate)
        n += 1
        if os.path.lexists(path):     # a file, a directory, or a symlink: never written over
            continue
        if os.path.dirname(os.path.realpath(path)) != root:
            raise ProtocolError(BAD_REQUEST, f"{name!r} would leave the download folder")
        return path
