"""What the conversation view knows of files: transfer states, pictures on this computer,
files dropped or pasted, transfer speeds."""

import os
from typing import Optional

from chat.cli.format import human_size

RUNNING = {"hashing", "waiting", "offering", "sending", "receiving"}


def transfer_state(transfer) -> Optional[str]:
    """The transfer's state as its string value ("sending", "done", ...), None without one."""
    if transfer is None:
        return None
    return getattr(transfer.state, "value", transfer.state)


def local_image(item) -> Optional[str]:
    """Where an image message's picture is on this computer: the source of our upload, or a
    finished download, or a copy that was here already (a built-in sticker); None while there
    is nothing to show."""
    if getattr(item, "picture", None):
        return item.picture
    t = item.transfer
    if t is None or not getattr(t, "path", None):
        return None
    if t.direction == "up" or transfer_state(t) == "done":
        return t.path if os.path.isfile(t.path) else None
    return None


def local_files(mime) -> list:
    """The local files among a drag's or a clipboard's URLs (web links are no files)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def human_speed(bytes_per_second: float) -> str:
    return human_size(int(bytes_per_second))
