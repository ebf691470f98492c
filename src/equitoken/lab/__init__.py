"""The trilemma lab: the three architectures on the same stock, the same flow and the same real history.

``scenario`` reads a scenario file (data, not code); ``flow`` turns it into one seeded list of orders;
``run`` sends the same orders to each model on its own engine; ``measures`` defines every figure once;
``sizing`` finds the smallest capital that serves the flow; ``sweep`` runs grids of runs in series,
on local processes or on a Dask cluster; ``claims`` turns the figures into verdicts on the market
report's claims; ``report`` draws the charts and writes one self-contained HTML page.
"""
