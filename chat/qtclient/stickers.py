"""Stickers: the built-in sets shipped with the package, the user's own, and how one travels.

A sticker is sent as an image file whose MIME type carries the parameter ``sticker``
(``image/png; sticker``, docs/PROTOCOL.md *Files*): the server keeps its bytes once under their
SHA-256 like any file, so a sticker sent a hundred times is uploaded once; a client that knows
the parameter shows it large and without a bubble, an older one shows an ordinary picture.
A built-in sticker that arrives is not even downloaded: ``index.json`` (written by
``tools/make_stickers.py`` with the PNGs) gives each one's SHA-256, and the local copy is shown.

The user's own stickers are pictures copied (as PNG, at most :data:`OWN_MAX` pixels a side)
into ``<data dir>/stickers``, named by the SHA-256 of what was written; the copying runs in a
thread.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Optional

from PyQt6.QtCore import QStandardPaths, Qt

SETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sticker_sets")
STICKER_PARAM = "sticker"
OWN_MAX = 512


@dataclass
class Sticker:
    """One sticker on this computer: its picture and, for a built-in one, its set."""
    path: str
    name: str
    set_key: str = ""              # "" for the user's own
    sha256: str = ""


@dataclass
class StickerSet:
    key: str
    title_key: str                 # the catalogue's name of the set
    stickers: list


def sticker_mime(path: str) -> str:
    """The MIME type a sticker is sent with: its picture type and the ``sticker`` parameter."""
    ext = os.path.splitext(path)[1].lower()
    kind = {".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".webp": "webp"}.get(ext, "png")
    return f"image/{kind}; {STICKER_PARAM}"


def is_sticker(file_view: Optional[dict]) -> bool:
    """Whether a file (the server's view) was sent as a sticker."""
    if not file_view:
        return False
    mime = str(file_view.get("mime") or "")
    kind, _, params = mime.partition(";")
    if not kind.strip().lower().startswith("image/"):
        return False
    return any(p.strip().lower().split("=")[0] == STICKER_PARAM for p in params.split(";"))


_builtin = {}


def builtin_sets() -> list:
    """The sets shipped with the client, in their order (read once)."""
    if "sets" not in _builtin:
        with open(os.path.join(SETS_DIR, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        sets = []
        for entry in index["sets"]:
            stickers = [Sticker(os.path.join(SETS_DIR, s["file"]), s["name"], entry["key"],
                                s["sha256"]) for s in entry["stickers"]]
            sets.append(StickerSet(entry["key"], entry["title"], stickers))
        _builtin["sets"] = sets
        _builtin["by_sha"] = {s.sha256: s for st in sets for s in st.stickers}
    return _builtin["sets"]


def builtin_by_sha(sha256: str) -> Optional[Sticker]:
    """The built-in sticker with this content, if it is one."""
    builtin_sets()
    return _builtin["by_sha"].get(sha256 or "")


def default_own_dir() -> str:
    base = (QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            or os.path.expanduser("~/.local/share/chat-qt"))
    return os.path.join(base, "stickers")


def own_stickers(folder: str) -> list:
    """The user's own stickers in ``folder``, oldest first (blocking: a directory listing)."""
    try:
        names = [n for n in os.listdir(folder) if n.lower().endswith(".png")]
    except OSError:
        return []
    paths = sorted((os.path.join(folder, n) for n in names), key=_mtime)
    return [Sticker(p, os.path.splitext(os.path.basename(p))[0]) for p in paths]


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0


def import_picture(source: str, folder: str) -> str:
    """Copy the picture ``source`` into ``folder`` as a sticker; returns its path. Blocking
    (decoding, scaling, hashing, writing): call it in a thread. Raises ValueError if it is no
    picture Qt can read, OSError if it cannot be written."""
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice
    from PyQt6.QtGui import QImageReader
    reader = QImageReader(source)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > OWN_MAX or size.height() > OWN_MAX):
        reader.setScaledSize(size.scaled(OWN_MAX, OWN_MAX, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ValueError(f"{source} is no picture")
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    raw = bytes(data)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, hashlib.sha256(raw).hexdigest()[:32] + ".png")
    if not os.path.exists(path):
        partial = path + ".part"
        with open(partial, "wb") as f:
            f.write(raw)
        os.replace(partial, path)
    return path
