"""Finding a pledge's reference in a transfer message.

Donors type the reference into their bank's transfer form, and banks mangle it: upper or
lower case, diacritics added by a phone keyboard, spaces inserted, dashes dropped. Both
sides are folded (`app.text.fold`) with spaces and dashes removed before comparing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.pledges.models import Pledge
from app.text import fold

_IGNORED = re.compile(r"[\s\-]+")


def match_key(text: str) -> str:
    # Most transfer messages are ASCII already (banks strip diacritics): skip the Unicode work.
    return _IGNORED.sub("", text.lower() if text.isascii() else fold(text))


class PledgeMatcher:
    """Finds, in a description, the reference of one of the given pledges.

    When several references occur, the earliest (then the longest) wins; when two pledges
    fold to the same key, the older pledge does.
    """

    def __init__(self, pledges: Iterable[Pledge]) -> None:
        self._by_key: dict[str, Pledge] = {}
        for pledge in sorted(pledges, key=lambda p: p.id):
            self._by_key.setdefault(match_key(pledge.reference), pledge)
        self._lengths = sorted({len(key) for key in self._by_key}, reverse=True)
        # Candidate positions come from a C-speed scan for the keys' first two characters,
        # so a description costs a few dictionary lookups however many pledges there are.
        prefixes = sorted({key[:2] for key in self._by_key})
        self._starts = (
            re.compile("(?=(?:" + "|".join(re.escape(p) for p in prefixes) + "))")
            if prefixes
            else None
        )

    def match(self, description: str | None) -> Pledge | None:
        if not description or self._starts is None:
            return None
        key = match_key(description)
        for start in self._starts.finditer(key):
            position = start.start()
            for length in self._lengths:
                pledge = self._by_key.get(key[position : position + length])
                if pledge is not None:
                    return pledge
        return None
