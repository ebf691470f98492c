"""Every compliance rule's allow and deny path: the revert NAME, the view's number, and read-back."""

from __future__ import annotations

from equitoken.domain.reasons import Reason

from .conftest import (
    ELIGIBLE,
    GERMANY,
    NORTH_KOREA,
    OPEN,
    SWITZERLAND,
    UNITED_STATES,
    WHITELISTED,
    System,
    investor_id,
)


def denied(s: System, sender: str, receiver: str, amount: int, reason: Reason) -> None:
    """Assert the view and the transaction both refuse with ``reason``, and nothing moved."""
    before = (s.balance(sender), s.balance(receiver))
    assert s.token.call("transferRestriction", sender, receiver, amount) == reason.value
    assert s.token.call("canTransfer", sender, receiver, amount) is False
    assert s.token.reason("transfer", receiver, amount, sender=sender) == reason.name
    assert (s.balance(sender), s.balance(receiver)) == before


def allowed(s: System, sender: str, receiver: str, amount: int) -> None:
    """Assert the view allows and the transaction succeeds."""
    assert s.token.call("transferRestriction", sender, receiver, amount) == 0
    assert s.token.call("canTransfer", sender, receiver, amount) is True
    before = s.balance(receiver)
    s.token.transact("transfer", receiver, amount, sender=sender)
    assert s.balance(receiver) == before + amount


def two(s: System, **bob: int) -> tuple[str, str]:
    alice = s.investor("alice")
    b = s.investor("bob", **bob)
    s.mint(alice, 1000)
    return alice, b


def test_eligible_parties_transfer(system: System) -> None:
    alice, bob = two(system)
    allowed(system, alice, bob, 10)


def test_recipient_not_verified(system: System) -> None:
    alice, _ = two(system)
    stranger = system.chain.account("stranger")
    denied(system, alice, stranger, 10, Reason.RECIPIENT_NOT_VERIFIED)
    assert system.token.call("mintRestriction", stranger, 1) == Reason.RECIPIENT_NOT_VERIFIED
    assert system.token.reason("mint", stranger, 1, sender=system.issuer) == "RECIPIENT_NOT_VERIFIED"


def test_sender_not_verified(system: System) -> None:
    alice, bob = two(system)
    system.registry.transact("unbindWallet", alice, sender=system.agent)
    denied(system, alice, bob, 10, Reason.SENDER_NOT_VERIFIED)


def test_an_investor_never_verified_is_not_verified_rather_than_expired(system: System) -> None:
    """KYC expiry 0 means "never verified" (pending, suspended, rejected): *_NOT_VERIFIED, as off chain."""
    alice = system.investor("alice")
    system.mint(alice, 10)
    pending = system.investor("pending", kyc_expiry=0)
    denied(system, alice, pending, 1, Reason.RECIPIENT_NOT_VERIFIED)
    assert system.registry.call("isVerified", pending) is False


def test_sender_and_recipient_kyc_expired(system: System) -> None:
    alice, bob = two(system, kyc_expiry=system.chain.now + 100)
    allowed(system, alice, bob, 1)
    system.chain.advance(100)
    denied(system, alice, bob, 1, Reason.KYC_EXPIRED)
    assert system.registry.call("isVerified", bob) is False
    denied(system, bob, alice, 1, Reason.KYC_EXPIRED)  # bob as sender
    system.registry.transact(
        "setInvestor", investor_id("bob"), GERMANY, 0, system.chain.now + 10, sender=system.agent
    )
    allowed(system, alice, bob, 1)


def test_sanctions_investor_and_wallet(system: System) -> None:
    alice, bob = two(system)
    system.registry.transact("setInvestorSanctioned", investor_id("bob"), True, sender=system.agent)
    denied(system, alice, bob, 1, Reason.RECIPIENT_SANCTIONED)
    system.registry.transact("setInvestorSanctioned", investor_id("bob"), False, sender=system.agent)
    allowed(system, alice, bob, 1)
    system.registry.transact("setWalletSanctioned", alice, True, sender=system.agent)
    denied(system, alice, bob, 1, Reason.SENDER_SANCTIONED)
    assert system.token.call("canTransact", alice) is False
    assert system.token.call("accountRestriction", alice) == Reason.SENDER_SANCTIONED
    assert system.token.call("burnRestriction", alice, 1) == Reason.SENDER_SANCTIONED
    assert system.token.reason("burn", alice, 1, sender=system.issuer) == "SENDER_SANCTIONED"
    system.registry.transact("setWalletSanctioned", alice, False, sender=system.agent)
    assert system.token.call("canTransact", alice) is True


def test_open_mode_checks_sanctions_only(open_system: System) -> None:
    s = open_system
    anyone, other = s.chain.account("anyone"), s.chain.account("other")
    s.mint(anyone, 100)
    allowed(s, anyone, other, 10)
    s.registry.transact("setWalletSanctioned", other, True, sender=s.agent)
    denied(s, anyone, other, 1, Reason.RECIPIENT_SANCTIONED)
    assert s.token.reason("mint", other, 1, sender=s.issuer) == "RECIPIENT_SANCTIONED"
    # country/category rules do not apply in OPEN mode
    s.compliance.transact("setAllowedCategories", 0, sender=s.agent)
    allowed(s, anyone, s.chain.account("third"), 1)


