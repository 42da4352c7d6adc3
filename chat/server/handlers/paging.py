"""Pages that fit in one control frame.

Every reply is one control frame of at most 64 KiB, but lists grow with the server: users,
members, rooms, and pages of long messages. A page is therefore cut twice: by the count the
client asked for, and by size; ``more`` tells the client to ask for the next page.
"""

from chat.protocol.codec import encode_object
from chat.protocol.framing import MAX_CONTROL_FRAME
from chat.protocol.names import name_key

REPLY_BUDGET = MAX_CONTROL_FRAME - 1024
"""Bytes a page's items may take, leaving room for the reply around them."""


def fit(items: list, from_end: bool = False, budget: int = REPLY_BUDGET) -> tuple[list, bool]:
    """The longest run of ``items`` (from the start, or the end) whose JSON fits ``budget``;
    and whether any were left out."""
    total = kept = 0
    for item in (reversed(items) if from_end else items):
        total += len(encode_object(item)) + 1
        if total > budget:
            break
        kept += 1
    if kept == len(items):
        return items, False
    return (items[len(items) - kept:] if from_end else items[:kept]), True


def page_by_name(entries: list[tuple[str, dict]], after, limit: int) -> tuple[list, bool]:
    """Entries ``(name, item)`` sorted by name key, those after ``after``, at most ``limit``,
    cut to fit a frame; returns the items and whether more remain."""
    ordered = sorted(entries, key=lambda entry: name_key(entry[0]))
    if after is not None:
        start = name_key(after)
        ordered = [entry for entry in ordered if name_key(entry[0]) > start]
    items = [item for _name, item in ordered[:limit]]
    items, cut = fit(items)
    return items, cut or len(ordered) > limit
