"""Names that look like names already taken (Unicode TS #39 confusables), for users and rooms.

``аlice`` (Cyrillic а), ``alіce`` (Ukrainian і), ``αlice`` (Greek α) and ``Iоввy`` (capital I,
Cyrillic о and в) are other names to the computer but the same to the eye. A new account or
room is refused when its *skeleton* equals an existing one's. The skeleton is TS #39's, from
the maintained ``disarm`` library (its ``skeleton_key``: the TR39 skeleton, iterated to a
fixed point, of the Unicode confusables data it ships), taken of the name as typed, of its
case-folded and of its upper-case form, since names are case-insensitive here (``ALICE`` is
``alice``, while the skeleton of ``ALICE`` reads its ``I`` as ``l``). Chinese names are their own skeletons.

The index lives in memory beside the directory (built at start from the stored names) and is
checked and reserved in one step on the reactor thread, so two racing registrations of
look-alike names cannot both pass.
"""

from disarm import skeleton_key


def skeletons(name: str) -> frozenset:
    """The skeletons ``name`` is compared by: as typed, case-folded and upper-cased (a
    lower-case ``l`` and a capital ``I`` look alike, whichever way the name is written)."""
    return frozenset({skeleton_key(name), skeleton_key(name.casefold()),
                      skeleton_key(name.upper())})


class Lookalikes:
    """Skeleton -> the name that holds it, for one kind of name (accounts, or rooms)."""

    def __init__(self):
        self._holders: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._holders)

    def add(self, name: str) -> None:
        for skeleton in skeletons(name):
            self._holders.setdefault(skeleton, name)

    def remove(self, name: str) -> None:
        for skeleton in skeletons(name):
            if self._holders.get(skeleton) == name:
                del self._holders[skeleton]

    def holder(self, name: str):
        """The existing name ``name`` would be mistaken for, or None. The same name (any
        case) is not a look-alike: that is the key's to refuse (``name_taken``)."""
        for skeleton in skeletons(name):
            other = self._holders.get(skeleton)
            if other is not None and other.casefold() != name.casefold():
                return other
        return None

    def reserve(self, name: str):
        """:meth:`holder`, and if there is none, hold ``name``'s skeletons at once (undo with
        :meth:`remove` if the name is not created after all)."""
        other = self.holder(name)
        if other is None:
            self.add(name)
        return other
