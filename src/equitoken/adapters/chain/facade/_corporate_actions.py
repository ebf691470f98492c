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
        """Return the multiplier in force at the latest block.

        An order reads it several times; on the in-process chain the answer is kept per token under the
        chain's revision, which moves with every block (a scheduled split takes effect in a block), revert
        or funding, so a kept answer is the one a fresh read would give. A node is read every time:
        its latest block can move under us between two calls.
        """
        token = self._b(instrument.token)
        revision = self._revision() if self._revision is not None else None
        if revision is not None:
            kept = self._multipliers.get(token)
            if kept is not None and kept[0] == revision:
                return kept[1]
        value = multiplier_from_units(int(self._view("SecurityToken", token, "multiplier")[0]))
        if revision is not None:
            self._multipliers[token] = (revision, value)
        return value

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
