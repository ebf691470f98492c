"""A new process's chain adapter drives the contracts an earlier one deployed, read back from the chain.

Regression of the crash harness's first finding: a restarted engine (a new ``ChainFacade`` over the same
kept chain) refused every instant-model order ``UNKNOWN_CONTRACT``, since only the facade that deployed
a quote-settlement contract knew it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from equitoken.adapters.chain.factory import build_chain
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Money


def test_a_settlement_deployed_by_another_process_is_attached_from_the_chain(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'chain.log'}"
    first = build_chain(url, "attach")
    instrument = first.deploy_instrument(Symbol("MSFT"), "Microsoft")
    coin = first.deploy_stablecoin()
    signer, treasury = first.wallet("instant:signer"), first.wallet("instant:treasury")
    settlement = first.deploy_quote_settlement(instrument, coin, signer, treasury)
    other = first.deploy_instrument(Symbol("KO"), "Coca-Cola")
    first.mint_stablecoin(coin, treasury, Money("10"))
    first.close()

    second = build_chain(url, "attach")  # a new process: same chain, same key seed, nothing in memory
    second.wallet("instant:signer")
    again = second.attach_instrument(
        instrument.symbol, instrument.token, instrument.registry, instrument.compliance
    )
    assert second.attach_quote_settlement(settlement, again) == settlement
    assert second.attach_stablecoin(coin) == coin
    assert second.stablecoin_balance(coin, treasury) == Money("10")
    minted = [e for e in second.events(coin, 0) if e.name == "Transfer"]
    assert minted and minted[-1].args["value"] == Money("10")  # its events decode as stablecoin moves

    ko = second.attach_instrument(other.symbol, other.token, other.registry, other.compliance)
    with pytest.raises(DomainError) as wrong:
        second.attach_quote_settlement(settlement, ko)
    assert wrong.value.code == "WRONG_SETTLEMENT"
    with pytest.raises(DomainError) as nothing:
        second.attach_quote_settlement(WalletAddress("0x" + "42" * 20), again)
    assert nothing.value.code == "NO_CONTRACT"
    second.close()


def test_a_settlement_whose_signer_this_adapter_cannot_sign_for_is_refused(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'chain.log'}"
    first = build_chain(url, "attach")
    instrument = first.deploy_instrument(Symbol("MSFT"), "Microsoft")
    coin = first.deploy_stablecoin()
    settlement = first.deploy_quote_settlement(
        instrument, coin, first.wallet("instant:signer"), first.wallet("instant:treasury")
    )
    first.close()
    second = build_chain(url, "attach")  # the signer's label was never derived here
    again = second.attach_instrument(
        instrument.symbol, instrument.token, instrument.registry, instrument.compliance
    )
    with pytest.raises(DomainError) as unknown:
        second.attach_quote_settlement(settlement, again)
    assert unknown.value.code == "UNKNOWN_SIGNER"
    second.close()


def test_a_new_process_can_mint_the_stablecoin_it_attached(tmp_path: Path) -> None:
    # Found by make crash: a deposit recovered first thing in a new process was refused UNKNOWN_SIGNER,
    # since the platform's key (the stablecoin's owner) is derived only when something deploys.
    url = f"embedded://{tmp_path / 'chain.log'}"
    first = build_chain(url, "attach")
    coin = first.deploy_stablecoin()
    holder = first.wallet("investor:inv-a")
    first.close()
    second = build_chain(url, "attach")
    second.attach_stablecoin(coin)
    second.mint_stablecoin(coin, holder, Money("5"))
    assert second.stablecoin_balance(coin, holder) == Money("5")
    second.close()
    other = build_chain(url, "another seed")  # holds no key for the owner: refused at attach
    with pytest.raises(DomainError) as unknown:
        other.attach_stablecoin(coin)
    assert unknown.value.code == "UNKNOWN_SIGNER"
    other.close()
