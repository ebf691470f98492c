"""Sanctions screening against a list the operator loads.

The list is a CSV file, UTF-8, one entry per line::

    type,value,list,listed_on
    wallet,0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a,OFAC-SDN,2024-03-01
    name,Jane Example Doe,EU-CFSP,2023-02-25
    country,KP,OFAC-PROGRAM,2017-09-20

- the header line is required and exactly ``type,value,list,listed_on``;
- ``type`` is ``wallet`` (an EVM address: any wallet of the investor, or the wallet itself),
  ``name`` (an investor's legal name, matched after folding case, accents, punctuation and spacing), or
  ``country`` (an ISO 3166 alpha-2 code under comprehensive sanctions: residence or nationality);
- ``list`` names the source list (``OFAC-SDN``, ``EU-CFSP``, ``UN-SC``, ``UK-HMT``...), free text;
- ``listed_on`` is the ISO date the entry was listed;
- blank lines and lines starting with ``#`` are ignored; a value containing a comma is quoted.

A malformed line is refused with the source, the line number and the field. Name matching is exact
after normalisation: fuzzy matching (aliases, transliterations) is the screening provider's job, and
its output can be loaded here as more ``name`` lines.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from equitoken.compliance.countries import country
from equitoken.compliance.investors import Investor
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress

HEADER = ("type", "value", "list", "listed_on")


class EntryType(StrEnum):
    """What a sanctions entry names."""

    WALLET = "wallet"
    NAME = "name"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class SanctionsEntry:
    """One listed wallet, name or country, with its source list and listing date."""

    type: EntryType
    value: str
    """Canonical form: checksummed address, normalised name, or alpha-2 code."""
    list: str
    listed_on: date
    line: int = 0


@dataclass(frozen=True, slots=True)
class SanctionsHit:
    """Why a screened party matched: the entry, and what of the party it matched."""

    entry: SanctionsEntry
    matched: str


def normalise_name(name: str) -> str:
    """Fold case, accents, punctuation and spacing so ``José  O'Neil`` matches ``jose oneil``."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    letters = re.sub(r"[^\w\s]", "", plain.casefold())
    return " ".join(letters.split())


def _canonical(kind: EntryType, value: str) -> str:
    if kind is EntryType.WALLET:
        return WalletAddress(value).value
    if kind is EntryType.COUNTRY:
        return country(value).alpha2
    normalised = normalise_name(value)
    if not normalised:
        raise DomainError("INVALID_NAME", f"{value!r} has no letters to match")
    return normalised


def parse_sanctions(text: str, source: str) -> SanctionsList:
    """Parse a sanctions CSV (already read) or refuse it naming ``source``, the line and the field."""
    entries: list[SanctionsEntry] = []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = [cell.strip() for cell in next(csv.reader([line]))]
        except csv.Error as error:  # e.g. a field past the csv module's 128 KiB limit
            raise _bad(source, number, "row", f"not a CSV row ({error})") from None
        if not header_seen:
            if tuple(row) != HEADER:
                shown = line.strip() if len(line) <= 80 else f"{line.strip()[:60]}…"
                raise _bad(source, number, "header", f"expected {','.join(HEADER)}, got {shown!r}")
            header_seen = True
            continue
        if len(row) != len(HEADER):
            raise _bad(source, number, "row", f"expected {len(HEADER)} fields, got {len(row)}")
        entries.append(_entry(row, source, number))
    if not header_seen:
        raise _bad(source, 1, "header", f"the file is empty; expected the header {','.join(HEADER)}")
    return SanctionsList(entries)


def _entry(row: list[str], source: str, number: int) -> SanctionsEntry:
    kind_text, value, list_name, listed = row
    try:
        kind = EntryType(kind_text)
    except ValueError:
        names = "|".join(k.value for k in EntryType)
        raise _bad(source, number, "type", f"{kind_text!r} is not one of {names}") from None
    try:
        canonical = _canonical(kind, value)
    except DomainError as error:
        raise _bad(source, number, "value", error.message) from None
    if not list_name:
        raise _bad(source, number, "list", "the source list must be named (e.g. OFAC-SDN)")
    try:
        listed_on = date.fromisoformat(listed)
    except ValueError:
        raise _bad(source, number, "listed_on", f"{listed!r} is not an ISO date (YYYY-MM-DD)") from None
    return SanctionsEntry(kind, canonical, list_name, listed_on, number)


def _bad(source: str, line: int, field: str, why: str) -> DomainError:
    return DomainError("INVALID_SANCTIONS_FILE", f"{source}, line {line}, field {field}: {why}")


class SanctionsList:
    """The loaded list, indexed for screening wallets, names and countries."""

    def __init__(self, entries: Iterable[SanctionsEntry] = ()) -> None:
        self.entries = tuple(entries)
        self._index: dict[tuple[EntryType, str], list[SanctionsEntry]] = {}
        for entry in self.entries:
            self._index.setdefault((entry.type, entry.value), []).append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def _hits(self, kind: EntryType, value: str, matched: str) -> list[SanctionsHit]:
        return [SanctionsHit(entry, matched) for entry in self._index.get((kind, value), [])]

    def screen_wallet(self, wallet: WalletAddress) -> tuple[SanctionsHit, ...]:
        """Return the entries listing ``wallet`` itself."""
        return tuple(self._hits(EntryType.WALLET, wallet.value, f"wallet {wallet}"))

    def screen(self, investor: Investor) -> tuple[SanctionsHit, ...]:
        """Return every entry matching the investor: name, residence, nationality or any bound wallet."""
        hits = self._hits(EntryType.NAME, normalise_name(investor.name), f"name {investor.name}")
        hits += self._hits(EntryType.COUNTRY, investor.residence.alpha2, f"residence {investor.residence}")
        if investor.nationality != investor.residence:
            hits += self._hits(
                EntryType.COUNTRY, investor.nationality.alpha2, f"nationality {investor.nationality}"
            )
        for wallet in sorted(investor.wallets):
            hits += self._hits(EntryType.WALLET, wallet.value, f"wallet {wallet}")
        return tuple(hits)
