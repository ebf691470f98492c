"""QuoteSettlement: EIP-712 digest parity with eth-account, settlement, expiry, replay, signer, chain id,
rounding and the notional window."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from equitoken.adapters.chain.eip712 import (
    SIDE_BUY,
    SIDE_SELL,
    Quote,
    quote_digest,
    quote_notional,
    recover_quote_signer,
    sign_quote,
    symbol_bytes32,
    typed_data,
)
from equitoken.domain.keccak import keccak256

from .conftest import ISSUER, ONE, System, deploy_system
from .harness import Contract

SIGNER_KEY = keccak256(b"platform signer")
OTHER_KEY = keccak256(b"someone else")
SYMBOL = symbol_bytes32("ACMEx")
PRICE = 187_250_000  # 187.25 USD (6 decimals) per whole token
MAX = 2**256 - 1


def _address(key: bytes) -> str:
    return str(Account.from_key(key).address).lower()


def _quote(
    investor: str, *, side: int = SIDE_BUY, quantity: int = 2 * ONE, expiry: int, qid: str = "q1"
) -> Quote:
    return Quote(
        investor=bytes.fromhex(investor[2:]),
        symbol=SYMBOL,
        side=side,
        quantity=quantity,
        price=PRICE,
        expiry=expiry,
        quote_id=keccak256(qid.encode()),
    )


def test_digest_matches_eth_account() -> None:
    contract = bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3")
    quote = Quote(bytes(range(20)), SYMBOL, SIDE_SELL, 123 * ONE, PRICE, 1_800_000_000, keccak256(b"x"))
    signable = encode_typed_data(full_message=typed_data(quote, 31337, contract))
    expected = keccak256(b"\x19" + signable.version + signable.header + signable.body)
    assert quote_digest(quote, 31337, contract) == expected
    signature = sign_quote(SIGNER_KEY, quote, 31337, contract)
    theirs = Account.sign_typed_data(SIGNER_KEY, full_message=typed_data(quote, 31337, contract))
    assert (signature.v, int.from_bytes(signature.r, "big"), int.from_bytes(signature.s, "big")) == (
        theirs.v,
        theirs.r,
        theirs.s,
    )
    assert recover_quote_signer(quote, signature, 31337, contract) == bytes.fromhex(_address(SIGNER_KEY)[2:])
    assert len(signature.to_bytes()) == 65


def test_notional_rounding_favours_the_platform() -> None:
    # 1 raw unit at 187.25 USD: exact is 1.8725e-16 micro-dollars
    assert quote_notional(SIDE_BUY, 1, PRICE) == 1
    assert quote_notional(SIDE_SELL, 1, PRICE) == 0
    assert quote_notional(SIDE_BUY, 2 * ONE, PRICE) == quote_notional(SIDE_SELL, 2 * ONE, PRICE) == 2 * PRICE
    assert quote_notional(SIDE_BUY, ONE + 1, PRICE) == PRICE + 1
    assert quote_notional(SIDE_SELL, ONE + 1, PRICE) == PRICE


class Desk:
    """A system with a settlement contract, a funded investor and a funded treasury."""

    def __init__(self, system: System, *, cap: int = MAX, window: int = 3600) -> None:
        self.s = system
        self.treasury = system.chain.account("treasury")
        self.settlement: Contract = system.chain.deploy(
            system.compiled["QuoteSettlement"],
            system.token.address,
            system.stable.address,
            SYMBOL,
            self.treasury,
            _address(SIGNER_KEY),
            window,
            cap,
            system.admin,
            sender=system.admin,
        )
        system.token.transact("grantRole", ISSUER, self.settlement.address, sender=system.admin)
        self.investor = system.investor("ivan")
        system.stable.transact("mint", self.investor, 10_000 * 10**6, sender=system.admin)
        system.stable.transact("mint", self.treasury, 10_000 * 10**6, sender=system.admin)
        system.stable.transact("approve", self.settlement.address, MAX, sender=self.investor)
        system.stable.transact("approve", self.settlement.address, MAX, sender=self.treasury)

    def settle(
        self, quote: Quote, key: bytes = SIGNER_KEY, chain_id: int | None = None, sender: str | None = None
    ):  # type: ignore[no-untyped-def]
        sig = sign_quote(
            key, quote, chain_id or self.s.chain.chain_id, bytes.fromhex(self.settlement.address[2:])
        )
        args = (
            "0x" + quote.investor.hex(),
            quote.symbol,
            quote.side,
            quote.quantity,
            quote.price,
            quote.expiry,
            quote.quote_id,
            sig.v,
            sig.r,
            sig.s,
        )
        return args, sender or self.investor

    def ok(self, quote: Quote, **kwargs):  # type: ignore[no-untyped-def]
        args, sender = self.settle(quote, **kwargs)
        return self.settlement.transact("settle", *args, sender=sender)

    def refused(self, quote: Quote, **kwargs) -> str | None:  # type: ignore[no-untyped-def]
        args, sender = self.settle(quote, **kwargs)
        return self.settlement.reason("settle", *args, sender=sender)


@pytest.fixture
def desk(system: System) -> Desk:
    return Desk(system)


def test_contract_digest_equals_python(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    on_chain = desk.settlement.call(
        "quoteDigest",
        desk.investor,
        quote.symbol,
        quote.side,
        quote.quantity,
        quote.price,
        quote.expiry,
        quote.quote_id,
    )
    assert on_chain == quote_digest(quote, desk.s.chain.chain_id, bytes.fromhex(desk.settlement.address[2:]))


def test_buy_then_sell(desk: Desk) -> None:
    s = desk.s
    buy = _quote(desk.investor, expiry=s.chain.now + 60, quantity=2 * ONE + 1)
    receipt = desk.ok(buy)
    cost = quote_notional(SIDE_BUY, 2 * ONE + 1, PRICE)
    assert receipt.output == cost == 2 * PRICE + 1
    assert s.balance(desk.investor) == 2 * ONE + 1
    assert s.stable.call("balanceOf", desk.treasury) == 10_000 * 10**6 + cost
    assert receipt.named("QuoteSettled")[0].args["notional"] == cost
    sell = _quote(desk.investor, side=SIDE_SELL, quantity=ONE + 1, expiry=s.chain.now + 60, qid="q2")
    proceeds = desk.ok(sell).output
    assert proceeds == PRICE
    assert s.balance(desk.investor) == ONE
    assert s.stable.call("balanceOf", desk.investor) == 10_000 * 10**6 - cost + proceeds


def test_expired_quote(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    desk.s.chain.advance(61)
    assert desk.refused(quote) == "QUOTE_EXPIRED"


def test_quote_valid_until_its_expiry_second(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    desk.s.chain.advance(60)
    desk.ok(quote)


def test_replayed_quote(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    desk.ok(quote)
    assert desk.settlement.call("quoteUsed", quote.quote_id) is True
    assert desk.refused(quote) == "QUOTE_ALREADY_USED"


def test_wrong_signer(desk: Desk) -> None:
    assert (
        desk.refused(_quote(desk.investor, expiry=desk.s.chain.now + 60), key=OTHER_KEY)
        == "QUOTE_BAD_SIGNATURE"
    )


def test_wrong_chain_id(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    assert desk.refused(quote, chain_id=1) == "QUOTE_BAD_SIGNATURE"


def test_tampered_quote(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    args, sender = desk.settle(quote)
    tampered = list(args)
    tampered[4] = PRICE - 1  # a cheaper price than signed
    assert desk.settlement.reason("settle", *tampered, sender=sender) == "QUOTE_BAD_SIGNATURE"


def test_malleable_signature_is_refused(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    args, sender = desk.settle(quote)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high = list(args)
    high[7] = 55 - args[7]  # flip v between 27 and 28
    high[9] = (n - int.from_bytes(args[9], "big")).to_bytes(32, "big")
    assert desk.settlement.reason("settle", *high, sender=sender) == "QUOTE_BAD_SIGNATURE"
    bad_v = list(args)
    bad_v[7] = 0
    assert desk.settlement.reason("settle", *bad_v, sender=sender) == "QUOTE_BAD_SIGNATURE"


def test_only_the_investor_submits(desk: Desk) -> None:
    quote = _quote(desk.investor, expiry=desk.s.chain.now + 60)
    assert desk.refused(quote, sender=desk.s.chain.account("mallory")) == "QUOTE_CALLER_IS_NOT_THE_INVESTOR"


def test_wrong_symbol(desk: Desk) -> None:
    quote = replace(_quote(desk.investor, expiry=desk.s.chain.now + 60), symbol=symbol_bytes32("OTHER"))
    assert desk.refused(quote) == "QUOTE_WRONG_SYMBOL"


def test_compliance_still_applies(desk: Desk) -> None:
    s = desk.s
    s.token.transact("setAddressFrozen", desk.investor, True, sender=s.agent)
    assert desk.refused(_quote(desk.investor, expiry=s.chain.now + 60)) == "RECIPIENT_FROZEN"
    assert s.stable.call("balanceOf", desk.treasury) == 10_000 * 10**6  # atomic: no payment either


def test_notional_window(system: System) -> None:
    desk = Desk(system, cap=500 * 10**6, window=3600)
    s = desk.s
    s.chain.set_time((s.chain.now // 3600 + 1) * 3600)  # start of a window
    desk.ok(_quote(desk.investor, expiry=s.chain.now + 60, quantity=2 * ONE, qid="a"))  # 374.50
    over = _quote(desk.investor, expiry=s.chain.now + 60, quantity=ONE, qid="b")  # +187.25 > 500
    assert desk.refused(over) == "NOTIONAL_LIMIT_EXCEEDED"
    assert desk.settlement.call("windowUsed") == 2 * PRICE
    s.chain.advance(3600)
    desk.ok(replace(over, expiry=s.chain.now + 60))


def test_admin_setters(desk: Desk) -> None:
    s = desk.s
    new_signer = _address(OTHER_KEY)
    assert desk.settlement.reason("setSigner", new_signer, sender=desk.investor) == "ACCESS_MISSING_ROLE"
    desk.settlement.transact("setSigner", new_signer, sender=s.admin)
    assert desk.refused(_quote(desk.investor, expiry=s.chain.now + 60)) == "QUOTE_BAD_SIGNATURE"
    desk.ok(_quote(desk.investor, expiry=s.chain.now + 60), key=OTHER_KEY)
    desk.settlement.transact("setNotionalLimit", 60, 1, sender=s.admin)
    assert desk.settlement.call("notionalCap") == 1
    assert desk.refused(_quote(desk.investor, expiry=s.chain.now + 60, qid="z"), key=OTHER_KEY) == (
        "NOTIONAL_LIMIT_EXCEEDED"
    )


def test_domain_separator_uses_chain_id(compiled) -> None:  # type: ignore[no-untyped-def]
    s = deploy_system(compiled, chain_id=8453)
    desk = Desk(s)
    quote = _quote(desk.investor, expiry=s.chain.now + 60)
    desk.ok(quote)  # signed for 8453
    assert desk.refused(replace(quote, quote_id=keccak256(b"q9")), chain_id=31337) == "QUOTE_BAD_SIGNATURE"
