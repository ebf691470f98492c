"""Proof of reserves over HTTP: attest now, the history of attestations, and a holder's Merkle proof.

An attestation's document is what the trustee publishes to the world (aggregate figures and roots, no
holder's balance), so any key may read the history. A proof shows one holder's balance: an investor
key gets the proofs of its own wallets only; staff keys (read) any holder's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import SymbolText
from equitoken.app.access import Actor, Permission
from equitoken.app.attestation_log import AttestationLog, Published
from equitoken.app.service import Service
from equitoken.domain.ids import Symbol, WalletAddress

router = APIRouter(responses=RESPONSES, tags=["reserves"])
Caller = Annotated[Actor, Depends(actor)]

AttestationNumber = Annotated[int, Path(ge=1, le=10**9, description="The attestation's number (from 1)")]
WalletText = Annotated[
    str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0xF7121E6757A225Cce6aE0aC6F7c70d4559fe733D"])
]


class ReserveLineOut(BaseModel):
    """One listing's attested figures: tokens out, shares per token, shares held, the holder tree's root."""

    symbol: str
    model: str
    token: str
    supply_tokens: str
    token_decimals: int
    multiplier: str
    custody_shares: str
    in_flight_shares: str
    collateral_ratio: str | None
    """(custody + in flight) / (supply × multiplier); none without supply."""
    holders_root: str
    holder_count: int


class AttestationOut(BaseModel):
    """A published attestation: its figures, who signed it, where its roots are, and the document itself."""

    attestation_id: int
    published_at: datetime
    as_of_block: int
    as_of: datetime
    chain_id: int
    signer: str
    registry: str | None
    document_hash: str
    """keccak-256 of ``document``: what the registry holds for every root of this attestation."""
    lines: list[ReserveLineOut]
    document: str
    """The signed document exactly as published (canonical JSON), for ``equitoken reserves verify``."""


class ProofOut(BaseModel):
    """A holder's inclusion proof in one symbol's holder tree (OpenZeppelin ``StandardMerkleTree``)."""

    symbol: str
    holder: str
    balance: str
    """The raw token balance in base units, as in the tree's leaf."""
    root: str
    proof: list[str]


class ProofsOut(BaseModel):
    """A holder's proofs in one attestation: one per symbol it held."""

    attestation_id: int
    holder: str
    registry: str | None
    proofs: list[ProofOut]


class TreeValueOut(BaseModel):
    """One leaf of a dumped tree: ``[holder, balance in base units]`` and where its leaf sits."""

    model_config = ConfigDict(populate_by_name=True)

    value: list[str] = Field(min_length=2, max_length=2)
    tree_index: int = Field(alias="treeIndex")


class TreeDumpOut(BaseModel):
    """A holder tree exactly as OpenZeppelin's ``StandardMerkleTree.dump()`` gives it (``load()`` reads)."""

    model_config = ConfigDict(populate_by_name=True)

    format: str = Field(examples=["standard-v1"])
    leaf_encoding: list[str] = Field(alias="leafEncoding", examples=[["address", "uint256"]])
    tree: list[str]
    """The node array, root first."""
    values: list[TreeValueOut]


ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The attestation package as a zip: attestation.json, and per symbol holders-SYM.csv, "
        "tree-SYM.json (StandardMerkleTree.dump()) and proofs-SYM.json",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def attestations_of(request: Request) -> AttestationLog:
    """Return the service's attestation log (it loads the trustee key only to attest)."""
    return service_of(request).attestations


def attestation_out(published: Published) -> AttestationOut:
    """Return a published attestation as the API shows it."""
    document = published.attestation
    return AttestationOut(
        attestation_id=published.number,
        published_at=published.at,
        as_of_block=document.as_of_block,
        as_of=document.as_of,
        chain_id=document.chain_id,
        signer=published.signer.value,
        registry=None if published.registry is None else published.registry.value,
        document_hash=published.document_hash,
        lines=[ReserveLineOut.model_validate(line.as_dict()) for line in document.lines],
        document=published.document,
    )


@router.get("/v1/attestations")
def attestations(request: Request, caller: Caller) -> list[AttestationOut]:
    """Return every published attestation, oldest first."""
    service = service_of(request)
    log = attestations_of(request)
    with service.read(caller, Permission.READ_OWN):
        return [attestation_out(p) for p in log.history()]


