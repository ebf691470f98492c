"""``IdentityChain``, rules part: the Compliance contract's configuration, lockups and whitelist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.facade._abi import contract_abi
from equitoken.adapters.chain.facade._codec import (
    EPOCH,
    GAS_ADMIN,
    MAX_UINT256,
    from_seconds,
    to_seconds,
)
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.ports.chain import ChainTx, ComplianceConfig, Instrument, TransferMode

GAS_PER_WHITELISTED = 70_000
"""Gas for one investor added to the whitelist: three new storage slots and the loop around them."""
WHITELIST_CHUNK = 100
"""Investors per whitelist transaction at most (7.5 M gas: well inside a block)."""


class ComplianceRules(Sending):
    """The transfer rules of an instrument, as the agent (only differences are written)."""

    def configure(self, instrument: Instrument, config: ComplianceConfig) -> list[ChainTx]:
        """Make the on-chain rule configuration equal ``config`` (only the differences are sent)."""
        current = self.read_config(instrument)
        calls: list[RawCall] = []

        def write(name: str, *args: Any) -> None:
            calls.append(self._agent_write(instrument, "Compliance", name, *args))

        if config.transfer_mode != current.transfer_mode:
            write("setTransferMode", int(config.transfer_mode))
        compliance = self._b(instrument.compliance)
        enabled = bool(self._view("Compliance", compliance, "countryAllowlistEnabled")[0])
        on_chain_allowed = {int(c) for c in self._view("Compliance", compliance, "allowedCountries")[0]}
        for countries in (config.countries_allowed, config.countries_denied):
            bad = [c for c in countries if not 1 <= c <= 999]
            if bad:
                raise DomainError("INVALID_COUNTRY", f"ISO 3166 numeric codes are 1..999, got {sorted(bad)}")
        if on_chain_allowed - config.countries_allowed:
            write("setCountriesAllowed", sorted(on_chain_allowed - config.countries_allowed), False)
        if config.countries_allowed - on_chain_allowed:
            write("setCountriesAllowed", sorted(config.countries_allowed - on_chain_allowed), True)
        if enabled != bool(config.countries_allowed):
            write("setCountryAllowlistEnabled", bool(config.countries_allowed))
        if current.countries_denied - config.countries_denied:
            write("setCountriesDenied", sorted(current.countries_denied - config.countries_denied), False)
        if config.countries_denied - current.countries_denied:
            write("setCountriesDenied", sorted(config.countries_denied - current.countries_denied), True)
        if config.allowed_categories != current.allowed_categories:
            bad = [c for c in config.allowed_categories if not 0 <= c <= 255]
            if bad:
                raise DomainError("INVALID_CATEGORY", f"investor categories are 0..255, got {sorted(bad)}")
            mask = (
                sum(1 << c for c in config.allowed_categories) if config.allowed_categories else MAX_UINT256
            )
            write("setAllowedCategories", mask)
        if config.max_holders != current.max_holders:
            write("setMaxHolders", config.max_holders)
        if config.max_balance != current.max_balance:
            units = (
                0
                if config.max_balance is None
                else self._units(self._b(instrument.token), config.max_balance)
            )
            write("setMaxBalance", units)
        if dict(config.flowback) != dict(current.flowback):
            if len(config.flowback) > 1:
                raise DomainError("UNSUPPORTED_CONFIG", "the Compliance contract holds one flowback country")
            country, until = next(iter(config.flowback.items()), (0, EPOCH))
            write("setFlowback", country, to_seconds(until))
        return self._send_all(calls) if calls else []

    def read_config(self, instrument: Instrument) -> ComplianceConfig:
        """Read the whole on-chain configuration back (for drift checks)."""
        compliance = self._b(instrument.compliance)
        mode, enabled, mask, max_holders, max_balance, flow_country, flow_until = self._view(
            "Compliance", compliance, "config"
        )
        allowed = frozenset(int(c) for c in self._view("Compliance", compliance, "allowedCountries")[0])
        denied = frozenset(int(c) for c in self._view("Compliance", compliance, "deniedCountries")[0])
        categories = frozenset() if mask == MAX_UINT256 else frozenset(i for i in range(256) if mask >> i & 1)
        return ComplianceConfig(
            transfer_mode=TransferMode(mode),
            countries_allowed=allowed if enabled else frozenset(),
            countries_denied=denied,
            allowed_categories=categories,
            max_holders=int(max_holders),
            max_balance=None if max_balance == 0 else self._amount(int(max_balance), instrument.decimals),
            flowback={int(flow_country): from_seconds(int(flow_until))} if flow_until else {},
        )

    def set_lockup(self, instrument: Instrument, investor: InvestorId, until: datetime) -> ChainTx:
        """Lock an investor's holding until ``until`` (the epoch removes the lockup)."""
        return self._send_one(
            self._agent_write(
                instrument, "Compliance", "setLockup", self._investor(investor), to_seconds(until)
            )
        )

    def set_whitelisted(
        self, instrument: Instrument, investors: Sequence[InvestorId], whitelisted: bool
    ) -> ChainTx:
        """Add investors to (or remove them from) the holder whitelist, in as many transactions as it takes.

        Each investor added writes three new storage slots (~66,000 gas): a batch gets gas for its
        size, and a long list goes in chunks of ``WHITELIST_CHUNK`` (a whitelist sync re-plans from
        what the chain holds, so a chunk that did not land is sent again by the next sync).
        """
        keys = [self._investor(i) for i in investors]
        sent: list[ChainTx] = []
        for start in range(0, max(len(keys), 1), WHITELIST_CHUNK):
            chunk = keys[start : start + WHITELIST_CHUNK]
            gas = GAS_ADMIN + GAS_PER_WHITELISTED * len(chunk)
            sender, target = self._b(instrument.roles.agent), self._b(instrument.compliance)
            call = self._write("Compliance", sender, target, "setWhitelisted", chunk, whitelisted, gas=gas)
            sent.append(self._send_one(call))
        return self._merged(sent)

    def lockup_of(self, instrument: Instrument, investor: InvestorId) -> datetime | None:
        """Return when ``investor``'s lockup ends (``None``: no lockup recorded)."""
        (until,) = self._view(
            "Compliance", self._b(instrument.compliance), "lockupUntil", self._investor(investor)
        )
        return None if int(until) == 0 else from_seconds(int(until))

    def is_whitelisted(self, instrument: Instrument, investor: InvestorId) -> bool:
        """Tell whether ``investor`` is on the holder whitelist."""
        (listed,) = self._view(
            "Compliance", self._b(instrument.compliance), "isWhitelisted", self._investor(investor)
        )
        return bool(listed)

    @property
    def supports_rebook(self) -> bool:
        """Tell whether the Compliance contract can rebook a wallet's holding after a (re)binding."""
        return "rebook" in contract_abi("Compliance").functions

    def needs_rebook(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet``'s holding is booked under another holder than its current binding."""
        if not self.supports_rebook:
            return False
        return bool(
            self._view("Compliance", self._b(instrument.compliance), "needsRebook", self._b(wallet))[0]
        )

    def rebook(self, instrument: Instrument, wallet: WalletAddress) -> ChainTx | None:
        """Book ``wallet``'s holding under its current investor (``None`` when the contract cannot)."""
        if not self.supports_rebook:
            return None
        return self._send_one(self._agent_write(instrument, "Compliance", "rebook", self._b(wallet)))
