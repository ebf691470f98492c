#!/usr/bin/env python3
"""Rewrite the generated part of docs/reasons.md from domain/catalogue.py (a test checks they agree)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the checkout's catalogue, whichever equitoken is installed

from equitoken.domain.catalogue import markdown  # noqa: E402

BEGIN, END = "<!-- catalogue:begin -->\n", "<!-- catalogue:end -->"


def main() -> None:
    """Replace what lies between the page's markers with the catalogue's tables."""
    page = ROOT / "docs" / "reasons.md"
    text = page.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    page.write_text(head + BEGIN + markdown() + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