def test_lockup(system: System) -> None:
    alice, bob = two(system)
    system.investor("alice", wallets=2)  # a second wallet of alice
    second = system.wallet("alice", 1)
    until = system.chain.now + 1000
    system.compliance.transact("setLockup", investor_id("alice"), until, sender=system.agent)
    denied(system, alice, bob, 1, Reason.LOCKUP_ACTIVE)
    allowed(system, alice, second, 1)  # between wallets of the same investor
    allowed(system, bob, alice, 0)  # receiving is fine
    system.chain.set_time(until)
    allowed(system, alice, bob, 1)
    assert system.compliance.call("lockupUntil", investor_id("alice")) == until
    assert system.compliance.call("lockupCount") == 1
    assert system.compliance.call("lockupAt", 0) == (investor_id("alice"), until)
    system.compliance.transact("setLockup", investor_id("alice"), 0, sender=system.agent)
    assert system.compliance.call("lockupCount") == 0


def test_country_denylist_and_allowlist(system: System) -> None:
    alice = system.investor("alice")
    system.mint(alice, 100)
    kim = system.investor("kim", country=NORTH_KOREA)
    heidi = system.investor("heidi", country=SWITZERLAND)
    system.compliance.transact("setCountriesDenied", [NORTH_KOREA], True, sender=system.agent)
    denied(system, alice, kim, 1, Reason.COUNTRY_NOT_ALLOWED)
    allowed(system, alice, heidi, 1)
    system.compliance.transact("setCountryAllowlistEnabled", True, sender=system.agent)
    system.compliance.transact("setCountriesAllowed", [GERMANY], True, sender=system.agent)
    denied(system, alice, heidi, 1, Reason.COUNTRY_NOT_ALLOWED)
    system.compliance.transact("setCountriesAllowed", [SWITZERLAND, NORTH_KOREA], True, sender=system.agent)
    allowed(system, alice, heidi, 1)
    denied(system, alice, kim, 1, Reason.COUNTRY_NOT_ALLOWED)  # the denylist wins
    assert list(system.compliance.call("allowedCountries")) == sorted([GERMANY, SWITZERLAND, NORTH_KOREA])
    assert list(system.compliance.call("deniedCountries")) == [NORTH_KOREA]
    assert system.compliance.call("isCountryAllowed", SWITZERLAND) is True
    assert system.compliance.call("isCountryDenied", GERMANY) is False


def test_flowback(system: System) -> None:
    alice = system.investor("alice")
    system.mint(alice, 100)
    sam = system.investor("sam", country=UNITED_STATES)
    until = system.chain.now + 40 * 86400
    system.compliance.transact("setFlowback", UNITED_STATES, until, sender=system.agent)
    denied(system, alice, sam, 1, Reason.FLOWBACK_RESTRICTED)
    # Primary issuance to a US investor (a Reg D offering) is not flowback: the mint goes through.
    assert system.token.call("mintRestriction", sam, 1) == Reason.OK
    system.mint(sam, 1)
    assert system.token.call("balanceOf", sam) == 1
    system.chain.set_time(until)
    allowed(system, alice, sam, 1)


def test_category_mask(system: System) -> None:
    alice = system.investor("alice", category=1)
    retail = system.investor("rita", category=0)
    pro = system.investor("paul", category=1)
    system.mint(alice, 100)
    system.compliance.transact("setAllowedCategories", 1 << 1, sender=system.agent)
    denied(system, alice, retail, 1, Reason.CATEGORY_NOT_ALLOWED)
    allowed(system, alice, pro, 1)


def test_whitelisted_mode(system: System) -> None:
    alice, bob = two(system)
    system.compliance.transact("setTransferMode", WHITELISTED, sender=system.agent)
    denied(system, alice, bob, 1, Reason.RECIPIENT_NOT_WHITELISTED)
    system.compliance.transact("setWhitelisted", [investor_id("bob")], True, sender=system.agent)
    allowed(system, alice, bob, 1)
    assert system.compliance.call("whitelistCount") == 1
    assert system.compliance.call("whitelistAt", 0) == investor_id("bob")
    system.compliance.transact("setWhitelisted", [investor_id("bob")], False, sender=system.agent)
    assert system.compliance.call("isWhitelisted", investor_id("bob")) is False
    assert system.compliance.call("whitelistCount") == 0


def test_max_balance_per_investor(system: System) -> None:
    alice = system.investor("alice")
    bob = system.investor("bob", wallets=2)
    system.mint(alice, 1000)
    system.compliance.transact("setMaxBalance", 100, sender=system.agent)
    allowed(system, alice, bob, 60)
    # the cap is per investor, not per wallet
    denied(system, alice, system.wallet("bob", 1), 41, Reason.MAX_BALANCE_EXCEEDED)
    allowed(system, alice, system.wallet("bob", 1), 40)
    assert system.compliance.call("investorBalance", investor_id("bob")) == 100
    assert system.token.reason("mint", bob, 1, sender=system.issuer) == "MAX_BALANCE_EXCEEDED"


