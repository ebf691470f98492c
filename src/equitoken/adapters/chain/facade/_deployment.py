"""Deployment: instruments (token, registry, compliance, roles wired), the stablecoin, settlements, pools.

Every contract this facade deploys is recorded in ``ChainState``, so its events decode to domain values.
"""

from __future__ import annotations

from datetime import timedelta

from equitoken.adapters.chain import eip712
from equitoken.adapters.chain.facade._codec import (
    MAX_UINT256,
    ROLE_BITS,
    ROLE_NAMES,
    SECOND,
    STABLE_DECIMALS,
    money_units,
)
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.adapters.chain.facade._state import PoolRecord, SettlementRecord
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Money
from equitoken.ports.chain import Instrument, Roles, TransferMode


class Deployment(Sending):
    """Deploy and wire the contracts the other ports drive."""

    def _role_wallets(self, symbol: Symbol) -> Roles:
        if self._roles is not None:
            return self._roles
        return Roles(*(self.wallet(f"{symbol.value}:{role}") for role in ROLE_NAMES))

    def deploy_instrument(
        self, symbol: Symbol, name: str, decimals: int = 18, *, mode: TransferMode = TransferMode.OPEN
    ) -> Instrument:
        """Deploy a token with its identity registry and compliance contracts, roles wired."""
        roles = self._role_wallets(symbol)
        for holder in (roles.admin, roles.issuer, roles.agent, roles.pauser, roles.corporate_actions):
            self._ensure_funded(self._b(holder))
        admin = self._b(roles.admin)
        registry = self._deploy("IdentityRegistry", admin, admin)
        compliance = self._deploy("Compliance", admin, registry, admin, int(mode))
        token = self._deploy("SecurityToken", admin, name, symbol.value, decimals, admin, compliance)
        self._decimals[token] = decimals
        grants = [
            self._write("Compliance", admin, compliance, "bindToken", token),
            self._write(
                "IdentityRegistry", admin, registry, "grantRole", ROLE_BITS["agent"], self._b(roles.agent)
            ),
            self._write(
                "Compliance", admin, compliance, "grantRole", ROLE_BITS["agent"], self._b(roles.agent)
            ),
        ]
        for role in ("issuer", "agent", "pauser", "corporate_actions"):
            grants.append(
                self._write(
                    "SecurityToken", admin, token, "grantRole", ROLE_BITS[role], self._b(getattr(roles, role))
                )
            )
        self._send_all(grants)
        instrument = Instrument(
            symbol, self._wallet(token), self._wallet(registry), self._wallet(compliance), decimals, roles
        )
        for address in (token, registry, compliance):
            self._instruments[address] = instrument
        return instrument

    def attach_instrument(
        self,
        symbol: Symbol,
        token: WalletAddress,
        registry: WalletAddress,
        compliance: WalletAddress,
        decimals: int = 18,
    ) -> Instrument:
        """Return an instrument deployed earlier (by this key seed) at known addresses, ready to drive."""
        instrument = Instrument(symbol, token, registry, compliance, decimals, self._role_wallets(symbol))
        self._decimals[self._b(token)] = decimals
        for address, kind in (
            (token, "SecurityToken"),
            (registry, "IdentityRegistry"),
            (compliance, "Compliance"),
        ):
            self._instruments[self._b(address)] = instrument
            self._kinds[self._b(address)] = kind  # so its events decode
        return instrument

    def attach_stablecoin(self, stablecoin: WalletAddress) -> WalletAddress:
        """Drive a stablecoin deployed earlier (a restart on a chain that kept it): its events decode.

        ``NO_CONTRACT`` when nothing is deployed there (a wrong address, a node reset since);
        ``UNKNOWN_SIGNER`` when this adapter holds no key for its owner (it could not mint).
        """
        coin = self._b(stablecoin)
        self._require_code(coin, stablecoin, "stablecoin")
        self._decimals[coin] = STABLE_DECIMALS
        self._kinds[coin] = "Stablecoin"
        # Its owner mints deposits and dividends: derive the platform's key as the deploy did, and
        # refuse now (UNKNOWN_SIGNER) rather than at the first payment if this adapter cannot sign.
        self.platform_wallet_bytes()
        (owner,) = self._view("Stablecoin", coin, "owner")
        self.keyring.private_key(bytes.fromhex(str(owner).removeprefix("0x")))
        return stablecoin

    def attach_quote_settlement(self, settlement: WalletAddress, instrument: Instrument) -> WalletAddress:
        """Drive a settlement contract deployed earlier for ``instrument``, read back from the chain.

        Its stablecoin, signer and treasury come from the contract itself, never assumed; a contract
        for another token is refused (``WRONG_SETTLEMENT``), and so is one whose signer this facade
        holds no key for (``UNKNOWN_SIGNER``): it could not sign a quote the contract accepts.
        """
        raw = self._b(settlement)
        self._require_code(raw, settlement, "quote settlement")
        token, coin, signer, treasury = (
            self._address_view(raw, name) for name in ("token", "stablecoin", "signer", "treasury")
        )
        if token != self._b(instrument.token):
            raise DomainError(
                "WRONG_SETTLEMENT",
                f"the settlement at {settlement} settles {self._wallet(token)}, not {instrument.symbol}'s "
                f"token {instrument.token}",
            )
        self.keyring.private_key(signer)  # UNKNOWN_SIGNER when this facade cannot sign its quotes
        self.attach_stablecoin(self._wallet(coin))
        self._settlements[raw] = SettlementRecord(instrument, coin, signer, treasury)
        self._kinds[raw] = "QuoteSettlement"
        return settlement

    def _require_code(self, raw: bytes, address: WalletAddress, what: str) -> None:
        if not self._backend.code(raw):
            raise DomainError(
                "NO_CONTRACT",
                f"there is no {what} contract at {address} on chain {self._chain_id}: a wrong address, "
                "or the node was reset since it was deployed",
            )

    def _address_view(self, contract: bytes, name: str) -> bytes:
        (value,) = self._view("QuoteSettlement", contract, name)
        try:
            raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
        except (TypeError, ValueError):
            raw = b""
        if len(raw) != 20:
            raise DomainError(
                "CHAIN_BAD_RESPONSE", f"QuoteSettlement.{name} at 0x{contract.hex()} is not an address"
            )
        return raw

    def deploy_stablecoin(self, symbol: str = "USDX") -> WalletAddress:
        """Deploy a plain 6-decimal USD token for payments and buffer pools (owned by the platform)."""
        owner = self.platform_wallet_bytes()
        coin = self._deploy("Stablecoin", owner, f"{symbol} US Dollar", symbol, owner)
        self._decimals[coin] = STABLE_DECIMALS
        return self._wallet(coin)

    def deploy_quote_settlement(
        self,
        instrument: Instrument,
        stablecoin: WalletAddress,
        signer: WalletAddress,
        treasury: WalletAddress,
        *,
        window: timedelta = timedelta(days=1),
        notional_cap: Money | None = None,
    ) -> WalletAddress:
        """Deploy the settlement contract of ``instrument``; it becomes an issuer of the token.

        The treasury (whose key this facade must hold) approves the contract to pay sell proceeds.
        """
        window_seconds = window // SECOND
        if window_seconds <= 0:
            raise DomainError("INVALID_SETTING", "the notional window must be at least one second")
        cap = MAX_UINT256 if notional_cap is None else money_units(notional_cap)
        admin = self._b(instrument.roles.admin)
        coin = self._b(stablecoin)
        settlement = self._deploy(
            "QuoteSettlement",
            admin,
            self._b(instrument.token),
            coin,
            eip712.symbol_bytes32(instrument.symbol.value),
            self._b(treasury),
            self._b(signer),
            window_seconds,
            cap,
            admin,
        )
        self._ensure_funded(self._b(treasury))
        self._send_all(
            [
                self._write(
                    "SecurityToken",
                    admin,
                    self._b(instrument.token),
                    "grantRole",
                    ROLE_BITS["issuer"],
                    settlement,
                ),
                self._approve_call(coin, self._b(treasury), settlement, MAX_UINT256),
            ]
        )
        self._settlements[settlement] = SettlementRecord(instrument, coin, self._b(signer), self._b(treasury))
        return self._wallet(settlement)

    def deploy_pool(
        self, instrument: Instrument, stablecoin: WalletAddress, fee_bps: int = 30
    ) -> WalletAddress:
        """Deploy an empty x*y=k pool of ``instrument`` against ``stablecoin``."""
        pool = self._deploy(
            "ConstantProductPool",
            self.platform_wallet_bytes(),
            self._b(instrument.token),
            self._b(stablecoin),
            fee_bps,
        )
        self._pools[pool] = PoolRecord(instrument, self._b(stablecoin))
        return self._wallet(pool)
