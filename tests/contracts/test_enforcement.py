"""ERC-3643 tools: pause, wallet freeze, partial freeze, forced transfer, recovery; and the multiplier."""

from __future__ import annotations

from equitoken.domain.reasons import Reason

from .conftest import ONE, System, investor_id


def test_pause_blocks_transfers_mints_burns_but_not_forced(system: System) -> None:
    alice, bob = system.investor("alice"), system.investor("bob")
    system.mint(alice, 100)
    receipt = system.token.transact("pause", sender=system.pauser)
    assert receipt.named("Paused")[0].args == {"account": system.pauser}
    assert system.token.call("transferRestriction", alice, bob, 1) == Reason.PAUSED
    assert system.token.reason("transfer", bob, 1, sender=alice) == "PAUSED"
    assert system.token.reason("mint", bob, 1, sender=system.issuer) == "PAUSED"
    assert system.token.reason("burn", alice, 1, sender=system.issuer) == "PAUSED"
    system.token.transact("forcedTransfer", alice, bob, 5, sender=system.agent)
    assert system.token.reason("pause", sender=system.pauser) == "TOKEN_ALREADY_PAUSED"
    assert system.token.transact("unpause", sender=system.pauser).named("Unpaused")
    system.token.transact("transfer", bob, 1, sender=alice)


def test_frozen_wallet_cannot_send_or_receive(system: System) -> None:
    alice, bob = system.investor("alice"), system.investor("bob")
    system.mint(alice, 100)
    receipt = system.token.transact("setAddressFrozen", alice, True, sender=system.agent)
    assert receipt.named("AddressFrozen")[0].args == {
        "userAddress": alice,
        "isFrozen": True,
        "owner": system.agent,
    }
    assert system.token.call("isFrozen", alice) is True
    assert system.token.reason("transfer", bob, 1, sender=alice) == "SENDER_FROZEN"
    assert system.token.call("transferRestriction", bob, alice, 0) == Reason.RECIPIENT_FROZEN
    assert system.token.reason("mint", alice, 1, sender=system.issuer) == "RECIPIENT_FROZEN"
    assert system.token.call("canTransact", alice) is False
    system.token.transact("setAddressFrozen", alice, False, sender=system.agent)
    system.token.transact("transfer", bob, 1, sender=alice)


def test_partial_freeze(system: System) -> None:
    alice, bob = system.investor("alice"), system.investor("bob")
    system.mint(alice, 100)
    receipt = system.token.transact("freezePartialTokens", alice, 70, sender=system.agent)
    assert receipt.named("TokensFrozen")[0].args == {"userAddress": alice, "amount": 70}
    assert system.token.call("getFrozenTokens", alice) == 70
    assert system.token.call("transferRestriction", alice, bob, 31) == Reason.INSUFFICIENT_UNFROZEN_BALANCE
    assert system.token.reason("transfer", bob, 31, sender=alice) == "INSUFFICIENT_UNFROZEN_BALANCE"
    assert system.token.reason("burn", alice, 31, sender=system.issuer) == "INSUFFICIENT_UNFROZEN_BALANCE"
    system.token.transact("transfer", bob, 30, sender=alice)
    assert (
        system.token.reason("freezePartialTokens", alice, 71, sender=system.agent)
        == "INSUFFICIENT_UNFROZEN_BALANCE"
    )
    assert (
        system.token.reason("unfreezePartialTokens", alice, 71, sender=system.agent)
        == "TOKEN_AMOUNT_EXCEEDS_FROZEN_TOKENS"
    )
    system.token.transact("unfreezePartialTokens", alice, 20, sender=system.agent)
    system.token.transact("transfer", bob, 20, sender=alice)
    assert system.balance(alice) == 50


