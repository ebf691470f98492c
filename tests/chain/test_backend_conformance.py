"""Collect the backend conformance suite (``backend_conformance.py``) for every engine in ``ENGINES``."""

from tests.chain.backend_conformance import *  # noqa: F403
