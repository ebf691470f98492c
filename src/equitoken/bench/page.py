"""The transparency page's row: how long the page takes to load, beside a static file of the same size.

A sandbox's journal is given ``ATTESTATIONS`` signed attestations of every listing, each with
``HOLDERS`` holders per listing (trustee-signed documents and holder lists, journaled as the service
journals its own, so the real ``equitoken serve`` reads them back as its history). Headless Chromium
(Debian's, ``harness.browser``) then loads ``/transparency`` from that server on loopback several times;
each load is timed from navigation start to the page's ``rendered`` mark (every API answer fetched and
drawn: listings, the 100 attestations, halts, the calendar, the chain). The baseline, in the same run and
the same browser, is the navigation to one static file as large as everything the page fetched, served
by Python's ``http.server`` on loopback: what the bytes alone cost. A second figure is the in-browser
check of one holder's proof (click to "verified") in a tree of ``HOLDERS`` leaves.

Without Chromium (or Selenium) the part says so and measures nothing.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from equitoken.app.attestation import Holders
from equitoken.app.attestation_log import STREAM, AttestationPublished, HolderList
from equitoken.app.sandbox import SandboxSpec
from equitoken.app.service import Service
from equitoken.app.settings import load_settings
from equitoken.app.trustee import load_trustee
from equitoken.bench.core import BenchOptions, Measurement
from equitoken.domain.ids import WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Shares, TokenAmount
from equitoken.harness.browser import BrowserMissing, headless_chromium
from equitoken.harness.server import Server
from equitoken.issuance import journal
from equitoken.reserves.attestation import Attestation, ReserveLine, sign

PART = "page"
START = date(2012, 11, 19)
HOLDERS = 1_000
ATTESTATIONS = 100
DECIMALS = 18
WAIT = 60.0


def seed_history(directory: Path, holders: int, attestations: int) -> str:
    """Journal ``attestations`` attestations with ``holders`` holders per listing; return a holder."""
    settings = replace(load_settings(environ={}), data_dir=directory / "sandbox")
    service = Service.open(settings, SandboxSpec(START, 60))
    picked = random.Random(13)
    try:
        engine = service.engine
        signer = load_trustee(settings).for_chain(engine.chain.chain_id)
        symbols = sorted(engine.models())
        wallets = [WalletAddress.from_bytes(picked.randbytes(20)) for _ in range(holders)]
        now = utc(service.clock.now())
        for number in range(1, attestations + 1):
            lines, lists = [], []
            for symbol in symbols:
                entries = tuple((w, picked.randint(1, 500) * 10**DECIMALS) for w in wallets)
                listed = Holders(symbol, entries)
                tree = listed.tree()
                assert tree is not None
                supply = Decimal(sum(units for _, units in entries)).scaleb(-DECIMALS)
                in_flight = Decimal(picked.randint(0, 50))  # the ratio moves a little: a chart to draw
                lines.append(
                    ReserveLine(
                        symbol=symbol,
                        model=engine.model(symbol).name.value,
                        supply=TokenAmount(supply, DECIMALS),
                        multiplier=Decimal(1),
                        custody=Shares(supply - 25),
                        in_flight=Shares(in_flight),
                        holders_root=tree.root,
                        holder_count=len(entries),
                        token=engine.model(symbol).listing.instrument.token,
                    )
                )
                lists.append(HolderList(symbol, listed.to_csv()))
            at = now + timedelta(minutes=number)
            document = Attestation(number, at, lines, chain_id=engine.chain.chain_id, registry=None)
            signed = sign(document, signer).to_json()
            event = AttestationPublished(
                at=at,
                number=number,
                document=signed.decode("ascii"),
                document_hash="0x" + keccak256(signed).hex(),
                registry=None,
                holders=tuple(lists),
            )
            journal.append(engine.store, STREAM, f"attestation:{number}", at, event)
        return wallets[0].value
    finally:
        service.close()
        service.engine.chain.close()  # the block log's lock, so the server can open it next


def rendered_ms(driver: Any, url: str) -> tuple[float, int]:
    """Load the page; return ms from navigation start to its ``rendered`` mark, and the bytes fetched."""
    driver.get(f"{url}/transparency")
    deadline = time.monotonic() + WAIT
    while driver.execute_script("return document.body && document.body.dataset.rendered") is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the page did not render")
        time.sleep(0.01)
    found = driver.execute_script(
        "const m = performance.getEntriesByName('rendered')[0];"
        "const n = performance.getEntriesByType('navigation')[0];"
        "const r = performance.getEntriesByType('resource');"
        "return [document.body.dataset.rendered, m ? m.startTime : null,"
        " n.encodedBodySize + r.reduce((s, e) => s + e.encodedBodySize, 0)];"
    )
    state, at, size = found
    if state != "true" or at is None:
        raise RuntimeError("the page failed to render")
    return float(at), int(size)


def checked_ms(driver: Any, wallet: str) -> float:
    """Check ``wallet``'s proofs in the page; return ms from the click to the verdict."""
    driver.execute_script("document.getElementById('wallet').value = arguments[0]", wallet)
    started = time.perf_counter()
    driver.execute_script("document.getElementById('verify').click()")
    deadline = time.monotonic() + WAIT
    while driver.execute_script("return document.getElementById('result').dataset.state") not in (
        "verified",
        "invalid",
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the check did not finish")
        time.sleep(0.005)
    elapsed = (time.perf_counter() - started) * 1000
    verdict = driver.execute_script("return document.getElementById('result').dataset.state")
    if verdict != "verified":
        raise RuntimeError(f"the bench holder's proof did not verify ({verdict})")
    return elapsed


def static_ms(driver: Any, directory: Path, size: int) -> float:
    """Return ms to load one static file of ``size`` bytes from ``http.server`` on loopback."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "same-size.html").write_text("<!doctype html><title>x</title><pre>" + "x" * size + "</pre>")
    handler = partial(_Quiet, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        port = httpd.server_address[1]
        driver.get(f"http://127.0.0.1:{port}/same-size.html")
        loaded = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd || n.duration;"
        )
        return float(loaded)
    finally:
        httpd.shutdown()
        httpd.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: the bench prints its own table."""


def run(options: BenchOptions) -> list[Measurement]:
    """Measure the page's load with 1,000 holders per listing and 100 attestations, beside a static file."""
    holders = options.size(HOLDERS, 100)
    attestations = options.size(ATTESTATIONS, 10)
    loads = options.size(7, 2)
    try:
        driver = headless_chromium()
    except BrowserMissing as missing:
        return [Measurement(PART, "page load (skipped)", None, "ms", note=f"no browser: {missing}")]
    try:
        with tempfile.TemporaryDirectory(prefix="equitoken-bench-page-") as work:
            holder = seed_history(Path(work) / "serve", holders, attestations)
            server = Server(Path(work) / "serve", tick=1.0).start()
            try:
                cold, _ = rendered_ms(driver, server.url)  # the first load reads the history into the log
                timings = [rendered_ms(driver, server.url) for _ in range(loads)]
                check = checked_ms(driver, holder)
            finally:
                server.stop()
            size = timings[-1][1]
            baseline = statistics.median(static_ms(driver, Path(work) / "static", size) for _ in range(loads))
    finally:
        driver.quit()
    page = statistics.median(ms for ms, _ in timings)
    shape = f"{holders:,} holders per listing, {attestations} attestations, {size / 1024:,.0f} KiB fetched"
    return [
        Measurement(
            PART,
            f"transparency page load to rendered, headless Chromium on loopback, median of {loads} (ms)",
            page,
            "ms",
            "one static file of the same size from http.server, same browser",
            baseline,
            note=shape,
        ),
        Measurement(
            PART,
            "the first load after the server starts (it reads the journaled history then) (ms)",
            cold,
            "ms",
            note=shape,
        ),
        Measurement(
            PART, "in-browser proof check of one holder, click to verified (ms)", check, "ms", note=shape
        ),
    ]
