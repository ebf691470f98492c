"""Holder lists as CSV: header ``holder,balance``, balances as integers in base units.

The format ``equitoken reserves merkle`` reads and an attestation package publishes beside its signed
document. A malformed row is refused with its line number, before anything is hashed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress, to_checksum_address

HEADER = ["holder", "balance"]
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BALANCE = re.compile(r"^[0-9]{1,78}$")  # uint256 has at most 78 decimal digits
_UINT256_LIMIT = 2**256


def parse_holders(lines: Iterable[str]) -> list[tuple[bytes, int]]:
    """Parse ``holder,balance`` CSV lines into ``(20-byte holder, base units)``, refusing with line numbers.

    Blank lines are skipped; a repeated holder is refused, since a tree with two leaves for one holder
    would let either balance be proven.
    """
    try:
        return _parse(csv.reader(lines))
    except csv.Error as error:  # e.g. a field past the csv module's 128 KiB limit
        raise DomainError("INVALID_CSV", f"not a holders CSV ({error})") from None


def _parse(reader: Any) -> list[tuple[bytes, int]]:  # a csv reader (its type is private to csv)
    header = next(reader, None)
    if header is None or [cell.strip().lstrip("\ufeff") for cell in header] != HEADER:
        raise DomainError("INVALID_CSV", "line 1: the header must be exactly holder,balance")
    entries: list[tuple[bytes, int]] = []
    seen: dict[bytes, int] = {}
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        number = reader.line_num
        holder, balance = _row(row, number)
        first = seen.setdefault(holder, number)
        if first != number:
            raise DomainError(
                "DUPLICATE_HOLDER",
                f"line {number}: {to_checksum_address(holder.hex())} is already on line {first}",
            )
        entries.append((holder, balance))
    if not entries:
        raise DomainError("EMPTY_TREE", "the holders file has no rows after its header")
    return entries


def _row(row: list[str], number: int) -> tuple[bytes, int]:
    if len(row) != 2:
        raise DomainError("INVALID_CSV", f"line {number}: expected 2 fields (holder,balance), got {len(row)}")
    address, amount = row[0].strip(), row[1].strip()
    if not _ADDRESS.match(address):
        raise DomainError("INVALID_ADDRESS", f"line {number}: {address!r} is not a 0x-prefixed address")
    body = address[2:]
    if body != body.lower() and body != body.upper():
        # Mixed case carries an EIP-55 checksum: check it (the common all-lower case skips the hash).
        try:
            WalletAddress(address)
        except DomainError as error:
            raise DomainError(error.code, f"line {number}: {error.message}") from None
    if not _BALANCE.match(amount):
        raise DomainError(
            "INVALID_BALANCE", f"line {number}: balance {amount!r} is not a whole number of base units"
        )
    balance = int(amount)
    if balance >= _UINT256_LIMIT:
        raise DomainError("OUT_OF_RANGE", f"line {number}: balance {amount} does not fit in uint256")
    return bytes.fromhex(body), balance
