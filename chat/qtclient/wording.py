"""Words built from parts at display time: a list of names as a person would say it.

``name_list(tr, ["alice", "bob", "carol", "dave"])`` is "alice, bob and 2 others" in English
and "alice、bob 和另外 2 人" in Chinese: the grouped presence lines of the conversation view
("alice, bob and 2 others came online") use it, worded again when the language changes.
"""

SHOWN = 2
"""Names written out before "and N others" (with one more, all three are written)."""


def name_list(tr, names) -> str:
    """``names`` joined the way the current language joins them (``tr`` is a translator's
    ``tr``); from four names on, the first two and how many more."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return tr("msg_names_two", a=names[0], b=names[1])
    if len(names) == 3:
        return tr("msg_names_three", a=names[0], b=names[1], c=names[2])
    return tr("msg_names_more", a=names[0], b=names[1], n=len(names) - SHOWN)
