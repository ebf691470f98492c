"""The lab's charts (PNG) and its one self-contained HTML report, drawn from a run's JSON-ready dict.

Every figure in a run arrives as the text of a ``Decimal``; it is read as one, shown as it came, and
turned into a float only to be plotted. A key the run lacks is shown as ``n/a`` rather than failing
the report, so a report can be drawn from a partial run or one from an older version.

The page embeds its charts as ``data:`` URIs and carries its own style sheet: it opens from a file,
mailed or archived, with no network. The same run gives the same page byte for byte.

Charts are drawn on ``matplotlib.figure.Figure`` objects with the Agg canvas, never through
``pyplot``: no GUI backend is ever chosen, and no global figure registry keeps figures alive.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from equitoken.domain.errors import DomainError

__all__ = ["MODELS", "capital_chart", "frontier_chart", "gap_chart", "write_report"]

MODELS: Final = ("inventory", "instant", "direct")
"""The three tokenization models, in the order every table and chart shows them."""

NA: Final = "n/a"

SPREAD_FOR_LOG: Final = 50
"""How far apart the models' peak capital may be before the capital chart turns to a log scale."""

_COLOURS: Final = {"inventory": "#1f77b4", "instant": "#ff7f0e", "direct": "#2ca02c"}
_VERDICT_COLOURS: Final = {"supported": "#1a7f37", "refuted": "#cf222e", "depends": "#9a6700"}

_FRONTIER_PANELS: Final[Mapping[str, tuple[str, str]]] = {
    "buffer-spread": ("refusal_rate", "gap_loss"),
    "inventory-watermarks": ("capital", "refusal_rate"),
}
"""Sweep kind → the two figures of each point it plots, one panel each."""

_PANEL_LABELS: Final = {
    "refusal_rate": "refusal rate",
    "gap_loss": "gap loss (USD)",
    "capital": "capital (USD)",
}


# --- reading the run's plain data -------------------------------------------------------------------


def _at(data: Any, *keys: str) -> Any:
    """Return ``data[k1][k2]…``, or None where a key or a level is missing."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _decimal(value: Any) -> Decimal | None:
    """Read a figure (the text of a Decimal, or an int); None if absent or not a finite number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plotted(value: Any) -> float | None:
    number = _decimal(value)
    return None if number is None else float(number)  # plotting only: the page shows the text


def _shown(value: Any) -> str:
    """Return a figure as the page shows it: as it came, or ``n/a``."""
    if value is None or value == "":
        return NA
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {_shown(item)}" for key, item in sorted(value.items())) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(item) for item in value) or "none"
    return str(value)


