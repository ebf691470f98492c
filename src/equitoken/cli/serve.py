"""``equitoken serve``: the platform as a service — the REST API over the engine, on the wall clock.

With ``--sandbox --from DAY [--speed N]`` the clock is moved onto that period of the bundled history
(``app.sandbox``), with its own directory ``DATA_DIR/sandbox/`` unless a database URL is set: the
sandbox lists its stocks, onboards one funded sample investor, and writes an operator key and that
investor's key there the first time it opens. Outside a
sandbox the operator issues keys with the first key ``equitoken serve`` writes (``operator.key``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from equitoken.app.access import Role
from equitoken.app.bootstrap import bootstrap, open_lease
from equitoken.app.leadership import Leadership
from equitoken.app.sandbox import SandboxSpec
from equitoken.app.service import Service
from equitoken.app.settings import load_settings, with_setting
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId
from equitoken.domain.instants import utc

SANDBOX_DIR = "sandbox"
"""The sandbox's own directory under the data directory (store, chain, broker logs, keys)."""
OPERATOR_KEY = "operator.key"
INVESTOR_KEY = "investor.key"


def write_secret(path: Path, secret: str) -> None:
    """Write a key's secret to ``path``, readable by its owner only, created new (never overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise DomainError(
            "STORE_UNAVAILABLE", f"cannot write the key file {path}: {error.strerror}"
        ) from None
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")


def first_keys(service: Service, directory: Path) -> list[Path]:
    """Issue the first operator key (and, in a sandbox, the sample investor's) into ``directory``, once."""
    written: list[Path] = []
    with service.lock:
        if any(actor.role is Role.OPERATOR for actor, _ in service.keys.actors()):
            return written
        at = utc(service.clock.now())
        operator = service.keys.issue(at, Role.OPERATOR, name="first operator key")
        path = directory / OPERATOR_KEY
        write_secret(path, operator.secret)
        written.append(path)
        sample = service.sample_investor
        if sample is not None:
            investor = service.keys.issue(
                at, Role.INVESTOR, investor=InvestorId(sample), name="sample investor"
            )
            path = directory / INVESTOR_KEY
            write_secret(path, investor.secret)
            written.append(path)
    return written


def command(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless you mean otherwise).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Run on a period of the bundled history.")
    ] = False,
    start: Annotated[
        str | None, typer.Option("--from", help="Sandbox: first day of history (YYYY-MM-DD).")
    ] = None,
    speed: Annotated[int, typer.Option(help="Sandbox: history seconds per wall-clock second.")] = 1,
    tick: Annotated[float, typer.Option(help="Wall-clock seconds between two ticks of the engine.")] = 1.0,
    advertise: Annotated[
        str | None,
        typer.Option(help="URL other servers reach this one at when it leads (default http://HOST:PORT)."),
    ] = None,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json, docs at /docs) with the engine on the clock."""
    import uvicorn

    from equitoken.api.app import create_app
    from equitoken.api.cluster import ClusterApp

    settings = load_settings()
    if advertise is not None:
        settings = with_setting(settings, "serve_url", advertise, "--advertise")
    spec = None
    if sandbox:
        first = date(2012, 11, 19) if start is None else _day(start)
        spec = SandboxSpec(first, speed)
        if not settings.database_url:  # a sandbox's books never mix with the operator's own
            settings = replace(settings, data_dir=settings.data_dir / SANDBOX_DIR)
    elif start is not None or speed != 1:
        raise DomainError("USAGE", "--from and --speed are for a sandbox: add --sandbox")
    if not 0.05 <= tick <= 3600:
        raise DomainError("USAGE", f"--tick must be from 0.05 to 3600 seconds, not {tick}")
    check_address(host, port)  # before anything opens: a taken port must not cost a started service
    where = f"http://{host}:{port}"

    def open_service() -> Service:
        service = Service.open(settings, spec)
        try:
            for path in first_keys(service, settings.data_dir):
                typer.echo(f"wrote {path.name} to {path} (keep it secret; it is shown nowhere else)")
            service.start(tick)
        except BaseException:
            service.close()
            raise
        return service

    probe = bootstrap(settings)  # its store (opened on first use) says who leads; the service opens its own
    leadership = Leadership(
        open_lease(settings),
        lambda: probe.store,
        probe.clock,
        settings.serve_url or where,
        open_service,
        retry=settings.lease_retry_ms / 1000,
        on_fatal=_stop_now,
    )
    try:
        leads = leadership.campaign()  # a lone server opens here, so a refusal still ends it at once
        leadership.start()
        mode = "live" if spec is None else f"sandbox from {spec.start} at speed {spec.speed}"
        role = "leading the engine" if leads else f"following ({leadership.lease.name} is held)"
        typer.echo(f"equitoken serving on {where} ({mode}, {role}); docs at {where}/docs", err=True)
        app = ClusterApp(leadership, lambda service: create_app(service, leadership))
        uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        ).run()
    finally:
        leadership.stop()


def _stop_now(error: DomainError) -> None:
    """End the process at once: it lost the engine's lease, or could not open the engine it took over.

    No clean shutdown: another process may run the engine already, and every unit of work is
    crash-safe, so stopping mid-command is what a kill does (a restart follows again).
    """
    typer.echo(f"{error.code}: {error.message}", err=True)
    os._exit(2)


def check_address(host: str, port: int) -> None:
    """Refuse (``ADDRESS_IN_USE``) an address something already listens on, or one that cannot be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DomainError(
            "USAGE", f"--host {host!r} is not an address this machine can resolve ({error})"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise DomainError(
                "ADDRESS_IN_USE", f"cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError("USAGE", f"--from must be a day as YYYY-MM-DD, not {text!r}") from None
