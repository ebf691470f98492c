"""A minimal pyrevm harness for contract tests: deploy, call with ABI encoding, decode reverts and logs.

It deliberately does not use the chain facade or the embedded backend (written in parallel): contract
tests should fail only because of the contracts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode, encode
from pyrevm import EVM, BlockEnv, CfgEnv, Env

from equitoken.adapters.chain.compiler import CompiledContract
from equitoken.domain.keccak import keccak256

ERROR_SELECTOR = bytes.fromhex("08c379a0")
_REVERT_OUTPUT = re.compile(r"output: 0x([0-9a-fA-F]*)")
START_TIME = 1_700_000_000


class Reverted(Exception):
    """A transaction or call reverted; ``reason`` is the decoded ``Error(string)`` message, if any."""

    def __init__(self, data: bytes, message: str) -> None:
        self.data = data
        self.reason: str | None = None
        if data[:4] == ERROR_SELECTOR:
            (self.reason,) = decode(["string"], data[4:])
        super().__init__(self.reason if self.reason is not None else f"reverted: {message[:200]}")


def address_of(label: str) -> str:
    """Return a deterministic lower-case hex address for ``label``."""
    return "0x" + keccak256(label.encode())[12:].hex()


def _type_string(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def _normalise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, tuple):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


@dataclass(frozen=True)
class Event:
    """A decoded log."""

    address: str
    name: str
    args: dict[str, Any]


@dataclass
class Receipt:
    """What a successful transaction returned."""

    output: Any
    gas_used: int
    events: list[Event] = field(default_factory=list)

    def named(self, name: str) -> list[Event]:
        """Return the events called ``name``."""
        return [e for e in self.events if e.name == name]


class Chain:
    """One in-process EVM with a settable block clock."""

    def __init__(self, chain_id: int = 31337, timestamp: int = START_TIME) -> None:
        self.chain_id = chain_id
        self.evm = EVM(env=Env(cfg=CfgEnv(chain_id=chain_id), block=BlockEnv(number=1, timestamp=timestamp)))
        self.block = 1
        self.now = timestamp
        self._events: dict[bytes, tuple[str, list[dict[str, Any]]]] = {}

    def set_time(self, timestamp: int) -> None:
        """Move the block clock to ``timestamp`` (and to the next block)."""
        self.block += 1
        self.now = timestamp
        self.evm.set_block_env(BlockEnv(number=self.block, timestamp=timestamp))

    def advance(self, seconds: int) -> None:
        """Move the block clock forward by ``seconds``."""
        self.set_time(self.now + seconds)

    def account(self, label: str) -> str:
        """Return a funded deterministic account for ``label``."""
        address = address_of(label)
        self.evm.set_balance(address, 10**24)
        return address

    def deploy(self, compiled: CompiledContract, *args: Any, sender: str) -> Contract:
        """Deploy ``compiled`` with constructor ``args`` from ``sender``."""
        types = [t["type"] for t in compiled.constructor_inputs()]
        code = compiled.bytecode + (encode(types, list(args)) if types else b"")
        self.evm.set_balance(sender, 10**24)
        try:
            address = self.evm.deploy(sender, code, gas=30_000_000)
        except RuntimeError as error:
            raise _reverted(error) from None
        for entry in compiled.abi:
            if entry["type"] == "event":
                signature = f"{entry['name']}({','.join(_type_string(i) for i in entry['inputs'])})"
                self._events[keccak256(signature.encode())] = (entry["name"], entry["inputs"])
        return Contract(self, address.lower(), compiled)

    def decode_logs(self) -> list[Event]:
        """Decode the logs of the last execution."""
        result = self.evm.result
        out: list[Event] = []
        if result is None:
            return out
        for log in result.logs:
            topics, data = log.data
            known = self._events.get(bytes(topics[0])) if topics else None
            if known is None:
                continue
            name, inputs = known
            indexed = [i for i in inputs if i.get("indexed")]
            plain = [i for i in inputs if not i.get("indexed")]
            args: dict[str, Any] = {}
            for param, topic in zip(indexed, topics[1:], strict=True):
                (args[param["name"]],) = decode([_type_string(param)], bytes(topic))
            values = decode([_type_string(p) for p in plain], bytes(data)) if plain else ()
            for param, value in zip(plain, values, strict=True):
                args[param["name"]] = value
            out.append(Event(log.address.lower(), name, {k: _normalise(v) for k, v in args.items()}))
        return out


def _reverted(error: RuntimeError) -> Reverted:
    message = str(error)
    match = _REVERT_OUTPUT.search(message)
    data = bytes.fromhex(match.group(1)) if match else b""
    return Reverted(data, message)


class Contract:
    """A deployed contract: ``call`` for views, ``transact`` for transactions."""

    def __init__(self, chain: Chain, address: str, compiled: CompiledContract) -> None:
        self.chain = chain
        self.address = address
        self.compiled = compiled
        self._functions: dict[str, tuple[bytes, list[str], list[str]]] = {}
        for entry in compiled.abi:
            if entry["type"] == "function":
                inputs = [_type_string(i) for i in entry["inputs"]]
                outputs = [_type_string(o) for o in entry["outputs"]]
                selector = keccak256(f"{entry['name']}({','.join(inputs)})".encode())[:4]
                self._functions[entry["name"]] = (selector, inputs, outputs)

    def calldata(self, fn: str, *args: Any) -> bytes:
        """Return the ABI-encoded calldata of ``fn(*args)``."""
        selector, inputs, _ = self._functions[fn]
        return selector + encode(inputs, list(args))

    def _decode(self, fn: str, raw: bytes) -> Any:
        outputs = self._functions[fn][2]
        if not outputs:
            return None
        values = decode(outputs, bytes(raw))
        values = _normalise(values)
        return values[0] if len(values) == 1 else values

    def call(self, fn: str, *args: Any, sender: str | None = None) -> Any:
        """Run the view ``fn(*args)`` and return its decoded result (one value, or a tuple)."""
        try:
            raw = self.chain.evm.message_call(
                sender or address_of("viewer"), self.address, self.calldata(fn, *args), is_static=True
            )
        except RuntimeError as error:
            raise _reverted(error) from None
        return self._decode(fn, raw)

    def transact(self, fn: str, *args: Any, sender: str, gas: int = 30_000_000) -> Receipt:
        """Execute ``fn(*args)`` from ``sender``; return a receipt or raise ``Reverted``."""
        try:
            raw = self.chain.evm.message_call(sender, self.address, self.calldata(fn, *args), gas=gas)
        except RuntimeError as error:
            raise _reverted(error) from None
        result = self.chain.evm.result
        gas_used = result.gas_used if result is not None else 0
        return Receipt(self._decode(fn, raw), gas_used, self.chain.decode_logs())

    def reason(self, fn: str, *args: Any, sender: str) -> str | None:
        """Execute ``fn(*args)``, expecting a revert; return its reason string (``None`` if bare)."""
        try:
            self.transact(fn, *args, sender=sender)
        except Reverted as error:
            return error.reason
        raise AssertionError(f"{fn}{args!r} did not revert")


def revert_reasons(calls: Sequence[tuple[Contract, str, tuple[Any, ...], str]]) -> list[str | None]:
    """Run several expected-to-revert calls and return their reasons (for table-driven tests)."""
    return [c.reason(fn, *args, sender=sender) for c, fn, args, sender in calls]