def test_forced_transfer_bypasses_sender_side_and_consumes_frozen(system: System) -> None:
    alice, bob = system.investor("alice"), system.investor("bob")
    system.mint(alice, 100)
    system.token.transact("freezePartialTokens", alice, 80, sender=system.agent)
    system.token.transact("setAddressFrozen", alice, True, sender=system.agent)
    system.compliance.transact(
        "setLockup", investor_id("alice"), system.chain.now + 10**6, sender=system.agent
    )
    assert system.token.call("forcedTransferRestriction", alice, bob, 50) == 0
    receipt = system.token.transact("forcedTransfer", alice, bob, 50, sender=system.agent)
    assert [e.name for e in receipt.events] == ["TokensUnfrozen", "Transfer", "ForcedTransfer"]
    assert receipt.named("TokensUnfrozen")[0].args["amount"] == 30  # free 20, so 30 frozen consumed
    assert system.token.call("getFrozenTokens", alice) == 50
    assert system.balance(bob) == 50
    assert (
        system.token.reason("forcedTransfer", alice, bob, 51, sender=system.agent) == "INSUFFICIENT_BALANCE"
    )


def test_forced_transfer_still_checks_the_recipient(system: System) -> None:
    alice = system.investor("alice")
    system.mint(alice, 100)
    stranger = system.chain.account("stranger")
    assert system.token.call("forcedTransferRestriction", alice, stranger, 1) == Reason.RECIPIENT_NOT_VERIFIED
    assert (
        system.token.reason("forcedTransfer", alice, stranger, 1, sender=system.agent)
        == "RECIPIENT_NOT_VERIFIED"
    )
    bob = system.investor("bob")
    system.registry.transact("setInvestorSanctioned", investor_id("bob"), True, sender=system.agent)
    assert system.token.reason("forcedTransfer", alice, bob, 1, sender=system.agent) == "RECIPIENT_SANCTIONED"
    carol = system.investor("carol")
    system.token.transact("setAddressFrozen", carol, True, sender=system.agent)
    assert system.token.reason("forcedTransfer", alice, carol, 1, sender=system.agent) == "RECIPIENT_FROZEN"
    system.compliance.transact("setMaxBalance", 10, sender=system.agent)
    dave = system.investor("dave")
    assert (
        system.token.reason("forcedTransfer", alice, dave, 11, sender=system.agent) == "MAX_BALANCE_EXCEEDED"
    )


def test_recovery_moves_everything_and_carries_freeze(system: System) -> None:
    lost = system.investor("alice", wallets=2)
    new = system.wallet("alice", 1)
    system.mint(lost, 100)
    system.token.transact("freezePartialTokens", lost, 40, sender=system.agent)
    system.token.transact("setAddressFrozen", lost, True, sender=system.agent)
    receipt = system.token.transact("recoveryAddress", lost, new, investor_id("alice"), sender=system.agent)
    assert receipt.named("RecoverySuccess")[0].args == {
        "lostWallet": lost,
        "newWallet": new,
        "investorId": investor_id("alice"),
    }
    assert system.balance(lost) == 0 and system.balance(new) == 100
    assert system.token.call("getFrozenTokens", new) == 40
    assert system.token.call("getFrozenTokens", lost) == 0
    assert system.token.call("isFrozen", new) is True
    assert system.compliance.call("holderCount") == 1
    assert system.compliance.call("investorBalance", investor_id("alice")) == 100


def test_recovery_requires_the_same_investor(system: System) -> None:
    lost = system.investor("alice")
    bob = system.investor("bob")
    system.mint(lost, 100)
    assert (
        system.token.reason("recoveryAddress", lost, bob, investor_id("alice"), sender=system.agent)
        == "NOT_SAME_INVESTOR"
    )
    assert (
        system.token.reason("recoveryAddress", lost, bob, investor_id("bob"), sender=system.agent)
        == "NOT_SAME_INVESTOR"
    )
    unbound = system.chain.account("unbound")
    assert (
        system.token.reason("recoveryAddress", lost, unbound, investor_id("alice"), sender=system.agent)
        == "NOT_SAME_INVESTOR"
    )


