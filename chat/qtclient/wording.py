"""Words built from parts at display time: a list of names as a person would say it.

``name_list(tr, ["alice", "bob", "carol", "dave"])`` is "alice, bob and 2 others" in English
and "alice、bob 和另外 2 人" in Chinese: the grouped presence lines of the conversation view
("alice, bob and 2 others came online") use it, worded again when the language changes.
"""

import re

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


# a space between two Chinese characters (a template's "{who} 上线了" after "另外 2 人"): in
# Chinese text a space stands only beside Latin letters and digits, never between two Han
_HAN_SPACE_HAN = re.compile(r"(?<=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]) +(?=[\u3400-\u9fff])")


def han_spacing(text: str) -> str:
    """``text`` without spaces between two Chinese characters (or after Chinese punctuation)."""
    return _HAN_SPACE_HAN.sub("", text)
