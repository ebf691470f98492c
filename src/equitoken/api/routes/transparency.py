"""The public transparency page and the read-only data it shows: no key, rate limited per client address.

``GET /transparency`` is a page any visitor can open: per listing the supply, multiplier, custody and
in-flight shares, the collateral ratio now and at every attestation (a chart), the attestation history
with its signer and where its roots were posted, halts with their reasons, and the corporate-actions
calendar. A holder pastes a wallet and the page checks that wallet's proof *in the browser*, with
OpenZeppelin's own Merkle library and ethers (bundled into ``static/transparency.js`` from ``web/``),
against the root posted in ``ReserveRegistry`` when a node is published (``public_chain_url``) — or
against the signed attestation when none is, saying which.

The page reads the ``/public`` routes below, which serve the same data as their ``/v1`` twins (the same
functions build them): listings, attestations, halts and corporate actions are what the issuer publishes
anyway. A holder's proof is public too: it shows one wallet's token balance at the attested block, which
anyone can already read from the ERC-20 on chain, and never which investor holds the wallet.

There is no key to charge, so each client address has its own bucket of ``api_rate_limit`` requests
per second (behind a proxy every visitor shares the proxy's address: give it its own limits).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from equitoken.api.guard import charge, service_of
from equitoken.api.problems import RESPONSES
from equitoken.api.routes.attestations import (
    AttestationOut,
    ProofsOut,
    attestation_out,
    attestations_of,
    proofs_out,
)
from equitoken.api.routes.corporate_actions import Stage, shown
from equitoken.api.routes.platform import listing_out
from equitoken.api.schemas import HaltOut, ListingOut, SymbolText
from equitoken.api.schemas_ops import CorporateActionOut
from equitoken.domain.chains import TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import canonical_decimal
from equitoken.reserves.attestation import collateral_ratio

PUBLIC = "/public"
PAGE = "/transparency"
ASSETS = ("transparency.js", "transparency.css")
"""The page's files under ``api/static/``: the bundle ``make page`` builds from ``web/``, and its styles."""
_KEYLESS: dict[int | str, dict[str, Any]] = {
    status: RESPONSES[status] for status in (400, 404, 413, 422, 429, 503)
}
"""What a public route may answer besides its success: no key is taken, so never 401 or 403."""


def visitor(request: Request) -> None:
    """Charge the calling address's rate limit (429 ``RATE_LIMITED`` with ``Retry-After`` when spent)."""
    address = request.client.host if request.client is not None else "unknown"
    charge(request, f"address:{address}", "this address")


router = APIRouter(responses=_KEYLESS, tags=["transparency"], dependencies=[Depends(visitor)])

AttestationNumber = Annotated[int, Path(ge=1, le=10**9, description="The attestation's number (from 1)")]
WalletText = Annotated[
    str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0xF7121E6757A225Cce6aE0aC6F7c70d4559fe733D"])
]
SymbolQuery = Annotated[SymbolText | None, Query(description="Only this symbol")]


class PublicListingOut(ListingOut):
    """A listing as ``/v1/listings`` shows it, with its collateral ratio now."""

    collateral_ratio: str | None
    """(custody + in flight) / (supply × multiplier) now, cut to 9 places (the attestations' rule);
    none without supply."""


class ChainOut(BaseModel):
    """Where a browser checks what the page shows: the chain, its trustee and a node to read it from."""

    chain_id: int
    block: int
    trustee: str
    """The trustee whose key signs the platform's attestations (what a signature is compared with when
    no node can be read; with one, the page reads the registry's own trustee)."""
    rpc_url: str | None
    """A JSON-RPC URL browsers may read the registry through (``public_chain_url``); none: no node."""


@router.get(f"{PUBLIC}/listings")
def public_listings(request: Request) -> list[PublicListingOut]:
    """Return every listing with its backing and its collateral ratio now."""
    service = service_of(request)
    with service.lock:
        found = []
        for symbol in sorted(service.engine.models()):
            listing = listing_out(service, symbol)
            backing = service.engine.backing(symbol)
            ratio = collateral_ratio(
                backing.chain_supply, backing.multiplier, backing.custody, backing.in_flight
            )
            found.append(
                PublicListingOut(
                    **listing.model_dump(),
                    collateral_ratio=None if ratio is None else canonical_decimal(ratio),
                )
            )
        return found


