"""Test harnesses that drive the production engine through its adapters (the crash harness).

Unlike ``simulation`` (pure scenarios as data), a harness wires real adapters — a SQL store, a chain,
a broker — around the engine, and may wrap them to inject faults; nothing here is on a production path.
"""
