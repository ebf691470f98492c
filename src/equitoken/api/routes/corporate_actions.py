"""Corporate actions: announce splits and cash dividends, see where they stand, apply one that is due."""

from __future__ import annotations

from fastapi import APIRouter

from equitoken.api.problems import RESPONSES

router = APIRouter(responses=RESPONSES, tags=["corporate actions"])
