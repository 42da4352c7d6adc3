"""What the server keeps in memory about files: every complete file's metadata (for the
``file`` view of messages, for downloads and for deduplication) and every upload in progress.

Both are loaded from storage at start and written through on every change. A file's metadata
is a few hundred bytes, so even a server with a hundred thousand files holds only tens of MiB.
"""

import dataclasses
from typing import Optional

from chat.protocol.timestamps import format_ts
from chat.serial import SerialQueue
from chat.server.storage import FileRecord


class Partial:
    """An incomplete file: its record, the bytes the server holds, the queue of its disk
    operations, the upload writing to it now (if any) and its expiry timer."""

    __slots__ = ("record", "held", "queue", "sink", "last_progress", "saved_progress",
                 "expiry")

    def __init__(self, record: FileRecord, held: int, queue: SerialQueue):
        self.record = record
        self.held = held                      # bytes in the partial file when no upload runs
        self.queue = queue
        self.sink = None                      # chat.server.files.transfers.UploadSink
        self.last_progress = record.last_progress   # ms
        self.saved_progress = record.last_progress  # what storage has (ms)
        self.expiry = None                    # the DelayedCall that deletes it

    @property
    def received(self) -> int:
        """The offset the next upload must start at."""
        return self.sink.position if self.sink is not None else self.held


class FileCatalog:
    """Complete files by id and by content, partial uploads by id, and the files' views."""

    def __init__(self, directory, run):
        self.directory = directory         # account ids -> names, for "from"
        self.run = run                     # the file I/O runner, for each partial's queue
        self.complete: dict[int, FileRecord] = {}
        self.by_sha: dict[str, set[int]] = {}      # content -> complete files holding it
        self.partials: dict[int, Partial] = {}
        # --lite: files deleted after their downloads; their messages still show the view
        self.gone: dict[int, FileRecord] = {}
        self.downloads_of: dict[str, int] = {}     # content -> downloads queued or running

    # -- complete files
    def add_complete(self, record: FileRecord) -> None:
        self.complete[record.id] = record
        self.by_sha.setdefault(record.sha256, set()).add(record.id)

    def has_content(self, sha256: str) -> bool:
        return sha256 in self.by_sha

    def remove_complete(self, file_id: int) -> Optional[FileRecord]:
        """Forget a complete file (--lite); returns its record, None if unknown."""
        record = self.complete.pop(file_id, None)
        if record is not None:
            holders = self.by_sha.get(record.sha256)
            holders.discard(file_id)
            if not holders:
                del self.by_sha[record.sha256]
            self.gone[file_id] = record
        return record

    def content_unused(self, sha256: str) -> bool:
        """No complete file holds this content and no download reads it: its blob can go."""
        return sha256 not in self.by_sha and not self.downloads_of.get(sha256)

    # -- partial uploads
    def add_partial(self, record: FileRecord, held: int) -> Partial:
        partial = Partial(record, held, SerialQueue(self.run))
        self.partials[record.id] = partial
        return partial

    def find_partial(self, sender_id: int, conv: str, sha256: str, size: int):
        """The sender's incomplete upload of this content to this conversation (a resume)."""
        found = None
        for partial in self.partials.values():
            r = partial.record
            if (r.sender_id, r.conv, r.sha256, r.size) == (sender_id, conv, sha256, size):
                if found is None or r.id > found.record.id:
                    found = partial
        return found

    def completed(self, partial: Partial, msg_id: int) -> FileRecord:
        """The partial's file is published as message ``msg_id``."""
        if partial.expiry is not None and partial.expiry.active():
            partial.expiry.cancel()
        partial.expiry = None
        self.partials.pop(partial.record.id, None)
        record = dataclasses.replace(partial.record, complete=True, msg_id=msg_id)
        self.add_complete(record)
        return record

    # -- the wire form
    def view(self, record: FileRecord) -> dict:
        return {
            "id": record.id, "name": record.name, "size": record.size, "mime": record.mime,
            "sha256": record.sha256, "from": self.directory.name(record.sender_id),
            "to": record.target, "ts": format_ts(record.created), "complete": record.complete,
        }

    def view_of(self, file_id: int) -> Optional[dict]:
        """The view of a published file (for its message), None if the server never had it."""
        record = self.complete.get(file_id) or self.gone.get(file_id)
        if record is None:
            partial = self.partials.get(file_id)
            record = partial.record if partial is not None else None
        return None if record is None else self.view(record)