def _models(run: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Return the run's models, the three known ones first in their order, then any other by name."""
    models = run.get("models")
    if not isinstance(models, Mapping):
        return []
    names = [name for name in MODELS if name in models] + sorted(set(models) - set(MODELS))
    return [(name, models[name] if isinstance(models[name], Mapping) else {}) for name in names]


def _instant(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


# --- charts -----------------------------------------------------------------------------------------


def _figure(title: str, panels: int = 1) -> tuple[Figure, list[Axes]]:
    """Return a titled figure of ``panels`` side-by-side axes, drawn on the Agg canvas."""
    figure = Figure(figsize=(6.4 * panels, 4.2), dpi=100, layout="constrained")
    figure.suptitle(title, fontsize="medium")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return figure, list(axes)


def _save(figure: Figure, path: Path) -> Path:
    """Write the figure as PNG; with no Software stamp, the same chart gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def _dollars(value: float) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.0f}"


def _usd(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _dollars(value)))


def _nothing(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in this run", ha="center", va="center", transform=ax.transAxes)


def capital_chart(run: Mapping[str, Any], path: Path) -> Path:
    """Draw each model's capital over the run as a step line on a USD axis; return the PNG's path."""
    return _save(capital_figure(run), path)


def capital_figure(run: Mapping[str, Any]) -> Figure:
    """Return the capital chart's figure (log scale when the models are far apart: ``SPREAD_FOR_LOG``)."""
    figure, (ax,) = _figure(f"Capital in use (the principal position at the reference)\n{_name(run)}")
    drawn = False
    peaks: list[float] = []
    for name, model in _models(run):
        points = [
            (at, value)
            for at, value in (
                (_instant(p[0]), _plotted(p[1])) for p in _pairs(_at(model, "series", "capital"))
            )
            if at is not None and value is not None
        ]
        if points:
            ax.step(
                date2num([at for at, _ in points]),  # type: ignore[no-untyped-call]
                [v for _, v in points],
                where="post",
                label=name,
                color=_colour(name),
            )
            drawn = True
            peaks.append(max(abs(v) for _, v in points))
    if drawn:
        # Models a hundredfold apart (a year's ATS market maker beside a buffer) would flatten the
        # smaller lines to the axis: a log scale above $1,000 keeps every model readable.
        shown = [p for p in peaks if p > 0]
        if shown and max(shown) > SPREAD_FOR_LOG * min(shown):
            ax.set_yscale("symlog", linthresh=1000)
            ax.set_ylabel("capital (USD, log scale above $1,000)")
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        ax.legend(loc="best")
    else:
        _nothing(ax, "capital series")
    _usd(ax)
    if ax.get_yscale() == "linear":
        ax.set_ylabel("capital (USD)")
    return figure


def gap_chart(run: Mapping[str, Any], path: Path) -> Path:
    """Draw each model's platform-side P&L over the closed gaps (box and points, worst marked)."""
    figure, (ax,) = _figure(f"Gap P&L per weekend or holiday, the side holding the position\n{_name(run)}")
    names: list[str] = []
    for position, (name, model) in enumerate(_models(run), start=1):
        names.append(name)
        gaps = _at(model, "gap_pnl", "gaps")
        values = [v for v in (_plotted(_at(g, "platform")) for g in gaps or ()) if v is not None]
        if not values:
            continue
        ax.boxplot([values], positions=[position], widths=0.5, showfliers=False)
        # Spread the points evenly across the box (not randomly), so the chart is the same every time.
        spread = [position + 0.3 * ((i + 0.5) / len(values) - 0.5) for i in range(len(values))]
        ax.scatter(spread, values, s=14, alpha=0.7, color=_colour(name), zorder=3)
        worst = _plotted(_at(model, "gap_pnl", "worst"))
        worst = min(values) if worst is None else worst
        ax.scatter([position], [worst], marker="x", s=80, color="#cf222e", zorder=4)
        ax.annotate(f"worst {_dollars(worst)}", (position, worst), xytext=(8, -4), textcoords="offset points")
    if not names or not ax.collections:
        _nothing(ax, "gaps")
    ax.set_xticks(range(1, len(names) + 1), names)
    ax.axhline(0, color="#888888", linewidth=0.8)
    _usd(ax)
    ax.set_ylabel("P&L per gap (USD)")
    return _save(figure, path)


def frontier_chart(sweep: Mapping[str, Any], path: Path) -> Path:
    """Draw a sweep's two figures against its x, one line per y value (two panels); return the path.

    A buffer-spread sweep shows refusal rate and gap loss; an inventory-watermarks sweep capital and
    refusal rate. Refuse any other kind (``INVALID_SETTING``).
    """
    kind = str(sweep.get("kind"))
    if kind not in _FRONTIER_PANELS:
        known = ", ".join(_FRONTIER_PANELS)
        raise DomainError("INVALID_SETTING", f"a sweep's kind is one of {known}, not {kind!r}")
    x_name = str(_at(sweep, "x", "name") or "x")
    y_name = str(_at(sweep, "y", "name") or "y")
    lines: dict[str, list[Mapping[str, Any]]] = {}
    for point in sweep.get("points") or ():
        if isinstance(point, Mapping):
            lines.setdefault(str(point.get("y")), []).append(point)
    figure, axes = _figure(f"{kind} sweep — {sweep.get('scenario') or NA}", panels=2)
    for ax, figure_name in zip(axes, _FRONTIER_PANELS[kind], strict=True):
        for y_value in sorted(lines, key=lambda text: (_decimal(text) is None, _decimal(text) or 0, text)):
            points = sorted(
                (x, v)
                for x, v in ((_decimal(p.get("x")), _plotted(p.get(figure_name))) for p in lines[y_value])
                if x is not None and v is not None
            )
            if points:
                ax.plot(
                    [float(x) for x, _ in points],
                    [v for _, v in points],
                    marker="o",
                    label=f"{y_name} {y_value}",
                )
        if ax.lines:
            ax.legend(loc="best", fontsize="small")
        else:
            _nothing(ax, "points")
        if figure_name == "refusal_rate":
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        else:
            _usd(ax)
        ax.set_xlabel(x_name)
        ax.set_ylabel(_PANEL_LABELS[figure_name])
        ax.set_title(f"{_PANEL_LABELS[figure_name]} against {x_name}")
    return _save(figure, path)


def _pairs(series: Any) -> Iterator[Sequence[Any]]:
    for point in series or ():
        if isinstance(point, list | tuple) and len(point) == 2:
            yield point


def _colour(name: str) -> str | None:
    return _COLOURS.get(name)


def _name(run: Mapping[str, Any]) -> str:
    # A series' title is shared by its members ("One year of real history"): the stock and the
    # dates tell one chart from another.
    title = str(_at(run, "scenario", "title") or _at(run, "scenario", "name") or "lab run")
    symbol, start, end = (_at(run, "scenario", k) for k in ("symbol", "start", "end"))
    if symbol and start and end:
        return f"{title}: {symbol}, {start} to {end}"
    return title


# --- the page ---------------------------------------------------------------------------------------

_MEASURES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("token symbol", ("symbol",)),
    ("orders submitted", ("orders_submitted",)),
    ("fills", ("fills",)),
    ("traded notional (USD)", ("traded_notional",)),
    ("capital sized (USD)", ("capital", "sized")),
    ("capital, time-weighted (USD)", ("capital", "time_weighted")),
    ("capital, peak (USD)", ("capital", "peak")),
    ("capital per dollar traded", ("capital", "per_dollar_traded")),
    ("refusal rate", ("refusals", "rate")),
    ("refusals by reason", ("refusals", "by_reason")),
    ("unserved rate", ("unserved_rate",)),
    ("off-hours share of fills", ("off_hours_fill_share",)),
    ("time to fill, median (s)", ("time_to_fill", "median_seconds")),
    ("time to fill, p95 (s)", ("time_to_fill", "p95_seconds")),
    ("time to custody, median (s)", ("time_to_custody", "median_seconds")),
    ("time to custody, p95 (s)", ("time_to_custody", "p95_seconds")),
    ("tracking error (bps)", ("tracking_error_bps",)),
    ("gap P&L, worst (USD)", ("gap_pnl", "worst")),
    ("gap P&L, total (USD)", ("gap_pnl", "total")),
    ("fees (bps)", ("fees_bps",)),
    *(
        (f"settlement collateral {cycle}, {label} (USD)", ("settlement_collateral", cycle, key))
        for cycle in ("T+0", "T+1", "T+2")
        for label, key in (("peak", "peak"), ("time-weighted", "time_weighted"))
    ),
    ("voting rights", ("rights", "voting")),
    ("cash dividends", ("rights", "cash_dividends")),
    ("legal claim", ("rights", "legal_claim")),
    ("composability, attempts", ("composability", "attempts")),
    ("composability, succeeded", ("composability", "succeeded")),
    ("composability, success rate", ("composability", "success_rate")),
    ("composability, price impact (bps)", ("composability", "price_impact_bps")),
)
"""Measure rows of the report: label → the keys under each model."""

_ELIGIBILITY: Final = (
    ("refused on eligibility", ("eligibility", "refused")),
    ("eligibility refusals by reason", ("eligibility", "by_reason")),
)

_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1f2328; }
h1 { margin-bottom: 0.2rem; } .scenario { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #d1d9e0; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.figure { font-variant-numeric: tabular-nums; text-align: right; }
.verdict { font-weight: bold; } img { max-width: 100%; display: block; margin: 0.5rem 0 1.5rem; }
""".strip()


def write_report(run: Mapping[str, Any], directory: Path, sweeps: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write ``directory/report.html`` with its charts beside it as PNGs and embedded; return its path.

    The page holds the scenario, the claims with their verdicts, the measures of each model, the
    charts, the flow and the invariant checks; it needs no network (no external style, script, font
    or image). Refuse a sweep of a kind ``frontier_chart`` does not draw (``INVALID_SETTING``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    charts = [
        ("Capital over time", capital_chart(run, directory / "capital.png")),
        ("Gap P&L (platform side)", gap_chart(run, directory / "gaps.png")),
    ]
    for number, sweep in enumerate(sweeps, start=1):
        name = f"frontier-{number}-{sweep.get('kind')}.png"
        charts.append(
            (
                f"Sweep {number}: {sweep.get('kind')} on {sweep.get('scenario') or NA}",
                frontier_chart(sweep, directory / name),
            )
        )
    title = f"Trilemma lab — {_name(run)}"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="scenario">{_e(_scenario_line(run))}</p>',
        "<h2>Claims</h2>",
        _claims_table(run.get("claims")),
        "<h2>Measures</h2>",
        _measures_table(run, _MEASURES),
        "<h3>Eligibility</h3>",
        _measures_table(run, _ELIGIBILITY),
        "<h2>Charts</h2>",
        *(_image(caption, png) for caption, png in charts),
        "<h2>Flow</h2>",
        _flow_table(run.get("flow")),
        "<h2>Invariants</h2>",
        _invariants(run),
        f"<p>Run took {_e(_shown(run.get('elapsed_seconds')))} s.</p>",
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    target = directory / "report.html"
    target.write_text(page, encoding="utf-8")
    return target


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _scenario_line(run: Mapping[str, Any]) -> str:
    scenario = run.get("scenario")
    fields = (
        ("symbol", "symbol"),
        ("from", "start"),
        ("to", "end"),
        ("seed", "seed"),
        ("between prices", "between_prices"),
        ("source", "source"),
    )
    parts = [f"scenario {_shown(_at(scenario, 'name'))}"]
    parts += [f"{label} {_shown(_at(scenario, key))}" for label, key in fields]
    return " · ".join(parts)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return an HTML table; the header is escaped here, the cells must come as HTML already."""
    lines = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    lines += ["<tr>" + "".join(row) + "</tr>" for row in rows]
    lines.append("</table>")
    return "\n".join(lines)


def _cell(value: Any, figure: bool = False) -> str:
    return f'<td class="figure">{_e(_shown(value))}</td>' if figure else f"<td>{_e(_shown(value))}</td>"


def _claims_table(claims: Any) -> str:
    if not claims:
        return f"<p>{NA}</p>"
    rows = []
    for claim in claims:
        verdict = str(_at(claim, "verdict") or NA)
        colour = _VERDICT_COLOURS.get(verdict, "#59636e")
        figures = _at(claim, "figures")
        listed = (
            "<br>".join(f"{_e(k)}: {_e(_shown(v))}" for k, v in sorted(figures.items()))
            if isinstance(figures, Mapping)
            else ""
        )
        rows.append(
            [
                _cell(_at(claim, "id")),
                _cell(_at(claim, "claim")),
                f'<td class="verdict" style="color: {colour}">{_e(verdict)}</td>',
                _cell(_at(claim, "because")),
                f"<td>{listed or NA}</td>",
            ]
        )
    return _table(("id", "claim", "verdict", "because", "figures"), rows)


def _measures_table(run: Mapping[str, Any], measures: Sequence[tuple[str, tuple[str, ...]]]) -> str:
    models = _models(run)
    if not models:
        return f"<p>{NA}</p>"
    rows = [
        [f"<th>{_e(label)}</th>", *(_cell(_at(model, *keys), figure=True) for _, model in models)]
        for label, keys in measures
    ]
    return _table(("measure", *(name for name, _ in models)), rows)


def _flow_table(flow: Any) -> str:
    if not isinstance(flow, Mapping):
        return f"<p>{NA}</p>"
    known = (
        ("orders", "orders"),
        ("investors", "investors"),
        ("off-hours share of orders", "off_hours_share"),
    )
    rows = [[f"<th>{_e(label)}</th>", _cell(flow.get(key), figure=True)] for label, key in known]
    by_period = flow.get("by_period")
    if isinstance(by_period, Mapping):
        rows += [[f"<th>orders in {_e(p)}</th>", _cell(n, figure=True)] for p, n in by_period.items()]
    # Whatever else the flow reports is shown too, under its own key, in a stable order.
    rest = sorted(set(flow) - {key for _, key in known} - {"by_period"})
    rows += [[f"<th>{_e(key)}</th>", _cell(flow[key], figure=True)] for key in rest]
    return _table(("flow", "value"), rows)


def _invariants(run: Mapping[str, Any]) -> str:
    rows = []
    for name, model in _models(run):
        breaks = _at(model, "invariants", "breaks")
        listed = (
            "<br>".join(_e(b) for b in breaks)
            if isinstance(breaks, list) and breaks
            else ("none" if isinstance(breaks, list) else NA)
        )
        rows.append(
            [
                f"<th>{_e(name)}</th>",
                _cell(_at(model, "invariants", "checks"), figure=True),
                f"<td>{listed}</td>",
            ]
        )
    return _table(("model", "checks", "breaks"), rows) if rows else f"<p>{NA}</p>"


def _image(caption: str, png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (
        f'<figure>\n<img alt="{_e(caption)}" src="data:image/png;base64,{data}">\n'
        f"<figcaption>{_e(caption)}</figcaption>\n</figure>"
    )
