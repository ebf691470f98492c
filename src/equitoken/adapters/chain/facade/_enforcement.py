"""``TokenEnforcement``: pausing, freezing (wallets or part of a balance), forced transfers, recovery."""

from __future__ import annotations

from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.domain.values import TokenAmount
from equitoken.ports.chain import ChainTx, Instrument


class Enforcement(Sending):
    """What the pauser and the agent may do to holdings."""

    def pause(self, instrument: Instrument) -> ChainTx:
        """Stop every transfer, mint and burn."""
        return self._token_write(instrument, "pauser", "pause")

    def unpause(self, instrument: Instrument) -> ChainTx:
        """Resume."""
        return self._token_write(instrument, "pauser", "unpause")

    def is_paused(self, instrument: Instrument) -> bool:
        """Tell whether the token is paused."""
        return bool(self._view("SecurityToken", self._b(instrument.token), "paused")[0])

    def set_address_frozen(self, instrument: Instrument, wallet: WalletAddress, frozen: bool) -> ChainTx:
        """Freeze or unfreeze a whole wallet."""
        return self._token_write(instrument, "agent", "setAddressFrozen", self._b(wallet), frozen)

    def is_frozen(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether a wallet is frozen."""
        return bool(self._view("SecurityToken", self._b(instrument.token), "isFrozen", self._b(wallet))[0])

    def frozen_tokens(self, instrument: Instrument, wallet: WalletAddress) -> TokenAmount:
        """Return the partially frozen part of a wallet's balance."""
        (units,) = self._view("SecurityToken", self._b(instrument.token), "getFrozenTokens", self._b(wallet))
        return self._amount(int(units), instrument.decimals)

    def freeze_partial_tokens(
        self, instrument: Instrument, wallet: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Freeze part of a wallet's balance."""
        units = self._units(self._b(instrument.token), amount)
        return self._token_write(instrument, "agent", "freezePartialTokens", self._b(wallet), units)

    def unfreeze_partial_tokens(
        self, instrument: Instrument, wallet: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Release part of a wallet's frozen balance."""
        units = self._units(self._b(instrument.token), amount)
        return self._token_write(instrument, "agent", "unfreezePartialTokens", self._b(wallet), units)

    def forced_transfer(
        self, instrument: Instrument, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Move tokens as the agent; the receiver's eligibility is still checked."""
        units = self._units(self._b(instrument.token), amount)
        return self._token_write(instrument, "agent", "forcedTransfer", self._b(sender), self._b(to), units)

    def recovery_address(
        self, instrument: Instrument, lost: WalletAddress, new: WalletAddress, investor: InvestorId
    ) -> ChainTx:
        """Move a lost wallet's whole position, frozen state included, to another wallet of its investor."""
        return self._token_write(
            instrument, "agent", "recoveryAddress", self._b(lost), self._b(new), self._investor(investor)
        )
