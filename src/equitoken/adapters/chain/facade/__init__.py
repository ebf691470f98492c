"""The chain ports over any ``EvmBackend``: domain values in, ``ChainTx``/``ChainRefusal`` out.

``ChainFacade`` implements ``TokenChain``, ``TokenEnforcement``, ``IdentityChain``,
``CorporateActionsChain``, ``StablecoinChain``, ``QuoteChain`` and ``PoolChain`` on top of one raw
backend (the embedded EVM or a JSON-RPC node), and offers ``DevChain`` as ``facade.dev`` when the engine
can snapshot and move time (``None`` otherwise). All integers, ABI words and hex stay in this package:

- amounts: ``TokenAmount`` <-> raw units with the token's decimals; stablecoin ``Money`` (USD) <-> 1e6
  units; multipliers ``Decimal`` <-> 1e18 fixed point; instants (tz-aware) <-> uint64 seconds;
  wallets <-> 20 bytes; ``InvestorId`` <-> ``keccak256("investor:" + id)`` (``_codec``; the cached,
  stateful ones in ``_state``);
- a revert whose ``Error(string)`` is a ``Reason`` name raises ``ChainRefusal(reason)``; any other revert
  (a missing role, a contract assertion) raises ``DomainError(<its code>, <its sentence>)`` from
  ``domain.contract_errors`` (``_reverts``);
- logs are decoded by ABI (topic0 -> event) into ``ChainEvent`` with domain-typed arguments (``_events``).

The hot paths (``transfer``, ``mint``, ``balance_of``, ``transfer_many``) hand-encode their calldata
(selector + 32-byte words) and cache every address conversion: eth-abi costs more than the EVM here.

The package is cut by role. ``_state`` (what the facade knows), ``_events`` (decoding) and ``_sending``
(writes) stack into the ``Sending`` base; each port is a mixin over it (``_tokens``, ``_enforcement``,
``_identity``, ``_compliance``, ``_corporate_actions``, ``_stablecoin``, ``_quotes``, ``_pools``,
``_deployment``), composed here. Mixins rather than delegating collaborators: the ports share one set of
caches, and a method found on the class costs the hot paths nothing a forwarding call would.
"""

from __future__ import annotations

from equitoken.adapters.chain.facade._abi import contract_abi
from equitoken.adapters.chain.facade._codec import (
    DEV_FUNDING,
    EPOCH,
    GAS_ADMIN,
    GAS_BATCH_BASE,
    GAS_CAP,
    GAS_DEPLOY,
    GAS_PER_BATCH_ITEM,
    GAS_TRANSFER,
    MAX_BATCH,
    MAX_UINT256,
    ONE,
    ROLE_BITS,
    ROLE_NAMES,
    SEL_APPROVE,
    SEL_BALANCE_OF,
    SEL_BURN,
    SEL_DECIMALS,
    SEL_MINT,
    SEL_RESTRICTION,
    SEL_TOTAL_SUPPLY,
    SEL_TRANSFER,
    SEL_TRANSFER_FROM,
    STABLE_DECIMALS,
    from_seconds,
    investor_key,
    money_from_units,
    money_units,
    multiplier_from_units,
    multiplier_units,
    to_seconds,
    unlimited,
)
from equitoken.adapters.chain.facade._compliance import ComplianceRules
from equitoken.adapters.chain.facade._corporate_actions import CorporateActions
from equitoken.adapters.chain.facade._deployment import Deployment
from equitoken.adapters.chain.facade._enforcement import Enforcement
from equitoken.adapters.chain.facade._feed import ReserveFeeds
from equitoken.adapters.chain.facade._identity import Identity
from equitoken.adapters.chain.facade._pools import Pools
from equitoken.adapters.chain.facade._quotes import Quotes
from equitoken.adapters.chain.facade._relay import Relay
from equitoken.adapters.chain.facade._reserves import Reserves
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.adapters.chain.facade._stablecoin import Stablecoins
from equitoken.adapters.chain.facade._tokens import Tokens

__all__ = [
    "DEV_FUNDING",
    "EPOCH",
    "GAS_ADMIN",
    "GAS_BATCH_BASE",
    "GAS_CAP",
    "GAS_DEPLOY",
    "GAS_PER_BATCH_ITEM",
    "GAS_TRANSFER",
    "MAX_BATCH",
    "MAX_UINT256",
    "ONE",
    "ROLE_BITS",
    "ROLE_NAMES",
    "SEL_APPROVE",
    "SEL_BALANCE_OF",
    "SEL_BURN",
    "SEL_DECIMALS",
    "SEL_MINT",
    "SEL_RESTRICTION",
    "SEL_TOTAL_SUPPLY",
    "SEL_TRANSFER",
    "SEL_TRANSFER_FROM",
    "STABLE_DECIMALS",
    "ChainFacade",
    "contract_abi",
    "decode_revert",
    "from_seconds",
    "investor_key",
    "money_from_units",
    "money_units",
    "multiplier_from_units",
    "multiplier_units",
    "to_seconds",
    "unlimited",
]


class ChainFacade(
    Tokens,
    Enforcement,
    Identity,
    ComplianceRules,
    CorporateActions,
    Stablecoins,
    Quotes,
    Relay,
    Pools,
    Reserves,
    ReserveFeeds,
    Deployment,
):
    """Security tokens on one chain, in domain values; the adapter holds every role's key."""