def test_holder_limit_counts_investors(system: System) -> None:
    alice = system.investor("alice", wallets=2)
    bob = system.investor("bob")
    carol = system.investor("carol")
    system.mint(alice, 100)
    system.compliance.transact("setMaxHolders", 2, sender=system.agent)
    allowed(system, alice, system.wallet("alice", 1), 10)  # same investor: still one holder
    assert system.compliance.call("holderCount") == 1
    allowed(system, alice, bob, 10)
    assert system.compliance.call("holderCount") == 2
    denied(system, alice, carol, 1, Reason.HOLDER_LIMIT_REACHED)
    assert system.token.reason("mint", carol, 1, sender=system.issuer) == "HOLDER_LIMIT_REACHED"
    # bob leaving entirely makes room for carol in the same transfer
    allowed(system, bob, carol, 10)
    assert system.compliance.call("holderCount") == 2
    assert system.compliance.call("investorBalance", investor_id("bob")) == 0


def test_burn_skips_kyc_and_lockup(system: System) -> None:
    alice = system.investor("alice", kyc_expiry=system.chain.now + 10)
    system.mint(alice, 100)
    system.compliance.transact(
        "setLockup", investor_id("alice"), system.chain.now + 10**6, sender=system.agent
    )
    system.chain.advance(20)
    assert system.token.call("burnRestriction", alice, 50) == 0
    system.token.transact("burn", alice, 100, sender=system.issuer)
    assert system.compliance.call("holderCount") == 0


def test_check_order_sanction_before_verification(system: System) -> None:
    alice, _ = two(system)
    stranger = system.chain.account("stranger")
    system.registry.transact("setWalletSanctioned", stranger, True, sender=system.agent)
    denied(system, alice, stranger, 1, Reason.RECIPIENT_SANCTIONED)


def test_config_reads_back(system: System) -> None:
    c = system.compliance
    c.transact("setTransferMode", WHITELISTED, sender=system.agent)
    c.transact("setCountryAllowlistEnabled", True, sender=system.agent)
    c.transact("setAllowedCategories", 6, sender=system.agent)
    c.transact("setMaxHolders", 99, sender=system.agent)
    c.transact("setMaxBalance", 5 * 10**18, sender=system.agent)
    c.transact("setFlowback", UNITED_STATES, 1234, sender=system.agent)
    assert c.call("config") == (WHITELISTED, True, 6, 99, 5 * 10**18, UNITED_STATES, 1234)
    assert c.call("transferMode") == WHITELISTED
    assert c.call("identityRegistry") == system.registry.address
    assert c.call("token") == system.token.address
    assert system.token.call("identityRegistry") == system.registry.address
    assert c.reason("setTransferMode", 3, sender=system.agent) == "COMPLIANCE_BAD_MODE"
    assert c.reason("setCountriesDenied", [1024], True, sender=system.agent) == "COMPLIANCE_BAD_COUNTRY"


def test_registry_reads_back(system: System) -> None:
    alice = system.investor("alice", country=SWITZERLAND, category=2, kyc_expiry=2**40, wallets=2)
    r = system.registry
    assert r.call("investor", investor_id("alice")) == (True, SWITZERLAND, 2, 2**40, False)
    assert r.call("investorOf", alice) == investor_id("alice")
    assert r.call("walletCount", investor_id("alice")) == 2
    assert r.call("isVerified", alice) is True
    assert (
        r.reason("bindWallet", alice, investor_id("nobody"), sender=system.agent)
        == "REGISTRY_UNKNOWN_INVESTOR"
    )
    system.investor("bob")
    assert (
        r.reason("bindWallet", alice, investor_id("bob"), sender=system.agent)
        == "REGISTRY_WALLET_BOUND_TO_ANOTHER_INVESTOR"
    )
    assert (
        r.reason("removeInvestor", investor_id("alice"), sender=system.agent)
        == "REGISTRY_INVESTOR_STILL_HAS_WALLETS"
    )
    assert r.reason("setInvestor", investor_id("x"), 0, 0, 0, sender=system.agent) == "REGISTRY_BAD_COUNTRY"


def test_rebinding_a_holding_wallet_keeps_the_books(system: System) -> None:
    alice, bob = two(system)
    carol = system.investor("carol")
    # alice's wallet is rebound to carol while holding: its next transfer rebooks it to carol first
    system.registry.transact("unbindWallet", alice, sender=system.agent)
    system.registry.transact("bindWallet", alice, investor_id("carol"), sender=system.agent)
    allowed(system, alice, bob, 1000)
    assert system.compliance.call("investorBalance", investor_id("alice")) == 0
    assert system.compliance.call("investorBalance", investor_id("bob")) == 1000
    assert system.compliance.call("holderCount") == 1
    allowed(system, bob, alice, 10)  # now attributed to carol
    assert system.compliance.call("investorBalance", investor_id("carol")) == 10
    assert carol != alice


def test_mode_constants(system: System) -> None:
    assert (OPEN, ELIGIBLE, WHITELISTED) == (0, 1, 2)
    assert system.compliance.call("transferMode") == ELIGIBLE
