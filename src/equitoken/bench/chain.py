"""Bench part ``chain``: the security token through the ``TokenChain`` port beside a plain ERC-20.

For each engine (embedded always; anvil when its binary is installed — started and stopped here):

- **raw ERC-20 transfers/s** — ``bench/contracts/PlainToken.vy`` (no compliance), calldata encoded before
  the clock starts: one ``send`` per transfer on the embedded engine, pre-signed transactions posted in
  JSON-RPC arrays with one ``evm_mine`` each on anvil. This is the baseline of every figure below;
- **compliant transfers/s through the port** — ``SecurityToken.transfer`` with the compliance hook, in
  OPEN mode (sanctions check) and in ELIGIBLE mode (both parties verified): ``ChainFacade.transfer`` one
  by one on the embedded engine, ``transfer_many`` (one batched request per block) on anvil, where one
  call per block is round-trip bound. The ratio to the baseline is the compliance + port overhead;
- **single mints/s** (``mint``) and **batched mint recipients/s** (``batch_mint_many``, 256 new holders
  per ``batchMint``), every receipt settled;
- **gas per operation** — plain transfer, compliant transfer, mint, ``batchMint`` per recipient (new
  holders, so each pays the first write of its balance slot).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from equitoken.adapters.chain.backend import EvmBackend, RawCall
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.bench.chain_embedded import plain_token_bytecode, transfer_calldata
from equitoken.bench.core import BenchOptions, Measurement
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.ports.chain import ComplianceConfig, Instrument, OnChainInvestor, TransferMode

PART = "chain"
_SUPPLY = 10**30
_RAW_GAS = 100_000
_RECIPIENTS = 1_000
_BATCH = 256
_RPC_ARRAY = 200
_SEED = "equitoken-bench-chain"


@dataclass(frozen=True, slots=True)
class EngineFigures:
    """What one engine measured."""

    engine: str
    raw_transfers_per_s: float
    open_transfers_per_s: float
    eligible_transfers_per_s: float
    mints_per_s: float
    batch_mint_recipients_per_s: float
    gas_raw_transfer: int
    gas_transfer: int
    gas_mint: int
    gas_batch_mint_per_recipient: float
    port_path: str


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _recipient(i: int) -> bytes:
    return (0x1000 + i % _RECIPIENTS).to_bytes(20, "big")


@contextmanager
def _engine(name: str, keyring: DeterministicKeyRing) -> Iterator[EvmBackend]:
    if name == "embedded":
        embedded = EmbeddedBackend(keyring)
        try:
            yield embedded
        finally:
            embedded.close()
        return
    from equitoken.adapters.chain.rpc import RpcBackend

    rpc = RpcBackend.start_anvil(keyring, batch_size=_RPC_ARRAY)
    try:
        yield rpc
    finally:
        rpc.close()


def _raw_transfers(backend: EvmBackend, holder: bytes, count: int) -> tuple[float, int]:
    """Time ``count`` plain ERC-20 transfers, pre-encoded (and pre-signed on a node); return (rate, gas)."""
    deploy = RawCall(holder, None, plain_token_bytecode() + _SUPPLY.to_bytes(32, "big"), gas=5_000_000)
    token = backend.send([deploy])[0].contract_address
    assert token is not None
    warm = [
        RawCall(holder, token, transfer_calldata(_recipient(i), 1), gas=_RAW_GAS) for i in range(_RECIPIENTS)
    ]
    backend.send(warm)  # the first write of each balance slot is the costly one: keep it out of the timing
    calls = [
        RawCall(holder, token, transfer_calldata(_recipient(i), 1 + i % 7), gas=_RAW_GAS)
        for i in range(count)
    ]
    if isinstance(backend, EmbeddedBackend):
        send = backend.send
        start = time.perf_counter()
        for call in calls:
            send([call])
        seconds = time.perf_counter() - start
        gas = backend.send(calls[:1])[0].gas_used
        return _rate(count, seconds), gas
    from equitoken.adapters.chain.rpc import Fees, RpcBackend, TransactionSigner

    assert isinstance(backend, RpcBackend)
    signer = TransactionSigner(backend._keyring.private_key(holder))
    fees = Fees(max_priority_fee=10**9, max_fee=10**11)
    nonce = backend.nonce(holder)
    raws = [
        signer.sign(
            chain_id=backend.chain_id, nonce=nonce + i, fees=fees, gas=c.gas, to=c.to, value=0, data=c.data
        )[0]
        for i, c in enumerate(calls)
    ]
    hashes: list[bytes] = []
    start = time.perf_counter()
    for i in range(0, count, _RPC_ARRAY):
        hashes.extend(backend.send_raw(raws[i : i + _RPC_ARRAY]))
        backend.mine()
    receipts = backend.settle(hashes[-1:])  # the last one settled means every earlier block is too
    seconds = time.perf_counter() - start
    backend._nonces.clear()  # send_raw bypassed the backend's nonce cache
    return _rate(count, seconds), receipts[-1].gas_used


def _port_transfers(
    chain: ChainFacade,
    instrument: Instrument,
    sender: WalletAddress,
    recipients: list[WalletAddress],
    count: int,
) -> float:
    one = instrument.amount(1)
    if isinstance(chain.backend, EmbeddedBackend):
        transfer = chain.transfer
        token = instrument.token
        start = time.perf_counter()
        for i in range(count):
            transfer(token, sender, recipients[i % len(recipients)], one)
        return _rate(count, time.perf_counter() - start)
    plan = [(sender, recipients[i % len(recipients)], one) for i in range(count)]
    start = time.perf_counter()
    for i in range(0, count, _RPC_ARRAY):
        outcomes = chain.transfer_many(instrument.token, plan[i : i + _RPC_ARRAY])
        if isinstance(outcomes[-1], DomainError):
            raise outcomes[-1]
    return _rate(count, time.perf_counter() - start)


def bench_engine(name: str, transfers: int, mints: int, batched: int) -> EngineFigures:
    """Measure one engine: the raw baseline, the port's transfers, mints and batched mints, and gas."""
    keyring = DeterministicKeyRing(_SEED, ["bench:holder"])
    holder = keyring.label_address("bench:holder")
    with _engine(name, keyring) as backend:
        chain = ChainFacade(backend, keyring)
        if chain.dev is not None:
            chain.dev.fund(WalletAddress.from_bytes(holder))
        raw_rate, gas_raw = _raw_transfers(backend, holder, transfers)

        instrument = chain.deploy_instrument(Symbol("BENCH"), "Bench Corp tokenized share")
        sender = chain.wallet("bench:sender")
        recipients = [chain.wallet(f"bench:recipient:{i}") for i in range(20)]
        chain.mint(instrument, sender, instrument.amount(10**9))
        warm = chain.transfer_many(instrument.token, [(sender, r, instrument.amount(1)) for r in recipients])
        failed_warm = [t for t in warm if isinstance(t, DomainError)]
        if failed_warm:
            raise failed_warm[0]
        # Gas like for like with the raw baseline: a transfer to a wallet that already holds the token.
        gas_transfer = chain.transfer(instrument.token, sender, recipients[0], instrument.amount(1)).gas_used
        open_rate = _port_transfers(chain, instrument, sender, recipients, transfers)

        investor = InvestorId("bench-investor")
        chain.set_investor(
            instrument, OnChainInvestor(investor, 276, 0, chain.block_time().replace(year=2100))
        )
        for wallet in [sender, *recipients]:
            chain.bind_wallet(instrument, wallet, investor)
        chain.configure(instrument, ComplianceConfig(transfer_mode=TransferMode.ELIGIBLE))
        eligible_rate = _port_transfers(chain, instrument, sender, recipients, transfers)
        chain.configure(instrument, ComplianceConfig(transfer_mode=TransferMode.OPEN))

        fresh = (WalletAddress.from_bytes((0x20_0000 + i).to_bytes(20, "big")) for i in range(10**9))
        one = instrument.amount(1)
        mint_targets = [next(fresh) for _ in range(mints)]
        start = time.perf_counter()
        for target in mint_targets:
            tx = chain.mint(instrument, target, one)
        mint_rate = _rate(mints, time.perf_counter() - start)
        gas_mint = tx.gas_used

        batches = [[(next(fresh), one) for _ in range(_BATCH)] for _ in range(max(1, batched // _BATCH))]
        start = time.perf_counter()
        outcomes: list[object] = []
        group = 8  # batchMint transactions per backend batch (one block each on the embedded engine)
        for i in range(0, len(batches), group):
            outcomes.extend(chain.batch_mint_many(instrument, batches[i : i + group]))
        batch_rate = _rate(len(batches) * _BATCH, time.perf_counter() - start)
        failed = [o for o in outcomes if isinstance(o, DomainError)]
        if failed:
            raise failed[0]
        last = outcomes[-1]
        gas_batch = getattr(last, "gas_used", 0) / _BATCH
        path = (
            "ChainFacade.transfer, one block each"
            if name == "embedded"
            else (f"ChainFacade.transfer_many, {_RPC_ARRAY} per JSON-RPC array and block")
        )
    return EngineFigures(
        name,
        raw_rate,
        open_rate,
        eligible_rate,
        mint_rate,
        batch_rate,
        gas_raw,
        gas_transfer,
        gas_mint,
        gas_batch,
        path,
    )


def _anvil_available() -> bool:
    from equitoken.adapters.chain.anvil import find_anvil

    try:
        find_anvil()
    except DomainError:
        return False
    return True


def _measurements(f: EngineFigures) -> list[Measurement]:
    base = f"{f.engine}: raw ERC-20 transfers/s (PlainToken, pre-encoded)"
    rate = f.raw_transfers_per_s
    return [
        Measurement(PART, base, rate, "transfers/s", note="baseline"),
        Measurement(
            PART,
            f"{f.engine}: compliant transfers/s via port (OPEN, sanctions)",
            f.open_transfers_per_s,
            "transfers/s",
            base,
            rate,
            f.port_path,
        ),
        Measurement(
            PART,
            f"{f.engine}: compliant transfers/s via port (ELIGIBLE)",
            f.eligible_transfers_per_s,
            "transfers/s",
            base,
            rate,
            f.port_path,
        ),
        Measurement(PART, f"{f.engine}: single mints/s via port", f.mints_per_s, "mints/s", base, rate),
        Measurement(
            PART,
            f"{f.engine}: batched mint recipients/s via port",
            f.batch_mint_recipients_per_s,
            "recipients/s",
            base,
            rate,
            f"batchMint of {_BATCH} new holders",
        ),
        Measurement(
            PART,
            f"{f.engine}: gas per compliant transfer (existing holder)",
            f.gas_transfer,
            "gas",
            f"{f.engine}: gas per raw ERC-20 transfer",
            f.gas_raw_transfer,
        ),
        Measurement(
            PART,
            f"{f.engine}: gas per mint (new holder)",
            f.gas_mint,
            "gas",
            f"{f.engine}: gas per raw ERC-20 transfer",
            f.gas_raw_transfer,
        ),
        Measurement(
            PART,
            f"{f.engine}: gas per batchMint recipient (new holder)",
            f.gas_batch_mint_per_recipient,
            "gas",
            f"{f.engine}: gas per mint (new holder)",
            f.gas_mint,
        ),
    ]


Bench = Callable[[str, int, int, int], EngineFigures]


def run(options: BenchOptions) -> list[Measurement]:
    """Measure every available engine; anvil is reported as unavailable (value ``None``) if not installed."""
    rows: list[Measurement] = []
    embedded = bench_engine(
        "embedded",
        transfers=options.size(20_000, 1_000),
        mints=options.size(5_000, 200),
        batched=options.size(20_480, 512),
    )
    rows.extend(_measurements(embedded))
    if _anvil_available():
        anvil = bench_engine(
            "anvil",
            transfers=options.size(4_000, 400),
            mints=options.size(300, 30),
            batched=options.size(20_480, 1_024),
        )
        rows.extend(_measurements(anvil))
    else:
        rows.append(
            Measurement(
                PART,
                "anvil: raw ERC-20 transfers/s",
                None,
                "transfers/s",
                note="anvil not installed: run scripts/install-anvil.sh",
            )
        )
    return rows