@router.get("/v1/attestations/latest")
def latest(request: Request, caller: Caller) -> AttestationOut:
    """Return the latest published attestation."""
    service = service_of(request)
    log = attestations_of(request)
    with service.read(caller, Permission.READ_OWN):
        return attestation_out(log.latest())


@router.get("/v1/attestations/{attestation_id}")
def get_attestation(request: Request, caller: Caller, attestation_id: AttestationNumber) -> AttestationOut:
    """Return one published attestation."""
    service = service_of(request)
    log = attestations_of(request)
    with service.read(caller, Permission.READ_OWN):
        return attestation_out(log.get(attestation_id))


@router.get(
    "/v1/attestations/{attestation_id}/tree",
    response_model=TreeDumpOut,
    response_model_by_alias=True,
)
def tree(
    request: Request,
    caller: Caller,
    attestation_id: AttestationNumber,
    symbol: Annotated[SymbolText, Query(description="The listing whose holder tree to return")],
) -> JSONResponse:
    """Return a symbol's holder tree in OpenZeppelin's StandardMerkleTree.dump() format.

    Staff keys only (read): the tree lists every holder's balance. ``NOT_ATTESTED`` for a symbol the
    attestation has no line for, ``EMPTY_TREE`` for one without holders.
    """
    service = service_of(request)
    log = attestations_of(request)
    with service.read(caller, Permission.READ):
        dump = log.get(attestation_id).tree(Symbol(symbol))
    return JSONResponse(TreeDumpOut.model_validate(dump).model_dump(by_alias=True))


@router.get("/v1/attestations/{attestation_id}/package", response_class=Response, responses=ZIP_RESPONSE)
def package(request: Request, caller: Caller, attestation_id: AttestationNumber) -> Response:
    """Return the attestation package as a zip: document, holder lists, trees and every holder's proof.

    Staff keys only (read): the lists show every holder's balance.
    """
    service = service_of(request)
    log = attestations_of(request)
    with service.read(caller, Permission.READ):
        data = log.get(attestation_id).package()
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="attestation-{attestation_id}.zip"'},
    )


def require_proof_reader(service: Service, caller: Actor, wallet: WalletAddress) -> None:
    """Refuse unless ``caller`` may see ``wallet``'s balance: its own investor's wallet, or a staff key."""
    book = service.engine.desk.investors.book
    owner = next((i.investor_id for i in book.investors() if wallet in i.wallets), None)
    if owner is None:
        caller.require(Permission.READ)  # a wallet no investor holds (the issuer's, a stranger's)
    else:
        caller.require(Permission.READ_OWN, owner)


@router.get("/v1/attestations/{attestation_id}/proofs/{wallet}")
def proofs(
    request: Request,
    caller: Caller,
    attestation_id: AttestationNumber,
    wallet: WalletText,
    symbol: Annotated[SymbolText | None, Query(description="Only this symbol's proof")] = None,
) -> ProofsOut:
    """Return a holder's Merkle proofs against the roots of one attestation (check them on chain or off)."""
    service = service_of(request)
    log = attestations_of(request)
    holder = WalletAddress(wallet)
    with service.lock:
        require_proof_reader(service, caller, holder)
        published = log.get(attestation_id)
        return proofs_out(published, holder, None if symbol is None else Symbol(symbol))


def proofs_out(published: Published, holder: WalletAddress, symbol: Symbol | None) -> ProofsOut:
    """Return ``holder``'s proofs in ``published`` (``NOT_A_HOLDER`` when it held none)."""
    # One answer for the keyed route and the public page's, so the two cannot drift.
    return ProofsOut(
        attestation_id=published.number,
        holder=holder.value,
        registry=None if published.registry is None else published.registry.value,
        proofs=[
            ProofOut(
                symbol=p.symbol.value,
                holder=p.holder.value,
                balance=str(p.balance),
                root=p.root,
                proof=list(p.proof),
            )
            for p in published.proofs(holder, symbol)
        ],
    )


@router.post("/v1/attestations", status_code=201, response_model=AttestationOut)
def attest_now(request: Request, caller: Caller, key: IdempotencyKey = None) -> JSONResponse:
    """Attest the reserves now: read every listing at the latest block, sign, post the roots on chain.

    Refused (``RESERVES_BROKEN``, 422) while a listing is halted or does not reconcile.
    """
    service = service_of(request)
    log = attestations_of(request)

    def run() -> AttestationOut:
        published = service.write(caller, Permission.OPERATE, "attest", log.publish)
        return attestation_out(published)

    return write(request, caller, key, None, run, status=201)
