"""The ASGI application: the versioned REST API over one running service.

``create_app(service)`` returns the FastAPI app; ``equitoken serve`` runs it under uvicorn with the
service's ticker. The OpenAPI 3.1 document is at ``/openapi.json``, interactive docs at ``/docs``,
liveness at ``/health``; everything else is under ``/v1``. Each route checks its caller's key and
role (``app.access``), answers refusals as RFC 9457 problems (``api.problems``) and takes an
``Idempotency-Key`` on writes (``api.guard``).
"""

from __future__ import annotations

from fastapi import FastAPI

from equitoken import __version__
from equitoken.api import problems
from equitoken.api.guard import Answers, RateLimiter
from equitoken.api.head import HeadAsGet
from equitoken.api.routes import (
    attestations,
    cash,
    corporate_actions,
    enforcement,
    events,
    investors,
    issuance,
    platform,
    prices,
    reserve_feeds,
    self_custody,
    trading,
    transparency,
    voting,
)
from equitoken.app.leadership import Leadership
from equitoken.app.service import Service

DESCRIPTION = """Tokenized stocks as a service: listings under three models (inventory, instant execution,
direct ownership), investors and their KYC, quotes, orders and fills around the clock, holdings, cash,
halts and reconciliation. Amounts are decimal strings; every refusal is an RFC 9457 problem with a
stable reason code (the catalogue is in `docs/reasons.md`). Authenticate with `Authorization: Bearer
<API key>`; make writes safe to retry with `Idempotency-Key`."""


def create_app(service: Service, leadership: Leadership[Service] | None = None) -> FastAPI:
    """Return the API application over ``service`` (led by ``leadership`` when several servers share it)."""
    app = FastAPI(
        title="equitoken",
        version=__version__,
        description=DESCRIPTION,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.service = service
    app.state.leadership = leadership
    app.state.answers = Answers(service)
    app.state.limiter = RateLimiter(service.settings.api_rate_limit)
    problems.install(app)
    routers = (platform, investors, trading, self_custody, cash, issuance, enforcement, corporate_actions)
    for module in (*routers, voting, events, attestations, reserve_feeds, prices, transparency):
        app.include_router(module.router)
    app.add_middleware(HeadAsGet, prefixes=(transparency.PAGE, transparency.PUBLIC))
    return app
