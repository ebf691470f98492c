"""Whose signature a reader accepts, and which key may sign for which chain (issue 11, item 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner
from equitoken.app.settings import Settings
from equitoken.app.trustee import (
    check_signer,
    load_trustee,
    public_development_trustee,
    refuse_public_key,
)
from equitoken.domain.chains import DEVELOPMENT_SEED, EMBEDDED_CHAIN_ID, TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares, TokenAmount
from equitoken.reserves.attestation import Attestation, ReserveLine, SignedAttestation, sign

TRUSTEE = KeySigner(derive_private_key("trustee-tests", "trustee"))
FORGER = KeySigner(derive_private_key("trustee-tests", "forger"))
PUBLIC = KeySigner(derive_private_key(DEVELOPMENT_SEED, TRUSTEE_LABEL))
REGISTRY = WalletAddress("0x" + "5e" * 20)
ANVIL = 31337


def document(
    signer: KeySigner = TRUSTEE, *, chain_id: int = ANVIL, registry: WalletAddress | None = REGISTRY
) -> SignedAttestation:
    line = ReserveLine(
        symbol=Symbol("AAPL"),
        model="inventory",
        supply=TokenAmount("1"),
        multiplier=Decimal(1),
        custody=Shares(2941),  # the forged collateral ratio of the issue
        in_flight=Shares(0),
        holders_root=bytes(32),
        holder_count=0,
        token=WalletAddress("0x" + "7a" * 20),
    )
    at = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    return sign(Attestation(7, at, [line], chain_id=chain_id, registry=registry), signer)


@dataclass
class FakeRegistries:
    """A chain whose registries hold the trustees given (an unknown address has no contract)."""

    chain_id: int = ANVIL
    trustees: dict[WalletAddress, WalletAddress] = field(default_factory=dict)
    reads: list[WalletAddress] = field(default_factory=list)

    def registry_trustee(self, registry: WalletAddress) -> WalletAddress:
        self.reads.append(registry)
        try:
            return self.trustees[registry]
        except KeyError:
            raise DomainError("NO_CONTRACT", f"there is no contract at {registry}") from None


def refused(code: str, signed: SignedAttestation, **options: object) -> str:
    with pytest.raises(DomainError) as error:
        check_signer(signed, **options)  # type: ignore[arg-type]
    assert error.value.code == code, error.value
    return error.value.message


def test_a_signature_alone_is_never_accepted() -> None:
    message = refused("TRUSTEE_UNCHECKED", document(FORGER))
    assert "--trustee" in message and f"--registry {REGISTRY.value}" in message
    embedded = refused("TRUSTEE_UNCHECKED", document(chain_id=EMBEDDED_CHAIN_ID))
    assert "embedded development chain" in embedded
    # A chain at hand is not a check either: the registry a document names is the signer's choice.
    chain = FakeRegistries(trustees={REGISTRY: FORGER.address})
    refused("TRUSTEE_UNCHECKED", document(FORGER), chain=chain)
    assert chain.reads == []


def test_the_signer_is_checked_against_the_named_trustee() -> None:
    check = check_signer(document(), trustee=TRUSTEE.address)
    assert check.trustee == TRUSTEE.address and check.sources == ("--trustee",)
    assert "not by" in refused("WRONG_TRUSTEE", document(FORGER), trustee=TRUSTEE.address)


def test_the_signer_is_checked_against_the_trustee_the_registry_holds() -> None:
    chain = FakeRegistries(trustees={REGISTRY: TRUSTEE.address})
    check = check_signer(document(), registry=REGISTRY, chain=chain)
    assert check.sources == (f"registry {REGISTRY.value} on chain {ANVIL}",) and chain.reads == [REGISTRY]
    assert TRUSTEE.address.value in refused("WRONG_TRUSTEE", document(FORGER), registry=REGISTRY, chain=chain)
    both = check_signer(document(), trustee=TRUSTEE.address, registry=REGISTRY, chain=chain)
    assert both.sources == ("--trustee", f"registry {REGISTRY.value} on chain {ANVIL}")


def test_a_registry_read_that_cannot_be_trusted_is_a_refusal() -> None:
    chain = FakeRegistries(trustees={REGISTRY: TRUSTEE.address})
    other = WalletAddress("0x" + "0e" * 20)
    refused("WRONG_REGISTRY", document(), registry=other, chain=chain)
    refused("WRONG_REGISTRY", document(registry=None), registry=REGISTRY, chain=chain)
    refused("NO_CONTRACT", document(registry=other), registry=other, chain=chain)
    refused("CHAIN_MISMATCH", document(chain_id=1), registry=REGISTRY, chain=chain)
    refused("CHAIN_NOT_CONFIGURED", document(), registry=REGISTRY)


def test_the_public_development_key_is_refused_off_the_embedded_chain() -> None:
    assert public_development_trustee() == PUBLIC.address
    for chain_id in (1, ANVIL, 1337):
        signed = document(PUBLIC, chain_id=chain_id)
        refused("DEV_KEY_ON_REAL_CHAIN", signed, trustee=PUBLIC.address)
        with pytest.raises(DomainError) as signing:
            refuse_public_key(PUBLIC.address, chain_id)
        assert signing.value.code == "DEV_KEY_ON_REAL_CHAIN"
    refuse_public_key(PUBLIC.address, EMBEDDED_CHAIN_ID)
    check_signer(document(PUBLIC, chain_id=EMBEDDED_CHAIN_ID), trustee=PUBLIC.address)


@given(st.integers(min_value=1, max_value=2**64).filter(lambda n: n != EMBEDDED_CHAIN_ID))
def test_no_other_chain_id_lets_the_public_key_sign(chain_id: int) -> None:
    with pytest.raises(DomainError) as signing:
        refuse_public_key(PUBLIC.address, chain_id)
    assert signing.value.code == "DEV_KEY_ON_REAL_CHAIN"
    refuse_public_key(TRUSTEE.address, chain_id)  # an operator's own key signs anywhere


def test_the_trustee_key_is_loaded_from_the_file_or_is_a_development_key(tmp_path: Path) -> None:
    development = load_trustee(Settings(chain_seed="my-seed"))
    assert (
        development.development
        and development.signer.address == KeySigner(derive_private_key("my-seed", TRUSTEE_LABEL)).address
    )
    assert development.for_chain(EMBEDDED_CHAIN_ID) is development.signer
    with pytest.raises(DomainError) as elsewhere:
        development.for_chain(ANVIL)
    assert elsewhere.value.code == "DEV_KEY_ON_REAL_CHAIN"
    own = tmp_path / "trustee.key"
    own.write_text("0x" + derive_private_key("operator", "trustee").hex() + "\n")
    operator = load_trustee(Settings(trustee_key_file=own))
    assert not operator.development and operator.for_chain(ANVIL).address == operator.signer.address
    copied = tmp_path / "copied.key"
    copied.write_text(derive_private_key(DEVELOPMENT_SEED, TRUSTEE_LABEL).hex())
    public_in_a_file = load_trustee(Settings(trustee_key_file=copied))
    assert public_in_a_file.development
    with pytest.raises(DomainError) as copied_key:
        public_in_a_file.for_chain(1)
    assert copied_key.value.code == "DEV_KEY_ON_REAL_CHAIN"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("not a key", "INVALID_KEY"),
        ("ab" * 31, "INVALID_KEY"),
        (b"\xff\xfe", "INVALID_KEY"),
        (None, "FILE_UNREADABLE"),
    ],
)
def test_a_bad_key_file_is_one_refusal(tmp_path: Path, content: str | bytes | None, code: str) -> None:
    path = tmp_path / "trustee.key"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DomainError) as bad:
        load_trustee(Settings(trustee_key_file=path))
    assert bad.value.code == code


def test_the_facade_reads_a_registry_trustee_and_refuses_an_address_without_code() -> None:
    chain = build_chain("", "trustee-tests")
    try:
        trustee = chain.wallet(TRUSTEE_LABEL)
        registry = chain.deploy_reserve_registry(trustee)
        assert chain.registry_trustee(registry) == trustee
        assert chain.chain_id == EMBEDDED_CHAIN_ID
        with pytest.raises(DomainError) as missing:
            chain.registry_trustee(WalletAddress("0x" + "0e" * 20))
        assert missing.value.code == "NO_CONTRACT"
    finally:
        chain.close()
