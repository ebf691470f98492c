"""Shareholder votes on directly owned stocks: proposals, ballots, results."""

from __future__ import annotations

from fastapi import APIRouter

from equitoken.api.problems import RESPONSES

router = APIRouter(responses=RESPONSES, tags=["voting"])
