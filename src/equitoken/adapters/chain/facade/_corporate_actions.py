"""``CorporateActionsChain``: scheduled multipliers (splits, reinvested dividends) and multiplied balances."""

from __future__ import annotations

from decimal import Decimal

from equitoken.adapters.chain.facade._codec import (
    from_seconds,
    multiplier_from_units,
    multiplier_units,
    to_seconds,
)
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import exact
from equitoken.ports.chain import ChainTx, Instrument, MultiplierUpdate


class CorporateActions(Sending):
    """The token's multiplier schedule, as the corporate-actions role."""

    def schedule_multiplier(self, instrument: Instrument, update: MultiplierUpdate) -> ChainTx:
        """Schedule a new multiplier from ``effective_at``; a used nonce is refused."""
        return self._token_write(
            instrument,
            "corporate_actions",
            "scheduleMultiplier",
            multiplier_units(update.multiplier),
            to_seconds(update.effective_at),
            update.nonce,
        )

    def multiplier(self, instrument: Instrument) -> Decimal:
        """Return the multiplier in force at the latest block."""
        return multiplier_from_units(
            int(self._view("SecurityToken", self._b(instrument.token), "multiplier")[0])
        )

    def multiplier_history(self, instrument: Instrument) -> list[MultiplierUpdate]:
        """Return every scheduled update, oldest first (the initial 1.0 is not a scheduled update)."""
        token = self._b(instrument.token)
        (count,) = self._view("SecurityToken", token, "multiplierUpdateCount")
        history = []
        for index in range(1, int(count)):
            value, effective, nonce = self._view("SecurityToken", token, "multiplierUpdate", index)
            history.append(
                MultiplierUpdate(multiplier_from_units(int(value)), from_seconds(int(effective)), int(nonce))
            )
        return history

    def ui_balance_of(self, instrument: Instrument, wallet: WalletAddress) -> Decimal:
        """Return a wallet's balance times the multiplier in force, in whole tokens (rounded down)."""
        (units,) = self._view("SecurityToken", self._b(instrument.token), "uiBalanceOf", self._b(wallet))
        with exact():
            return Decimal(int(units)).scaleb(-instrument.decimals)
