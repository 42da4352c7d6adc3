"""Files this computer has already, found by their SHA-256: nothing is fetched or written twice.

Inline pictures live in the cache folder (``image_dir``), each content in a folder named by its
SHA-256 (``<folder>/<sha256>/diagram.png``): the client core downloads a picture straight into
that folder under its own name, so a picture seen again, at the next login or sent twice, is
found there instead of being fetched as ``diagram (1).png``.

Files the user saved (the Download link, or saving on arrival) are remembered in
``<folder>/saved.json`` (SHA-256 -> path). Asked for again, a copy already there is shown
instead of a second one: the remembered path, or a file of that name (or ``name (1)``...) in
the download folder. Either way a copy counts only once its size and its SHA-256, computed
afresh, match: a file changed on the disk since is not taken for the one asked for.

Everything here that touches the disk runs through ``run`` (a thread, never the reactor); the
index is read in the first of those calls and written in order (:class:`chat.serial.SerialQueue`).
"""

import json
import os
from dataclasses import dataclass
from typing import Optional

from twisted.internet import defer

from chat.client.savename import clean, fit
from chat.client.transfers import TransferState, sha256_of
from chat.protocol.errors import ProtocolError
from chat.serial import SerialQueue

INDEX = "saved.json"
MAX_NAMES = 50
"""Names ``name``, ``name (1)``... looked at in the download folder for an earlier copy."""


def is_sha256(text) -> bool:
    return isinstance(text, str) and len(text) == 64 and all(
        c in "0123456789abcdef" for c in text)


@dataclass(eq=False)
class CachedFile:
    """A file this computer has (or is looking for): what a message's card reads of a
    transfer (the client core's ``Transfer``), without a transfer. ``state`` is DONE once
    ``path`` is known, HASHING while a copy is being checked."""
    path: Optional[str]
    name: str
    size: int
    sha256: str
    file_id: Optional[int] = None
    file: Optional[dict] = None
    direction: str = "down"
    state: TransferState = TransferState.DONE
    done: int = 0
    speed: float = 0.0
    error: Optional[tuple] = None
    target: Optional[str] = None
    folder: Optional[str] = None
    finished = None              # nothing to wait for, nothing to cancel
    cached: bool = True

    @property
    def percent(self) -> float:
        return 100.0 if self.state is TransferState.DONE else 0.0

    @classmethod
    def of(cls, info: dict, path: Optional[str] = None, state=TransferState.DONE):
        """The card's view of the file ``info`` (a server file view) found at ``path``."""
        return cls(path, info.get("name", ""), info.get("size") or 0, info.get("sha256", ""),
                   file_id=info.get("id"), file=info, state=state)


class FileCache:
    """See the module docstring. ``run(f, *args) -> Deferred`` runs file work off the
    reactor (``deferToThread``, or a synchronous call in tests); ``hash`` is the SHA-256 of a
    file, ``(hex, size)`` (tests count its calls)."""

    def __init__(self, folder: str, run=None, hash=sha256_of):
        if run is None:
            from twisted.internet.threads import deferToThread as run
        self.folder = folder
        self.run = run
        self.hash = hash
        self._queue = SerialQueue(run)      # the index's reads and writes, in order
        self._index = None                  # sha -> path, read in the first queued call

    # ------------------------------------------------------------------ pictures
    def folder_for(self, sha256: str) -> str:
        """Where the content ``sha256`` is downloaded to (and looked for)."""
        if not is_sha256(sha256):
            raise ValueError("not a SHA-256")
        return os.path.join(self.folder, sha256)

    def find(self, sha256: str, size: int) -> defer.Deferred:
        """Fires with the path of a copy of that content here (in the cache, or saved by the
        user), or None."""
        if not is_sha256(sha256):
            return defer.succeed(None)
        return self._queue.submit(self._find, sha256, size)

    def _find(self, sha256: str, size: int):             # in a thread
        where = self.folder_for(sha256)
        try:
            names = sorted(os.listdir(where))
        except OSError:
            names = []
        for name in names:
            if name.startswith("."):
                continue                    # a download's partial file (.chat-N.part)
            path = self._same(os.path.join(where, name), sha256, size)
            if path:
                return path
        return self._known(sha256, size, None, None)

    # ------------------------------------------------------------------ saved files
    def known(self, sha256: str, size: int, folder: str, name: str) -> defer.Deferred:
        """Fires with the path of a copy of that content the user has already (remembered,
        or under that name in ``folder``), or None."""
        if not is_sha256(sha256):
            return defer.succeed(None)
        return self._queue.submit(self._known, sha256, size, folder, name)

    def _known(self, sha256, size, folder, name):        # in a thread
        remembered = self._load().get(sha256)
        if remembered and self._same(remembered, sha256, size):
            return remembered
        for path in self._names(folder, name):
            if self._same(path, sha256, size):
                self._remember(sha256, path)
                return path
        return None

    @staticmethod
    def _names(folder, name):
        """The paths the download of ``name`` may have been saved under in ``folder``."""
        if not folder or not name:
            return
        try:
            cleaned = clean(name)
        except ProtocolError:
            return                           # never saved: the core refuses such a name
        for n in range(MAX_NAMES):
            path = os.path.join(folder, fit(cleaned, f" ({n})" if n else ""))
            if not os.path.lexists(path):
                return                       # save_path takes the first free name
            yield path

    def _same(self, path: str, sha256: str, size: int):
        """``path`` if it is a file holding exactly that content, else None."""
        try:
            if not os.path.isfile(path) or os.path.getsize(path) != size:
                return None
            digest, _ = self.hash(path)
        except OSError:
            return None
        return path if digest == sha256 else None

    def remember(self, sha256: str, path: str) -> defer.Deferred:
        """The user has the content ``sha256`` at ``path`` (a finished download)."""
        if not is_sha256(sha256) or not path:
            return defer.succeed(None)
        return self._queue.submit(self._remember, sha256, path)

    def _remember(self, sha256: str, path: str) -> None:    # in a thread
        index = self._load()
        if index.get(sha256) == path:
            return
        index[sha256] = path
        os.makedirs(self.folder, exist_ok=True)
        temporary = os.path.join(self.folder, INDEX + ".new")
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(index, f)
        os.replace(temporary, os.path.join(self.folder, INDEX))

    def _load(self) -> dict:
        if self._index is None:
            try:
                with open(os.path.join(self.folder, INDEX), encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                data = {}                    # none yet, or damaged: start again
            self._index = {k: v for k, v in data.items()
                           if is_sha256(k) and isinstance(v, str)} \
                if isinstance(data, dict) else {}
        return self._index
