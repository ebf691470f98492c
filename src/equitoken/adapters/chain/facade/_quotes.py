"""``QuoteChain`` without deployment: EIP-712 quotes signed, priced and settled on a settlement contract."""

from __future__ import annotations

from typing import Any

from equitoken.adapters.chain import eip712
from equitoken.adapters.chain.facade._abi import contract_abi
from equitoken.adapters.chain.facade._codec import money_from_units, money_units, to_seconds
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.adapters.chain.facade._state import SettlementRecord
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Money
from equitoken.ports.chain import ChainQuote, ChainTx, QuoteSide, SignedQuote


class Quotes(Sending):
    """Firm quotes: signed by the platform signer, settled by the investor."""

    def _settlement(self, address: WalletAddress) -> SettlementRecord:
        found = self._settlements.get(self._b(address))
        if found is None:
            raise DomainError(
                "UNKNOWN_CONTRACT", f"{address} is not a settlement contract deployed by this facade"
            )
        return found

    def _raw_quote(self, quote: ChainQuote) -> eip712.Quote:
        settlement = self._settlement(quote.settlement)
        return eip712.Quote(
            investor=self._b(quote.investor),
            symbol=eip712.symbol_bytes32(settlement.instrument.symbol.value),
            side=int(quote.side),
            quantity=self._units(self._b(settlement.instrument.token), quote.quantity),
            price=money_units(quote.price),
            expiry=to_seconds(quote.expiry),
            quote_id=keccak256(b"quote:" + quote.quote_id.encode()),
        )

    def sign_quote(self, quote: ChainQuote, chain_id: int | None = None) -> SignedQuote:
        """Sign ``quote`` as the settlement's platform signer for ``chain_id`` (this chain's if omitted)."""
        settlement = self._settlement(quote.settlement)
        target_chain = self._chain_id if chain_id is None else chain_id
        signature = eip712.sign_quote(
            self._keyring.private_key(settlement.signer),
            self._raw_quote(quote),
            target_chain,
            self._b(quote.settlement),
        )
        return SignedQuote(quote, target_chain, "0x" + signature.to_bytes().hex())

    def quote_typed_data(self, signed: SignedQuote) -> dict[str, Any]:
        """Return the signed quote as its EIP-712 typed-data document (what a wallet shows and checks)."""
        return eip712.typed_data(
            self._raw_quote(signed.quote), signed.chain_id, self._b(signed.quote.settlement)
        )

    def settle_calldata(self, signed: SignedQuote) -> bytes:
        """Return the calldata of ``settle`` for a signed quote (what the investor's own wallet sends)."""
        raw = self._raw_quote(signed.quote)
        signature = bytes.fromhex(signed.signature.removeprefix("0x"))
        if len(signature) != 65:
            raise DomainError("INVALID_SIGNATURE", "a quote signature is 65 bytes")
        return contract_abi("QuoteSettlement").encode(
            "settle",
            raw.investor,
            raw.symbol,
            raw.side,
            raw.quantity,
            raw.price,
            raw.expiry,
            raw.quote_id,
            signature[64],
            signature[:32],
            signature[32:64],
        )

    def quote_notional(self, quote: ChainQuote) -> Money:
        """Return what a quote pays or receives, rounded as the contract does (in the platform's favour)."""
        raw = self._raw_quote(quote)
        decimals = self._settlement(quote.settlement).instrument.decimals
        return money_from_units(eip712.quote_notional(raw.side, raw.quantity, raw.price, decimals))

    def settle_quote(self, signed: SignedQuote) -> ChainTx:
        """Settle a signed quote as its investor; a buy approves exactly its notional first (same block)."""
        quote = signed.quote
        settlement = self._settlement(quote.settlement)
        raw = self._raw_quote(quote)
        signature = bytes.fromhex(signed.signature.removeprefix("0x"))
        if len(signature) != 65:
            raise DomainError("INVALID_SIGNATURE", "a quote signature is 65 bytes")
        investor = raw.investor
        contract = self._b(quote.settlement)
        calls = []
        if quote.side is QuoteSide.BUY:
            notional = eip712.quote_notional(
                raw.side, raw.quantity, raw.price, settlement.instrument.decimals
            )
            calls.append(self._approve_call(settlement.stablecoin, investor, contract, notional))
        calls.append(
            self._write(
                "QuoteSettlement",
                investor,
                contract,
                "settle",
                raw.investor,
                raw.symbol,
                raw.side,
                raw.quantity,
                raw.price,
                raw.expiry,
                raw.quote_id,
                signature[64],
                signature[:32],
                signature[32:64],
            )
        )
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return self._tx(receipts[-1])
