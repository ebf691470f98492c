"""Build the chain facade from configuration: an empty URL is a fresh embedded EVM, ``embedded:///path``
the durable embedded EVM kept in that block log, anything else a JSON-RPC node."""

from __future__ import annotations

from datetime import datetime

from equitoken.adapters.chain.durable import DurableEmbeddedBackend, chain_log_path
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.chain.rpc import RpcBackend
from equitoken.domain.chains import DEVELOPMENT_NODE_CHAIN_IDS, DEVELOPMENT_SEED
from equitoken.domain.errors import DomainError


def build_chain(url: str, seed: str, *, genesis: datetime | None = None) -> ChainFacade:
    """Return a ``ChainFacade`` on ``url`` (``""``: a fresh in-process chain) with keys derived from ``seed``.

    ``embedded:///abs/path/chain.log`` is the in-process chain kept in that block log: created there on
    first use, replayed from it afterwards (``adapters.chain.durable``), so it survives the process.

    ``genesis`` sets the embedded chain's first block time (a simulation over 2012 prices starts its
    chain in 2012, so KYC expiries and lockups mean on chain what they mean off chain); a node keeps
    its own time, so ``genesis`` applies to the embedded chain only. With a genesis, the chain's time
    moves only when the caller sets it (``DevChain.set_next_block_time``).

    On a development node (anvil, Hardhat) the facade funds the wallets it derives; on a real network
    the derived wallets must be funded by their operator before they can send.
    """
    if not seed:
        raise DomainError("INVALID_SETTING", "chain_seed must not be empty")
    keyring = DeterministicKeyRing(seed)
    if not url:
        if genesis is None:
            return ChainFacade(EmbeddedBackend(keyring), keyring)
        # A simulated clock drives the chain's time: blocks add no seconds of their own (block_time 0),
        # so block time never runs ahead of the clock however many transactions a step sends.
        backend = EmbeddedBackend(keyring, start_timestamp=int(genesis.timestamp()), block_time=0)
        return ChainFacade(backend, keyring)
    log_path = chain_log_path(url)
    if log_path is not None:
        # A genesis fixes a new log's first block and block time; an existing log must agree with it.
        start = None if genesis is None else int(genesis.timestamp())
        durable = DurableEmbeddedBackend(
            log_path, keyring, start_timestamp=start, block_time=None if genesis is None else 0
        )
        return ChainFacade(durable, keyring)
    node = RpcBackend(url, keyring)
    if seed == DEVELOPMENT_SEED and node.chain_id not in DEVELOPMENT_NODE_CHAIN_IDS:
        # Every key the public seed derives is public: on a chain someone else can act on, anything
        # they sign could be signed by anyone. Refuse before a single transaction is sent.
        node.close()
        known = ", ".join(f"{n} ({name})" for n, name in DEVELOPMENT_NODE_CHAIN_IDS.items())
        raise DomainError(
            "DEV_KEY_ON_REAL_CHAIN",
            f"chain {node.chain_id} is not a development chain ({known}) and the keys of the public"
            " development seed are public; set EQUITOKEN_CHAIN_SEED to the operator's own seed",
        )
    return ChainFacade(node, keyring)
