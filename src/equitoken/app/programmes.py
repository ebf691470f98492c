"""The model settings a listing gets when its operator gives none: illustrative sizes for a small programme.

One set per model (the engine reopens a listing with its model's builder): inventory starts with 150
shares between watermarks of 60 and 260 on $250,000 of capital; the instant buffer holds $100,000 with a
$40,000 exposure cap; direct ownership needs no capital. The scripted week and the service both use
these, so the demo's figures and a fresh service's behaviour are the same programme.
"""

from __future__ import annotations

from functools import partial

from equitoken.app.issuance import ModelBuilder
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.direct import DirectSettings, build_direct_model
from equitoken.issuance.models.instant import InstantSettings, build_instant_model
from equitoken.issuance.models.inventory import InventorySettings, build_inventory_model


def default_builders() -> dict[ModelName, ModelBuilder]:
    """Return one builder per model with the default programme's settings."""
    return {
        ModelName.INVENTORY: partial(
            build_inventory_model,
            settings=InventorySettings(
                capital=Money("250000"),
                initial_shares=Shares("150"),
                low_watermark=Shares("60"),
                target=Shares("150"),
                high_watermark=Shares("260"),
                stablecoin_float=Money("100000"),
            ),
        ),
        ModelName.INSTANT: partial(
            build_instant_model,
            settings=InstantSettings(
                buffer=Money("100000"), exposure_cap=Money("40000"), stablecoin_float=Money("60000")
            ),
        ),
        ModelName.DIRECT: partial(build_direct_model, settings=DirectSettings()),
    }
