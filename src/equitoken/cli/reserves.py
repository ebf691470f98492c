"""``equitoken reserves``: proof of reserves — ``attest``, ``prove``, ``verify``, ``merkle``, and the
downloads ``tree`` (OpenZeppelin's ``StandardMerkleTree.dump()`` JSON) and ``package`` (one zip).

``merkle`` reads a holders CSV (header ``holder,balance``, balances as integers in base units) and prints
the OpenZeppelin-compatible root and every holder's proof. A malformed row is refused with its line
number, before anything is hashed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.chain.signing import recover
from equitoken.app.attestation import Holders, Proof, download, prove, read_holders, read_package
from equitoken.app.files import read_text
from equitoken.app.settings import load_settings
from equitoken.app.trustee import check_signer
from equitoken.cli.channel import IdempotencyOption, KeyFileOption, KeyOption, UrlOption, call, show, target
from equitoken.cli.output import JsonFlag, emit_json, emit_pairs, emit_table
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress, to_checksum_address
from equitoken.reserves.attestation import SignedAttestation, verify_document
from equitoken.reserves.downloads import dump_json
from equitoken.reserves.holders import parse_holders
from equitoken.reserves.merkle import LEAF_ENCODING, HolderTree, verify
from equitoken.simulation.week import DEFAULT_SEED, attestation_dir, run_week

app = typer.Typer(
    help="Proof of reserves: signed attestations, holder proofs, holder-balance Merkle trees.",
    no_args_is_help=True,
)


@app.command("merkle")
def merkle(
    holders: Annotated[
        Path,
        typer.Option(
            "--holders",
            metavar="CSV",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Holder balances: header holder,balance; balances as integers in base units.",
        ),
    ],
    json_out: JsonFlag = False,
) -> None:
    """Build the holder-balance Merkle tree (OpenZeppelin StandardMerkleTree) and print root and proofs."""
    try:
        with holders.open(encoding="utf-8", newline="") as source:
            entries = parse_holders(source)
    except UnicodeDecodeError as error:
        raise DomainError("INVALID_CSV", f"{holders} is not UTF-8 text (byte {error.start})") from None
    tree = HolderTree(entries)
    root = "0x" + tree.root.hex()
    if not json_out:
        emit_pairs(
            {
                "root": root,
                "holders": len(tree),
                "leaf encoding": f"{','.join(LEAF_ENCODING)} (OpenZeppelin StandardMerkleTree)",
                "proofs": "use --json to print every holder's proof",
            }
        )
        return
    addresses = [to_checksum_address(holder.hex()) for holder, _ in entries]
    emit_json(
        {
            "root": root,
            "holders": len(tree),
            "leaf_encoding": list(LEAF_ENCODING),
            # Balances as strings: a JSON reader with doubles would round anything above 2^53.
            "balances": {
                address: str(balance) for address, (_, balance) in zip(addresses, entries, strict=True)
            },
            "proofs": {
                address: ["0x" + node.hex() for node in tree.proof(index)]
                for index, address in enumerate(addresses)
            },
        }
    )


@app.command("attest")
def attest_command(
    seed: Annotated[
        str, typer.Option("--seed", help="Seed of the scripted week whose state is attested.")
    ] = (DEFAULT_SEED),
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for the package (default: DATA_DIR/reserves).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Attest the reserves at the end of the scripted week: sign, post the roots on chain, write the package.

    The embedded chain and the engine live in one process, so the attestation is taken at the end of
    the same run that built the state (the scripted week, ``--seed`` as for ``equitoken demo``).
    """
    settings = load_settings()
    if settings.chain_url:
        # Silently attesting the embedded chain instead once wrote a package naming chain 31337 and a
        # registry that did not exist on the user's anvil.
        raise DomainError(
            "EMBEDDED_ONLY",
            "reserves attest builds the scripted week's end state on the embedded chain in this process "
            f"and cannot attest the chain at EQUITOKEN_CHAIN_URL ({settings.chain_url}); unset "
            "EQUITOKEN_CHAIN_URL to attest the week",
        )
    directory = out or attestation_dir(settings)
    report = run_week(settings, seed, directory)  # checks --out and the trustee key before the week
    assert report.attestation is not None  # asked for above
    document = Path(report.attestation["document"])
    summary = verify_document(document.read_bytes(), recover)
    if json_out:
        emit_json({"attestation": report.attestation, "document": summary.document()})
        return
    _print_lines(summary)
    emit_pairs(
        {
            "chain": f"{report.attestation['chain_id']} (the embedded chain: it lives only in this run)",
            "as of block": report.attestation["as_of_block"],
            "signed by (trustee)": report.attestation["signer"],
            "roots posted to": report.attestation["registry"],
            "document": report.attestation["document"],
            "document hash": report.attestation["document_hash"],
            "trustee key": report.attestation["trustee_key"],
        }
    )


