"""Contract ABI tables: each equitoken contract's functions by name and events by topic0, built once.

The cold paths (role grants, configuration, views) encode and decode through these tables with eth-abi;
the hot paths use the hand-encoded calldata of ``_codec`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from equitoken.adapters.chain.compiler import CompiledContract, compile_contract
from equitoken.adapters.chain.facade._codec import selector
from equitoken.domain.keccak import keccak256


def type_string(param: Mapping[str, Any]) -> str:
    """Return the canonical ABI type of a JSON ABI parameter (tuples spelled out)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(type_string(c) for c in param["components"]) + ")" + kind[5:]
    return kind


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A function's selector and canonical input and output types."""

    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event's fields in declaration order, and how its non-indexed data decodes."""

    name: str
    fields: tuple[tuple[str, str, bool], ...]  # (name, type, indexed) in declaration order
    data_types: tuple[str, ...]
    static_data: bool


_STATIC = ("uint", "int", "address", "bool", "bytes32")


class ContractAbi:
    """One contract's functions by name and events by topic0, built once from the compiled ABI."""

    def __init__(self, compiled: CompiledContract) -> None:
        self.compiled = compiled
        self.functions: dict[str, FunctionSpec] = {}
        self.events: dict[bytes, EventSpec] = {}
        for entry in compiled.abi:
            if entry.get("type") == "function":
                inputs = tuple(type_string(i) for i in entry["inputs"])
                outputs = tuple(type_string(o) for o in entry.get("outputs", ()))
                signature = f"{entry['name']}({','.join(inputs)})"
                self.functions[str(entry["name"])] = FunctionSpec(selector(signature), inputs, outputs)
            elif entry.get("type") == "event":
                fields = tuple(
                    (str(i["name"]), type_string(i), bool(i.get("indexed"))) for i in entry["inputs"]
                )
                topic = keccak256(f"{entry['name']}({','.join(t for _, t, _ in fields)})".encode())
                data_types = tuple(t for _, t, indexed in fields if not indexed)
                static = all(t.startswith(_STATIC) and "[" not in t for t in data_types)
                self.events[topic] = EventSpec(str(entry["name"]), fields, data_types, static)

    def encode(self, name: str, *args: Any) -> bytes:
        """Return the calldata of function ``name`` called with ``args``."""
        function = self.functions[name]
        return function.selector + abi_encode(list(function.inputs), list(args))

    def decode(self, name: str, output: bytes) -> tuple[Any, ...]:
        """Return the decoded return values of function ``name``."""
        return tuple(abi_decode(list(self.functions[name].outputs), output))

    def constructor_data(self, *args: Any) -> bytes:
        """Return the creation code followed by the encoded constructor ``args``."""
        types = [i["type"] for i in self.compiled.constructor_inputs()]
        return self.compiled.bytecode + abi_encode(types, list(args))


_ABIS: dict[str, ContractAbi] = {}


def contract_abi(name: str) -> ContractAbi:
    """Return the (cached) ABI tables of the equitoken contract ``name``."""
    abi = _ABIS.get(name)
    if abi is None:
        abi = _ABIS[name] = ContractAbi(compile_contract(name))
    return abi
