"""How deep a JSON text nests, found before any parser recurses into it.

Python's JSON parser recurses per bracket: fed 100,000 of them it raises, or — when the recursion limit
was raised — exhausts the C stack and kills the process. Every reader of an outside JSON document asks
this first.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def nests_deeper_than(text: str, limit: int) -> bool:
    """Tell whether ``text``'s brackets, outside string literals, nest more than ``limit`` levels deep."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):  # brackets only: cheap on large files
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