@app.command("prove")
def prove_command(
    holder: Annotated[str, typer.Argument(help="The holder's wallet address.")],
    symbol: Annotated[str, typer.Option("--symbol", help="The token's symbol.")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="The attestation package (default: DATA_DIR/reserves).")
    ] = None,
    trustee: Annotated[
        str | None,
        typer.Option("--trustee", help="Refuse unless the attestation was signed by this address."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Print a holder's inclusion proof against the attested root of a symbol (checked before printing)."""
    where = directory or attestation_dir(load_settings())
    signed = verify_document(read_text(where / "attestation.json", "attestation").encode("utf-8"), recover)
    if trustee is not None and signed.signer != WalletAddress(trustee):
        raise DomainError("WRONG_TRUSTEE", f"the attestation was signed by {signed.signer}, not by {trustee}")
    wanted = Symbol(symbol)
    line = next((line for line in signed.attestation.lines if line.symbol == wanted), None)
    if line is None:
        raise DomainError("NOT_ATTESTED", f"the attestation has no line for {wanted}")
    holders = read_holders(
        wanted, read_text(where / f"holders-{wanted.value}.csv", "holder list"), f"holders-{wanted.value}.csv"
    )
    proof = prove(holders, WalletAddress(holder))
    if proof.root != "0x" + line.holders_root.hex():
        raise DomainError("ROOT_MISMATCH", f"the holder list of {wanted} does not give the attested root")
    if json_out:
        emit_json(proof.as_dict())
        return
    emit_pairs(
        {
            "symbol": proof.symbol.value,
            "holder": proof.holder.value,
            "balance (base units)": proof.balance,
            "root": proof.root,
            "proof": " ".join(proof.proof) or "(none: the only holder)",
        }
    )


def _checked_package(directory: Path | None) -> tuple[bytes, dict[Symbol, Holders]]:
    """Read a package, refusing a document that does not verify or a list that misses its attested root."""
    where = directory or attestation_dir(load_settings())
    document, holders = read_package(where)
    signed = verify_document(document, recover)
    for line in signed.attestation.lines:
        found = holders.get(line.symbol)
        if found is None:
            raise DomainError("NOT_ATTESTED", f"the package in {where} has no holder list for {line.symbol}")
        tree = found.tree()
        root = bytes(32) if tree is None else tree.root
        if root != line.holders_root:
            raise DomainError(
                "ROOT_MISMATCH", f"the holder list of {line.symbol} does not give the attested root"
            )
    return document, holders


@app.command("tree")
def tree_command(
    symbol: Annotated[str, typer.Option("--symbol", help="The token's symbol.")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="The attestation package (default: DATA_DIR/reserves).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", dir_okay=False, help="Write the dump here instead of printing it.")
    ] = None,
) -> None:
    """Print a symbol's holder tree in OpenZeppelin's StandardMerkleTree.dump() JSON (load it in JS)."""
    _, holders = _checked_package(directory)
    wanted = Symbol(symbol)
    if wanted not in holders:
        raise DomainError("NOT_ATTESTED", f"the attestation has no line for {wanted}")
    data = dump_json(holders[wanted].dump())
    if out is None:
        typer.echo(data.decode("utf-8"))
        return
    out.write_bytes(data)
    typer.echo(f"wrote {out} ({len(data)} bytes)")


@app.command("package")
def package_command(
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The zip to write.")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="The attestation package (default: DATA_DIR/reserves).")
    ] = None,
) -> None:
    """Write the attestation package as one zip: document, holder lists, OpenZeppelin trees, proofs."""
    document, holders = _checked_package(directory)
    data = download(document, holders)
    out.write_bytes(data)
    typer.echo(f"wrote {out} ({len(data)} bytes)")


