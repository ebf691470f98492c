"""The market report's claims, each with a verdict read from a lab run's figures.

The report (``brief/`` in shared) says: instant execution leads in capital efficiency; inventory
excels in DeFi composability; direct ownership gives the fullest rights with limited composability;
no model gets all three; 24/7 trading removes opening-gap risk; T+0 settlement cuts collateral
tie-up. Each rule below names the figures it reads (``lab.measures``) and how they decide:
``supported``, ``refuted``, or ``depends`` (the figures are within ``CLOSE`` of each other, or a
figure the rule needs is missing, and the sentence says on what).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

CLOSE = Decimal("0.10")
"""Two figures within 10 % of each other do not decide a comparison."""

Figures = Mapping[str, Mapping[str, Any]]


def _num(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _get(models: Figures, model: str, *path: str) -> Decimal | None:
    node: Any = models.get(model, {})
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return _num(node)


def _claim(claim_id: str, claim: str, verdict: str, because: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": claim_id,
        "claim": claim,
        "verdict": verdict,
        "because": because,
        "figures": {k: str(v) for k, v in figures.items()},
    }


def capital_efficiency(models: Figures) -> dict[str, Any]:
    """Instant execution leads in capital efficiency: the least sized capital per dollar traded."""
    text = "Instant execution leads in capital efficiency."
    per = {m: _get(models, m, "capital", "per_dollar_traded") for m in ("instant", "inventory", "direct")}
    figures = {f"{m}_capital_per_dollar": v for m, v in per.items()}
    instant, rivals = per["instant"], {m: v for m, v in per.items() if m != "instant" and v is not None}
    if instant is None or not rivals or any(v == 0 for v in (instant, *rivals.values())):
        return _claim("capital-efficiency", text, "depends", "a model traded nothing", figures)
    best_rival = min(rivals, key=lambda m: rivals[m])
    other = rivals[best_rival]
    if abs(instant - other) <= CLOSE * max(instant, other):
        return _claim(
            "capital-efficiency",
            text,
            "depends",
            f"instant ({instant}) and {best_rival} ({other}) need capital within {CLOSE:.0%} of each other"
            " per dollar traded: the flow decides",
            figures,
        )
    if instant < other:
        return _claim(
            "capital-efficiency",
            text,
            "supported",
            f"instant needs {instant} of capital per dollar traded, the next best ({best_rival}) {other}",
            figures,
        )
    return _claim(
        "capital-efficiency",
        text,
        "refuted",
        f"{best_rival} needs {other} per dollar traded, less than instant's {instant}",
        figures,
    )


def composability(models: Figures) -> dict[str, Any]:
    """Inventory excels in DeFi composability: the highest share of real pool swaps succeeding."""
    text = "Inventory excels in DeFi composability."
    rates = {m: _get(models, m, "composability", "success_rate") for m in ("inventory", "instant", "direct")}
    figures = {f"{m}_swap_success": v for m, v in rates.items()}
    known = {m: v for m, v in rates.items() if v is not None}
    if "inventory" not in known or len(known) < 2:
        return _claim("defi-composability", text, "depends", "no pool could be probed", figures)
    best = max(v for m, v in known.items() if m != "inventory")
    inventory = known["inventory"]
    if inventory > best:
        return _claim(
            "defi-composability",
            text,
            "supported",
            f"{inventory:.0%} of swaps through a pool of the inventory token succeeded, at most {best:.0%}"
            " for the others (their tokens refuse an unverified pool)",
            figures,
        )
    return _claim(
        "defi-composability",
        text,
        "refuted",
        f"another model's token swapped as well or better ({best:.0%} against {inventory:.0%})",
        figures,
    )


def direct_rights(models: Figures) -> dict[str, Any]:
    """Direct ownership gives the fullest rights with limited composability."""
    text = "Direct ownership gives the fullest rights, with limited composability."
    points = {m: _get(models, m, "rights", "points") for m in ("direct", "inventory", "instant")}
    swaps = {m: _get(models, m, "composability", "success_rate") for m in ("direct", "inventory")}
    figures = {
        **{f"{m}_rights": v for m, v in points.items()},
        **{f"{m}_swap_success": v for m, v in swaps.items()},
    }
    direct, direct_swaps, inventory_swaps = points["direct"], swaps["direct"], swaps["inventory"]
    if direct is None or direct_swaps is None or inventory_swaps is None:
        return _claim("direct-rights", text, "depends", "a figure is missing", figures)
    fullest = all(direct > (v or Decimal(0)) for m, v in points.items() if m != "direct")
    limited = direct_swaps < inventory_swaps
    if fullest and limited:
        because = (
            f"direct scores {direct} of 3 on the rubric (the others at most "
            f"{max(v or 0 for m, v in points.items() if m != 'direct')}) and {direct_swaps:.0%} of its swaps"
            f" succeeded against inventory's {inventory_swaps:.0%}"
        )
        return _claim("direct-rights", text, "supported", because, figures)
    why = "its rights are not the fullest" if not fullest else "its token swaps as freely as inventory's"
    return _claim("direct-rights", text, "refuted", why, figures)


def trilemma(models: Figures) -> dict[str, Any]:
    """No model gets all three: none is best at once in capital efficiency, composability and rights."""
    text = "No model gets capital efficiency, composability and full rights at once."
    names = ("inventory", "instant", "direct")
    capital = {m: _get(models, m, "capital", "per_dollar_traded") for m in names}
    swaps = {m: _get(models, m, "composability", "success_rate") for m in names}
    rights = {m: _get(models, m, "rights", "points") for m in names}
    figures: dict[str, Any] = {}
    winners: dict[str, set[str]] = {}
    for label, table, best in (
        ("capital", capital, min),
        ("composability", swaps, max),
        ("rights", rights, max),
    ):
        known = {m: v for m, v in table.items() if v is not None}
        if not known:
            return _claim("trilemma", text, "depends", f"no {label} figure", figures)
        top = best(known.values())
        winners[label] = {m for m, v in known.items() if v == top}
        figures[f"best_{label}"] = ",".join(sorted(winners[label]))
    all_three = winners["capital"] & winners["composability"] & winners["rights"]
    if all_three:
        return _claim(
            "trilemma", text, "refuted", f"{', '.join(sorted(all_three))} leads on all three", figures
        )
    because = "; ".join(f"{k}: {figures[f'best_{k}']}" for k in ("capital", "composability", "rights"))
    return _claim("trilemma", text, "supported", f"the leaders differ ({because})", figures)


def gap_risk(models: Figures) -> dict[str, Any]:
    """24/7 trading removes opening-gap risk: it does only if no one holds a position across a closure."""
    text = "24/7 trading removes opening-gap risk."
    worst = {m: _get(models, m, "gap_pnl", "worst") for m in ("inventory", "instant", "direct")}
    investors = {m: _get(models, m, "gap_pnl", "investors_total") for m in ("inventory", "instant")}
    gaps = sum(len(models.get(m, {}).get("gap_pnl", {}).get("gaps", [])) for m in models)
    figures = {
        **{f"{m}_worst_gap": v for m, v in worst.items()},
        **{f"{m}_investors_gap": v for m, v in investors.items()},
    }
    if gaps == 0:
        return _claim("gap-risk", text, "depends", "the scenario crosses no weekend or holiday", figures)
    exposed = {m: v for m, v in worst.items() if v is not None and v < 0}
    if not exposed:
        return _claim(
            "gap-risk",
            text,
            "depends",
            "no side lost at a reopening in this scenario: try a longer one",
            figures,
        )
    m = min(exposed, key=lambda k: exposed[k])
    return _claim(
        "gap-risk",
        text,
        "refuted",
        f"the gap does not go away, it moves: the worst reopening cost the {m} side {exposed[m]} USD —"
        " off-hours fills at the last close are re-priced at the open",
        figures,
    )


def settlement(models: Figures) -> dict[str, Any]:
    """T+0 settlement cuts collateral tie-up: the collateral peak under T+0 against T+1 and T+2."""
    text = "T+0 settlement cuts collateral tie-up."
    figures: dict[str, Any] = {}
    for m in ("inventory", "instant"):
        for cycle in ("T+0", "T+1", "T+2"):
            figures[f"{m}_{cycle}_peak"] = _get(models, m, "settlement_collateral", cycle, "peak")
    t2 = [v for k, v in figures.items() if k.endswith("T+2_peak") and v is not None]
    t0 = [v for k, v in figures.items() if k.endswith("T+0_peak") and v is not None]
    if not t2 or max(t2) == 0:
        return _claim("t0-settlement", text, "depends", "no broker trade settled in this scenario", figures)
    if max(t0, default=Decimal(0)) < max(t2):
        return _claim(
            "t0-settlement",
            text,
            "supported",
            f"the broker side's collateral peaks at {max(t2)} USD under T+2"
            f" and {max(t0, default=0)} under T+0",
            figures,
        )
    return _claim("t0-settlement", text, "refuted", "T+0 needs as much collateral as T+2", figures)


RULES: tuple[Callable[[Figures], dict[str, Any]], ...] = (
    capital_efficiency,
    composability,
    direct_rights,
    trilemma,
    gap_risk,
    settlement,
)


def verdicts(models: Figures) -> list[dict[str, Any]]:
    """Return every claim with its verdict, its reason and the figures it read."""
    return [rule(models) for rule in RULES]
