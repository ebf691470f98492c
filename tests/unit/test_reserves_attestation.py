"""Attestations: canonical bytes, the ratio they state, and a signature that tampering breaks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner, recover
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares, TokenAmount
from equitoken.reserves.attestation import (
    ORDER,
    Attestation,
    ReserveLine,
    personal_sign_digest,
    sign,
    verify_document,
)
from equitoken.reserves.merkle import HolderTree

TRUSTEE = KeySigner(derive_private_key("attestation-tests", "trustee"))
INTRUDER = KeySigner(derive_private_key("attestation-tests", "intruder"))
AS_OF = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


def line(symbol: str = "AAPL", **changes: Any) -> ReserveLine:
    tree = HolderTree([(bytes([1]) * 20, 10**18), (bytes([2]) * 20, 5 * 10**17)])
    fields: dict[str, Any] = {
        "symbol": Symbol(symbol),
        "model": "direct",
        "supply": TokenAmount("1.5"),
        "multiplier": Decimal(1),
        "custody": Shares("1.25"),
        "in_flight": Shares("0.25"),
        "holders_root": tree.root,
        "holder_count": len(tree),
        "token": WalletAddress("0x" + "7a" * 20),
    }
    return ReserveLine(**(fields | changes))


def attestation() -> Attestation:
    return Attestation(19_000_000, AS_OF, [line("MSFT", custody=Shares(3)), line("AAPL")], chain_id=1)


def test_the_collateral_ratio_is_backing_over_supply_times_multiplier() -> None:
    assert line().collateral_ratio == Decimal(1)
    assert line(multiplier=Decimal(2)).collateral_ratio == Decimal("0.5")
    # 1.5 / 4.5 = 0.333…: cut, never rounded up, so a report cannot overstate its backing.
    assert line(multiplier=Decimal(3)).collateral_ratio == Decimal("0.333333333")
    assert line(supply=TokenAmount(0)).collateral_ratio is None
    tiny = line(supply=TokenAmount("0.000000000000000001"), custody=Shares(1), in_flight=Shares(0))
    assert tiny.collateral_ratio == Decimal(10**18)


def test_lines_are_in_symbol_order_and_the_json_is_canonical() -> None:
    record = attestation()
    assert [str(x.symbol) for x in record.lines] == ["AAPL", "MSFT"]
    text = record.canonical_json()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert data["as_of"] == "2026-11-23T21:00:00Z"
    assert data["lines"][1]["collateral_ratio"] == "2.166666666"  # (3 + 0.25) / 1.5, cut
    assert data["lines"][0]["supply_tokens"] == "1.5"
    # The same reserves stated in another zone are the same bytes.
    shifted = AS_OF.astimezone(timezone(timedelta(hours=-5)))
    assert Attestation(19_000_000, shifted, list(record.lines), chain_id=1).canonical_json() == text


def test_the_digest_is_what_a_wallet_signs_with_personal_sign() -> None:
    record = attestation()
    account = Account.from_key(derive_private_key("attestation-tests", "trustee"))
    # eth-account is the independent reference for EIP-191 here; the core does not import it.
    signed = account.sign_message(encode_defunct(record.canonical_json()))
    assert personal_sign_digest(record.canonical_json()) == bytes(signed.message_hash)
    ours = sign(record, TRUSTEE)
    assert (ours.v, ours.r, ours.s) == (signed.v, signed.r, signed.s)


def test_a_signed_document_verifies_and_round_trips() -> None:
    signed = sign(attestation(), TRUSTEE)
    checked = verify_document(signed.to_json(), recover)
    assert checked == signed
    assert checked.signer == TRUSTEE.address


def _tamper(document: bytes, change: Any) -> bytes:
    data = json.loads(document)
    change(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _set(path: list[Any], value: Any) -> Any:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_set(["attestation", "as_of_block"], 19_000_001), "BAD_SIGNATURE"),
        (_set(["attestation", "lines", 0, "custody_shares"], "1.35"), "INVALID_ATTESTATION"),
        (_set(["attestation", "lines", 0, "holder_count"], 3), "BAD_SIGNATURE"),
        (
            _set(["attestation", "lines", 0, "holders_root"], "0x" + "ab" * 32),
            "BAD_SIGNATURE",
        ),
        (_set(["attestation", "lines", 0, "collateral_ratio"], "1.1"), "INVALID_ATTESTATION"),
        (_set(["signer"], INTRUDER.address.value), "BAD_SIGNATURE"),
        (_set(["attestation", "lines", 0, "multiplier"], 1.0), "INVALID_ATTESTATION"),
        (_set(["scheme"], "eip712"), "INVALID_ATTESTATION"),
        (_set(["extra"], 1), "INVALID_ATTESTATION"),
    ],
)
def test_a_tampered_document_is_refused(change: Any, code: str) -> None:
    document = sign(attestation(), TRUSTEE).to_json()
    with pytest.raises(DomainError) as refused:
        verify_document(_tamper(document, change), recover)
    assert refused.value.code == code


def test_a_consistent_change_of_figures_still_breaks_the_signature() -> None:
    # Change custody and the ratio together, so the document is internally consistent: only the
    # signature can tell.
    document = sign(attestation(), TRUSTEE).to_json()

    def change(data: Any) -> None:
        first = data["attestation"]["lines"][0]
        first["custody_shares"] = "2.25"
        first["collateral_ratio"] = "1.666666666"

    with pytest.raises(DomainError) as refused:
        verify_document(_tamper(document, change), recover)
    assert refused.value.code == "BAD_SIGNATURE"


def test_a_tampered_signature_is_refused() -> None:
    signed = sign(attestation(), TRUSTEE)
    document = signed.document()
    raw = bytearray(bytes.fromhex(document["signature"][2:]))
    for position in (0, 40):  # one bit of r, one of s
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        text = json.dumps(document | {"signature": "0x" + flipped.hex()}).encode()
        with pytest.raises(DomainError) as refused:
            verify_document(text, recover)
        assert refused.value.code in ("BAD_SIGNATURE", "INVALID_SIGNATURE")
    wrong_v = bytearray(raw)
    wrong_v[64] = 29
    with pytest.raises(DomainError) as refused:
        verify_document(json.dumps(document | {"signature": "0x" + wrong_v.hex()}), recover)
    assert refused.value.code == "INVALID_SIGNATURE"
    other = sign(attestation(), INTRUDER).document()
    swapped = json.dumps(document | {"signature": other["signature"]})
    with pytest.raises(DomainError) as refused:
        verify_document(swapped, recover)
    assert refused.value.code == "BAD_SIGNATURE"


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: line(model="Direct Model"), "INVALID_ATTESTATION"),
        (lambda: line(multiplier=Decimal(0)), "INVALID_ATTESTATION"),
        (lambda: line(multiplier=Decimal("NaN")), "INVALID_ATTESTATION"),
        (lambda: line(holders_root=bytes(31)), "INVALID_ATTESTATION"),
        (lambda: line(holder_count=-1), "INVALID_ATTESTATION"),
        (lambda: Attestation(-1, AS_OF, [line()], chain_id=1), "INVALID_ATTESTATION"),
        (lambda: Attestation(1, AS_OF, [line(), line()], chain_id=1), "INVALID_ATTESTATION"),
        (lambda: Attestation(1, datetime(2026, 11, 23), [line()], chain_id=1), "NAIVE_DATETIME"),
        (lambda: Attestation(1, AS_OF, [line()], chain_id=0), "INVALID_ATTESTATION"),
    ],
)
def test_bad_figures_are_refused(build: Any, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        build()
    assert refused.value.code == code


def test_a_document_that_is_not_json_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        verify_document(b"{not json", recover)
    assert refused.value.code == "INVALID_ATTESTATION"


def test_only_the_canonical_bytes_are_the_document() -> None:
    published = sign(attestation(), TRUSTEE).to_json()
    assert verify_document(published + b"\n", recover).signer == TRUSTEE.address  # a file's newline
    data = json.loads(published)
    for respelled in (
        json.dumps(data, indent=2, sort_keys=True),  # pretty-printed
        json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")),  # keys out of order
        published.decode().replace('"format"', '"format":"x","format"', 1),  # a duplicate key
    ):
        with pytest.raises(DomainError) as refused:
            verify_document(respelled, recover)
        assert refused.value.code == "INVALID_ATTESTATION"


def test_the_high_s_twin_of_a_signature_is_refused() -> None:
    signed = sign(attestation(), TRUSTEE)
    twin_s = ORDER - signed.s
    twin = replace(signed, s=twin_s, v=55 - signed.v)  # same signer, the other s
    assert recover(signed.attestation.digest(), twin.v, twin.r, twin.s) == TRUSTEE.address.to_bytes()
    with pytest.raises(DomainError) as refused:
        verify_document(twin.to_json(), recover)
    assert refused.value.code == "INVALID_SIGNATURE"


def test_the_document_names_its_chain_tokens_and_registry() -> None:
    registry = WalletAddress("0x" + "5e" * 20)
    record = Attestation(7, AS_OF, [line()], chain_id=31337, registry=registry)
    data = json.loads(record.canonical_json())
    assert data["chain_id"] == 31337 and data["registry"] == registry.value
    assert data["lines"][0]["token"] == WalletAddress("0x" + "7a" * 20).value
    other_chain = json.loads(sign(record, TRUSTEE).to_json())
    other_chain["attestation"]["chain_id"] = 1
    with pytest.raises(DomainError) as refused:
        verify_document(json.dumps(other_chain, sort_keys=True, separators=(",", ":")), recover)
    assert refused.value.code == "BAD_SIGNATURE"
