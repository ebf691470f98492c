"""``StablecoinChain``: minting, burning and reading the platform's 6-decimal USD token."""

from __future__ import annotations

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.facade._codec import (
    GAS_TRANSFER,
    PAD12,
    SEL_BALANCE_OF,
    SEL_BURN_OWN,
    SEL_MINT,
    money_from_units,
    money_units,
)
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Money
from equitoken.ports.chain import ChainTx


class Stablecoins(Sending):
    """The USD stablecoin, as its owner."""

    def mint_stablecoin(self, stablecoin: WalletAddress, to: WalletAddress, amount: Money) -> ChainTx:
        """Create ``amount`` of USD stablecoin for ``to`` (as the stablecoin's owner)."""
        coin = self._b(stablecoin)
        (owner,) = self._view("Stablecoin", coin, "owner")
        data = SEL_MINT + PAD12 + self._b(to) + money_units(amount).to_bytes(32, "big")
        return self._send_one(RawCall(bytes.fromhex(owner[2:]), coin, data, 0, GAS_TRANSFER))

    def burn_stablecoin(self, stablecoin: WalletAddress, holder: WalletAddress, amount: Money) -> ChainTx:
        """Destroy ``amount`` of ``holder``'s stablecoin, sent by ``holder`` (its key the adapter's)."""
        data = SEL_BURN_OWN + money_units(amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(holder), self._b(stablecoin), data, 0, GAS_TRANSFER))

    def stablecoin_balance(self, stablecoin: WalletAddress, wallet: WalletAddress) -> Money:
        """Return a wallet's stablecoin balance."""
        return money_from_units(self._word(self._b(stablecoin), SEL_BALANCE_OF + PAD12 + self._b(wallet)))
