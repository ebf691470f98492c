"""ABI event decoding: raw logs become ``ChainEvent`` with domain-typed arguments, receipts ``ChainTx``.

The emitting contract (by address) picks the ABI; topic0 picks the event. ``Transfer`` of a security
token, emitted by every transfer and mint, is decoded by hand with every lookup cached.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode as abi_decode

from equitoken.adapters.chain.backend import RawLog, RawReceipt
from equitoken.adapters.chain.facade._abi import EventSpec, contract_abi
from equitoken.adapters.chain.facade._codec import (
    TRANSFER_TOPIC,
    from_seconds,
    money_from_units,
    multiplier_from_units,
)
from equitoken.adapters.chain.facade._state import ChainState
from equitoken.domain.ids import WalletAddress
from equitoken.ports.chain import ChainEvent, ChainTx, QuoteSide


class EventDecoding(ChainState):
    """Decode receipts and logs into domain events."""

    def _tx(self, receipt: RawReceipt) -> ChainTx:
        logs = receipt.logs
        events = tuple(self._event(log) for log in logs) if logs else ()
        return ChainTx("0x" + receipt.tx_hash.hex(), receipt.block, receipt.gas_used, events)

    def _event(self, log: RawLog) -> ChainEvent:
        kind = self._kinds.get(log.address)
        topics = log.topics
        topic = topics[0] if topics else b""
        if topic == TRANSFER_TOPIC and kind == "SecurityToken":
            # The hot path (every transfer and mint): decode the one event by hand, all lookups cached.
            word_wallet = self._topic_wallet
            sender = word_wallet.get(topics[1]) or self._topic_to_wallet(topics[1])
            receiver = word_wallet.get(topics[2]) or self._topic_to_wallet(topics[2])
            fast_args = {
                "sender": sender,
                "receiver": receiver,
                "value": self._amount(int.from_bytes(log.data, "big"), self._decimals[log.address]),
            }
            return ChainEvent(
                self._wallet(log.address),
                "Transfer",
                log.block,
                "0x" + log.tx_hash.hex(),
                log.log_index,
                fast_args,
            )
        spec: EventSpec | None = None
        if kind is not None:
            spec = contract_abi(kind).events.get(topic)
        if spec is None:
            for name in (
                "SecurityToken",
                "Compliance",
                "IdentityRegistry",
                "Stablecoin",
                "QuoteSettlement",
                "ConstantProductPool",
            ):
                spec = contract_abi(name).events.get(topic)
                if spec is not None:
                    break
        contract = self._wallet(log.address)
        tx_hash = "0x" + log.tx_hash.hex()
        if spec is None:
            return ChainEvent(
                contract,
                "Unknown",
                log.block,
                tx_hash,
                log.log_index,
                {"topics": tuple("0x" + t.hex() for t in log.topics)},
            )
        data = log.data
        if spec.static_data:
            values = [
                int.from_bytes(data[i : i + 32], "big") for i in range(0, 32 * len(spec.data_types), 32)
            ]
            decoded: list[Any] = [self._static(t, v) for t, v in zip(spec.data_types, values, strict=True)]
        else:
            decoded = list(abi_decode(list(spec.data_types), data))
        args: dict[str, Any] = {}
        topic_index = 1
        data_index = 0
        for name, kind_type, indexed in spec.fields:
            if indexed:
                raw = int.from_bytes(log.topics[topic_index], "big")
                topic_index += 1
                args[name] = self._static(kind_type, raw)
            else:
                args[name] = decoded[data_index]
                data_index += 1
        self._domain_args(kind, spec.name, log.address, args)
        return ChainEvent(contract, spec.name, log.block, tx_hash, log.log_index, args)

    def _topic_to_wallet(self, topic: bytes) -> WalletAddress:
        wallet = self._wallet(topic[12:])
        if len(self._topic_wallet) < 1_000_000:
            self._topic_wallet[topic] = wallet
        return wallet

    def _static(self, kind: str, value: int) -> Any:
        if kind == "address":
            return self._wallet(value.to_bytes(32, "big")[12:])
        if kind == "bool":
            return value != 0
        if kind == "bytes32":
            raw = value.to_bytes(32, "big")
            return self._investors.get(raw) or "0x" + raw.hex()
        return value

    def _domain_args(self, kind: str | None, event: str, address: bytes, args: dict[str, Any]) -> None:
        """Turn raw integers into domain values where the emitting contract gives them a meaning."""
        if kind == "SecurityToken":
            decimals = self._decimals[address]
            for field in ("value", "amount"):
                if field in args:
                    args[field] = self._amount(args[field], decimals)
            if event == "MultiplierScheduled":
                args["multiplier"] = multiplier_from_units(args["multiplier"])
                args["effectiveAt"] = from_seconds(args["effectiveAt"])
        elif kind == "Stablecoin":
            if "value" in args:
                args["value"] = money_from_units(args["value"])
        elif kind == "Compliance":
            if event == "MaxBalanceSet":
                instrument = self._instruments.get(address)
                if instrument is not None:
                    args["maxBalance"] = self._amount(args["maxBalance"], instrument.decimals)
            for field in ("until",):
                if field in args:
                    args[field] = from_seconds(args[field])
        elif kind == "IdentityRegistry":
            if "kycExpiry" in args:
                args["kycExpiry"] = from_seconds(args["kycExpiry"])
        elif kind == "QuoteSettlement":
            settlement = self._settlements.get(address)
            if event == "QuoteSettled" and settlement is not None:
                args["quantity"] = self._amount(args["quantity"], settlement.instrument.decimals)
                args["price"] = money_from_units(args["price"])
                args["notional"] = money_from_units(args["notional"])
                args["side"] = QuoteSide(args["side"])
        elif kind == "ConstantProductPool":
            pool = self._pools.get(address)
            if pool is None:
                return
            decimals = pool.instrument.decimals
            if event in ("LiquidityAdded", "LiquidityRemoved"):
                args["amount0"] = self._amount(args["amount0"], decimals)
                args["amount1"] = money_from_units(args["amount1"])
            elif event == "Swap":
                token_in = args["tokenIn"] == pool.instrument.token
                args["amountIn"] = (
                    self._amount(args["amountIn"], decimals)
                    if token_in
                    else money_from_units(args["amountIn"])
                )
                args["amountOut"] = (
                    money_from_units(args["amountOut"])
                    if token_in
                    else self._amount(args["amountOut"], decimals)
                )
