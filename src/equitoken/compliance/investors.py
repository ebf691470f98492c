"""Investors: who they are, where they live, what category they are, and whether the US rules reach them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from equitoken.compliance.countries import Country
from equitoken.compliance.kyc import Kyc
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress


class PersonKind(StrEnum):
    """Whether an investor is a human being or a legal entity."""

    NATURAL_PERSON = "natural_person"
    ENTITY = "entity"


class InvestorCategory(StrEnum):
    """An investor's regulatory category, as the offering rules name them.

    ``professional`` / ``elective_professional``: MiFID II Annex II (per se, or opted up on request);
    ``accredited``: SEC Rule 501(a); ``qualified_purchaser``: Investment Company Act §2(a)(51);
    ``institutional``: banks, insurers, funds and other regulated institutions.
    """

    RETAIL = "retail"
    PROFESSIONAL = "professional"
    ELECTIVE_PROFESSIONAL = "elective_professional"
    ACCREDITED = "accredited"
    QUALIFIED_PURCHASER = "qualified_purchaser"
    INSTITUTIONAL = "institutional"


ACCREDITED_CATEGORIES: frozenset[InvestorCategory] = frozenset(
    {InvestorCategory.ACCREDITED, InvestorCategory.QUALIFIED_PURCHASER, InvestorCategory.INSTITUTIONAL}
)
"""Categories that count as accredited for the Exchange Act §12(g) holder count (a qualified purchaser
and a regulated institution meet Rule 501(a) by construction)."""


def category(text: str) -> InvestorCategory:
    """Return the category named ``text`` or refuse it, listing the valid names."""
    try:
        return InvestorCategory(text)
    except ValueError:
        names = ", ".join(c.value for c in InvestorCategory)
        raise DomainError("INVALID_CATEGORY", f"{text!r} is not an investor category ({names})") from None


def us_person_required(kind: PersonKind, residence: Country, nationality: Country) -> bool:
    """Tell whether Regulation S Rule 902(k) makes this investor a US person whatever the operator says.

    A natural person resident in the United States, and an entity organised under US law (its
    ``nationality`` is its country of incorporation), are US persons. Other cases (a US citizen abroad,
    an account managed from the US) are the operator's call, recorded in ``us_person``.
    """
    home = residence if kind is PersonKind.NATURAL_PERSON else nationality
    return home.alpha2 == "US"


@dataclass(frozen=True, slots=True)
class Investor:
    """An onboarded investor: identity, jurisdiction, category, KYC and bound wallets."""

    investor_id: InvestorId
    kind: PersonKind
    name: str
    """Legal name, as screened against the sanctions list."""
    residence: Country
    nationality: Country
    """Citizenship of a natural person; country of incorporation of an entity."""
    us_person: bool
    category: InvestorCategory
    kyc: Kyc = field(default_factory=Kyc)
    wallets: frozenset[WalletAddress] = frozenset()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise DomainError("INVALID_INVESTOR", f"investor {self.investor_id} needs a name")
        if not self.us_person and us_person_required(self.kind, self.residence, self.nationality):
            raise DomainError(
                "US_PERSON_MISMATCH",
                f"investor {self.investor_id} is a US person under Regulation S Rule 902(k) "
                f"({'resident' if self.kind is PersonKind.NATURAL_PERSON else 'organised'} in the US)",
            )
        if self.kind is PersonKind.NATURAL_PERSON and self.category is InvestorCategory.INSTITUTIONAL:
            raise DomainError(
                "INVALID_CATEGORY", f"investor {self.investor_id}: a natural person is not an institution"
            )
