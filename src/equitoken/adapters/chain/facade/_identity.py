"""``IdentityChain``, identity part: investor records, wallet bindings and sanctions in the registry."""

from __future__ import annotations

from equitoken.adapters.chain.facade._codec import from_seconds, to_seconds
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.ports.chain import ChainTx, Instrument, OnChainInvestor


class Identity(Sending):
    """The identity registry, as the agent."""

    def set_investor(self, instrument: Instrument, investor: OnChainInvestor) -> ChainTx:
        """Create or update an investor's record (country, category, KYC expiry, sanctions)."""
        key = self._investor(investor.investor_id)
        if not 1 <= investor.country <= 999:
            raise DomainError(
                "INVALID_COUNTRY", f"an ISO 3166 numeric code is 1..999, got {investor.country}"
            )
        exists, _, _, _, sanctioned = self._view(
            "IdentityRegistry", self._b(instrument.registry), "investor", key
        )
        calls = [
            self._agent_write(
                instrument,
                "IdentityRegistry",
                "setInvestor",
                key,
                investor.country,
                investor.category,
                to_seconds(investor.kyc_expiry),
            )
        ]
        if bool(sanctioned) != investor.sanctioned and (exists or investor.sanctioned):
            calls.append(
                self._agent_write(
                    instrument, "IdentityRegistry", "setInvestorSanctioned", key, investor.sanctioned
                )
            )
        return self._merged(self._send_all(calls))

    def read_investor(self, instrument: Instrument, investor: InvestorId) -> OnChainInvestor | None:
        """Return what the registry holds for ``investor`` (``None`` if unknown)."""
        exists, country, category, expiry, sanctioned = self._view(
            "IdentityRegistry", self._b(instrument.registry), "investor", self._investor(investor)
        )
        if not exists:
            return None
        return OnChainInvestor(
            investor, int(country), int(category), from_seconds(int(expiry)), bool(sanctioned)
        )

    def bind_wallet(self, instrument: Instrument, wallet: WalletAddress, investor: InvestorId) -> ChainTx:
        """Bind a wallet to an investor (a wallet belongs to one investor)."""
        return self._send_one(
            self._agent_write(
                instrument, "IdentityRegistry", "bindWallet", self._b(wallet), self._investor(investor)
            )
        )

    def unbind_wallet(self, instrument: Instrument, wallet: WalletAddress) -> ChainTx:
        """Remove a wallet's binding."""
        return self._send_one(
            self._agent_write(instrument, "IdentityRegistry", "unbindWallet", self._b(wallet))
        )

    def set_wallet_sanctioned(
        self, instrument: Instrument, wallet: WalletAddress, sanctioned: bool
    ) -> ChainTx:
        """Put a wallet (bound or not) on, or take it off, the wallet-level sanctions blocklist."""
        return self._send_one(
            self._agent_write(
                instrument, "IdentityRegistry", "setWalletSanctioned", self._b(wallet), sanctioned
            )
        )

    def is_verified(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet`` is bound to a verified, unsanctioned investor with valid KYC (ERC-3643)."""
        return bool(
            self._view("IdentityRegistry", self._b(instrument.registry), "isVerified", self._b(wallet))[0]
        )

    def investor_of(self, instrument: Instrument, wallet: WalletAddress) -> InvestorId | None:
        """Return the investor ``wallet`` is bound to in the registry (``None``: bound to nobody).

        An investor this facade never wrote is named ``unknown:<first 16 hex digits of its key>``.
        """
        (key,) = self._view("IdentityRegistry", self._b(instrument.registry), "investorOf", self._b(wallet))
        raw = bytes(key)
        if raw == bytes(32):
            return None
        return self._investors.get(raw) or InvestorId(f"unknown:{raw.hex()[:16]}")

    def is_wallet_sanctioned(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet`` itself is on the registry's wallet-level blocklist."""
        return bool(
            self._view("IdentityRegistry", self._b(instrument.registry), "walletSanctioned", self._b(wallet))[
                0
            ]
        )