def test_batch_mint_and_burn(system: System) -> None:
    wallets = [system.investor(f"inv{i}") for i in range(5)]
    system.token.transact("batchMint", wallets, [10 * (i + 1) for i in range(5)], sender=system.issuer)
    assert [system.balance(w) for w in wallets] == [10, 20, 30, 40, 50]
    assert system.compliance.call("holderCount") == 5
    system.token.transact("batchBurn", wallets[:2], [10, 5], sender=system.issuer)
    assert system.token.call("totalSupply") == 135
    assert system.token.reason("batchMint", wallets, [1], sender=system.issuer) == "TOKEN_LENGTH_MISMATCH"
    stranger = system.chain.account("stranger")
    # all or nothing
    assert (
        system.token.reason("batchMint", [wallets[0], stranger], [1, 1], sender=system.issuer)
        == "RECIPIENT_NOT_VERIFIED"
    )
    assert system.balance(wallets[0]) == 0


def test_multiplier_schedule_and_effect(system: System) -> None:
    alice = system.investor("alice")
    system.mint(alice, 3 * ONE)
    assert system.token.call("multiplier") == ONE
    at = system.chain.now + 3600
    receipt = system.token.transact("scheduleMultiplier", 2 * ONE, at, 1, sender=system.corporate)
    assert receipt.named("MultiplierScheduled")[0].args == {
        "index": 1,
        "multiplier": 2 * ONE,
        "effectiveAt": at,
        "nonce": 1,
    }
    assert system.token.call("multiplier") == ONE  # not yet
    assert system.token.call("uiBalanceOf", alice) == 3 * ONE
    system.chain.set_time(at - 1)
    assert system.token.call("multiplier") == ONE
    system.chain.set_time(at)
    assert system.token.call("multiplier") == 2 * ONE
    assert system.token.call("uiBalanceOf", alice) == 6 * ONE
    assert system.token.call("uiTotalSupply") == 6 * ONE
    assert system.balance(alice) == 3 * ONE  # raw balances never change
    # reinvested dividend of 1.5%: 2.0 * 1.015
    system.token.transact(
        "scheduleMultiplier", 2_030_000_000_000_000_000, at + 10, 7, sender=system.corporate
    )
    assert system.token.call("multiplierUpdateCount") == 3
    assert system.token.call("multiplierUpdate", 0) == (ONE, 0, 0)
    assert system.token.call("multiplierUpdate", 1) == (2 * ONE, at, 1)
    assert system.token.call("multiplierUpdate", 2) == (2_030_000_000_000_000_000, at + 10, 7)
    assert system.token.call("multiplierAt", at + 9) == 2 * ONE
    assert system.token.call("multiplierAt", at + 10) == 2_030_000_000_000_000_000
    assert system.token.call("multiplierAt", 0) == ONE
    assert system.token.call("lastMultiplierNonce") == 7


def test_multiplier_nonce_replay_and_bad_schedules(system: System) -> None:
    now = system.chain.now
    system.token.transact("scheduleMultiplier", 2 * ONE, now + 100, 5, sender=system.corporate)
    assert system.token.reason("scheduleMultiplier", 3 * ONE, now + 200, 5, sender=system.corporate) == (
        "MULTIPLIER_NONCE_ALREADY_USED"
    )
    assert system.token.reason("scheduleMultiplier", 3 * ONE, now + 200, 4, sender=system.corporate) == (
        "MULTIPLIER_NONCE_ALREADY_USED"
    )
    assert system.token.reason("scheduleMultiplier", 0, now + 200, 6, sender=system.corporate) == (
        "MULTIPLIER_OUT_OF_RANGE"
    )
    assert system.token.reason("scheduleMultiplier", ONE, now - 1, 6, sender=system.corporate) == (
        "MULTIPLIER_EFFECTIVE_TIME_IN_THE_PAST"
    )
    assert system.token.reason("scheduleMultiplier", ONE, now + 50, 6, sender=system.corporate) == (
        "MULTIPLIER_BEFORE_THE_LAST_SCHEDULED"
    )
    assert (
        system.token.reason("multiplierUpdate", 2, sender=system.corporate)
        == "MULTIPLIER_INDEX_OUT_OF_RANGE"
    )


def test_multiplier_binary_search_over_long_history(system: System) -> None:
    start = system.chain.now
    for n in range(1, 40):
        system.token.transact("scheduleMultiplier", ONE + n, start + 10 * n, n, sender=system.corporate)
    for n in (0, 1, 17, 38, 39):
        assert system.token.call("multiplierAt", start + 10 * n + 5) == (ONE + n if n else ONE)