@app.command("verify")
def verify_command(
    document: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A signed attestation (JSON).")
    ],
    proof_file: Annotated[
        Path | None,
        typer.Option(
            "--proof", exists=True, dir_okay=False, help="A holder's proof (from reserves prove --json)."
        ),
    ] = None,
    trustee: Annotated[
        str | None,
        typer.Option(
            "--trustee", help="The trustee's address (published by the issuer): the signer must be it."
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="The issuer's ReserveRegistry: the document must name it and be signed by the trustee it "
            "holds, read through EQUITOKEN_CHAIN_URL.",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Check an attestation: signature, figures and ratios, the signer against the trustee, and a proof.

    The signer is checked against ``--trustee``, or against the trustee the registry ``--registry``
    holds on the configured chain (or both); without either the document is refused
    (``TRUSTEE_UNCHECKED``): anyone can sign a well-formed document.
    """
    signed = verify_document(document.read_bytes(), recover)
    wanted = None if registry is None else WalletAddress(registry)
    expected = None if trustee is None else WalletAddress(trustee)
    settings = load_settings()
    chain = build_chain(settings.chain_url, settings.chain_seed) if wanted and settings.chain_url else None
    try:
        check = check_signer(signed, trustee=expected, registry=wanted, chain=chain)
    finally:
        if chain is not None:
            chain.close()
    checked: dict[str, object] = {
        "signature": "valid",
        "signer": signed.signer.value,
        "trustee_checked": True,
        "trustee": check.trustee.value,
        "trustee_checked_against": list(check.sources),
        "chain_id": signed.attestation.chain_id,
        "registry": None if signed.attestation.registry is None else signed.attestation.registry.value,
        "as_of_block": signed.attestation.as_of_block,
        "lines": [line.as_dict() for line in signed.attestation.lines],
    }
    if proof_file is not None:
        proof = Proof.from_json(read_text(proof_file, "proof"))
        line = next((line for line in signed.attestation.lines if line.symbol == proof.symbol), None)
        if line is None:
            raise DomainError("NOT_ATTESTED", f"the attestation has no line for {proof.symbol}")
        nodes = [_node(node) for node in proof.proof]
        if not verify(line.holders_root, proof.holder.to_bytes(), proof.balance, nodes):
            raise DomainError(
                "PROOF_REJECTED",
                f"the proof of {proof.holder} does not lead to the attested {proof.symbol} root",
            )
        checked["proof"] = {"symbol": proof.symbol.value, "holder": proof.holder.value, "included": True}
    if json_out:
        emit_json(checked)
        return
    _print_lines(signed)
    named = signed.attestation.registry
    emit_pairs(
        {
            "signature": f"valid, by {signed.signer.value}",
            "trustee": f"{check.trustee.value} (checked against {' and '.join(check.sources)})",
            "chain · registry": f"{signed.attestation.chain_id} · {named.value if named else 'none'}",
        }
    )
    if proof_file is not None:
        typer.echo("proof: the holder's balance is included in the attested root")


def _print_lines(signed: SignedAttestation) -> None:
    emit_table(
        [
            {
                "symbol": line.symbol.value,
                "model": line.model,
                "supply (tokens)": line.supply.value,
                "multiplier": line.multiplier,
                "custody": line.custody.value,
                "in flight": line.in_flight.value,
                "collateral ratio": line.collateral_ratio,
                "holders": line.holder_count,
                "root": "0x" + line.holders_root.hex()[:16] + "…",
            }
            for line in signed.attestation.lines
        ]
    )


def _node(text: str) -> bytes:
    if not text.startswith("0x") or len(text) != 66:
        raise DomainError("INVALID_PROOF", f"a proof node is 0x and 64 hex digits, not {text!r}")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise DomainError("INVALID_PROOF", f"a proof node is 0x and 64 hex digits, not {text!r}") from None


# -- the running platform's reserves: reconciliation and published attestations ---------------

ATTESTATION_COLUMNS = ("attestation_id", "published_at", "as_of_block", "signer", "document_hash")


@app.command("reconcile")
def reconcile(
    symbol: Annotated[str | None, typer.Option(help="One listing (default: all).")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Reconcile the chain, the ledger and the custodian now (a break halts minting)."""
    where = target(url, key, key_file, idempotency_key)
    found = call(where, "POST", "/v1/reconciliations", query={"symbol": symbol})
    show(found if json_out else found["results"], json_out)


@app.command("publish")
def publish(
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Attest the running platform's reserves now: sign, post the roots and every listing's feed round."""
    where = target(url, key, key_file, idempotency_key)
    found = call(where, "POST", "/v1/attestations")
    if json_out:
        show(found, json_out)
    else:
        show({k: v for k, v in found.items() if k not in ("document", "lines")}, json_out)


@app.command("history")
def history(
    url: UrlOption = None, key: KeyOption = None, key_file: KeyFileOption = None, json_out: JsonFlag = False
) -> None:
    """List the published attestations, oldest first."""
    show(call(target(url, key, key_file), "GET", "/v1/attestations"), json_out, ATTESTATION_COLUMNS)


@app.command("latest")
def latest(
    url: UrlOption = None, key: KeyOption = None, key_file: KeyFileOption = None, json_out: JsonFlag = False
) -> None:
    """Show the latest published attestation."""
    show(call(target(url, key, key_file), "GET", "/v1/attestations/latest"), json_out)


@app.command("proof")
def proof(
    attestation: Annotated[int, typer.Argument(help="The attestation number.")],
    wallet: Annotated[str, typer.Argument(help="The holder's wallet.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show a holder's Merkle proofs in a published attestation."""
    show(call(target(url, key, key_file), "GET", f"/v1/attestations/{attestation}/proofs/{wallet}"), json_out)


feed_app = typer.Typer(
    help="A listing's on-chain reserve feed, and the mint gate on it (on: the token refuses mints on a "
    "stale or under-collateralised feed).",
    no_args_is_help=True,
)
app.add_typer(feed_app, name="feed")


def _switch(
    symbol: str,
    on: bool,
    url: str | None,
    key: str | None,
    key_file: Path | None,
    idempotency_key: str | None,
    json_out: bool,
) -> None:
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/listings/{symbol}/reserve-feed", body={"on": on}), json_out)


@feed_app.command("on")
def feed_on(
    symbol: Annotated[str, typer.Argument(help="The listing.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Switch the listing's mint gate on (refused until an attestation posted a fresh round)."""
    _switch(symbol, True, url, key, key_file, idempotency_key, json_out)


@feed_app.command("off")
def feed_off(
    symbol: Annotated[str, typer.Argument(help="The listing.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Switch the listing's mint gate off (mints no longer consult the feed)."""
    _switch(symbol, False, url, key, key_file, idempotency_key, json_out)


@feed_app.command("show")
def feed_show(
    symbol: Annotated[str, typer.Argument(help="The listing.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show the listing's feed address, gate on or off, heartbeat and latest round."""
    show(call(target(url, key, key_file), "GET", f"/v1/listings/{symbol}/reserve-feed"), json_out)