@router.get(f"{PUBLIC}/attestations")
def public_attestations(request: Request, symbol: SymbolQuery = None) -> list[AttestationOut]:
    """Return every published attestation, oldest first (with ``symbol``, only that symbol's lines)."""
    service = service_of(request)
    log = attestations_of(request)
    with service.lock:
        found = [attestation_out(p) for p in log.history()]
    if symbol is not None:
        for shown_out in found:
            shown_out.lines = [line for line in shown_out.lines if line.symbol == symbol]
    return found


@router.get(f"{PUBLIC}/attestations/{{attestation_id}}/proofs/{{wallet}}")
def public_proofs(
    request: Request, attestation_id: AttestationNumber, wallet: WalletText, symbol: SymbolQuery = None
) -> ProofsOut:
    """Return a wallet's Merkle proofs in one attestation (its balances are public on chain already)."""
    service = service_of(request)
    log = attestations_of(request)
    with service.lock:
        published = log.get(attestation_id)
    return proofs_out(published, WalletAddress(wallet), None if symbol is None else Symbol(symbol))


@router.get(f"{PUBLIC}/halts")
def public_halts(request: Request) -> list[HaltOut]:
    """Return the listings whose minting is halted, and why."""
    service = service_of(request)
    with service.lock:
        return [HaltOut(symbol=str(s), reason=r) for s, r in sorted(service.engine.halted().items())]


@router.get(f"{PUBLIC}/corporate-actions")
def public_corporate_actions(
    request: Request, symbol: SymbolQuery = None, state: Annotated[Stage | None, Query()] = None
) -> list[CorporateActionOut]:
    """Return the corporate-actions calendar: every announced action in ex-date order, and its stage."""
    service = service_of(request)
    with service.lock:
        found = [shown(service.actions, a) for a in service.actions.announced()]
    return [
        a for a in found if (symbol is None or a.symbol == symbol) and (state is None or a.state == state)
    ]


@router.get(f"{PUBLIC}/chain")
def public_chain(request: Request) -> ChainOut:
    """Return the chain, the trustee and the JSON-RPC URL a browser may check the registry through."""
    service = service_of(request)
    with service.lock:
        chain = service.engine.chain
        return ChainOut(
            chain_id=chain.chain_id,
            block=chain.block_number(),
            # The service posts roots only as this wallet (``AttestationLog.publish`` refuses any other).
            trustee=chain.wallet(TRUSTEE_LABEL).value,
            rpc_url=service.settings.public_chain_url or None,
        )


# -- the page ----------------------------------------------------------------------------------

CONTENT_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript", "css": "text/css"}
# The bundle runs nothing fetched from elsewhere: scripts, styles and images from this origin only;
# the page's own fetches go to this origin and, when one is published, to the node (connect-src).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src {connect}"
)


@cache
def static_file(name: str) -> bytes:
    """Return one of the page's files as shipped in the package (read once)."""
    return resources.files("equitoken.api").joinpath("static", name).read_bytes()


def asset(name: str) -> Response:
    """Answer one static file with a content hash as its ETag (the bundle changes only with a release)."""
    body = static_file(name)
    kind = CONTENT_TYPES[name.rsplit(".", 1)[1]]
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Response(body, media_type=kind, headers={"ETag": tag, "Cache-Control": "no-cache"})


@router.get(PAGE, include_in_schema=False)
def page(request: Request) -> Response:
    """Serve the transparency page (no key)."""
    rpc = service_of(request).settings.public_chain_url
    response = asset("transparency.html")
    # The node's origin only (scheme, host, port): a source expression is never a path or a query.
    node = "" if not rpc else f"{urlsplit(rpc).scheme}://{urlsplit(rpc).netloc}"
    response.headers["Content-Security-Policy"] = POLICY.format(connect=f"'self' {node}".strip())
    return response


@router.get(PAGE + "/{name}", include_in_schema=False)
def page_asset(name: str) -> Response:
    """Serve the page's script or styles."""
    if name not in ASSETS:
        raise DomainError("NO_SUCH_RESOURCE", f"there is no file {name!r} of the transparency page")
    return asset(name)
