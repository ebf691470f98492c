"""Every command in the README and the docs runs as written, in order, on a fresh checkout (issue 11).

The ```sh blocks of ``README.md`` and ``docs/*.md`` are extracted and run line by line in a copy of the
checkout's files, with ``equitoken`` and ``.venv/bin/equitoken`` resolving to this interpreter's CLI and no
``EQUITOKEN_*`` variable set — what a new user has after ``make demo``. Lines that start with ``make`` are
the two commands CI itself runs; here they are checked with ``make -n`` (the target exists and would run).
A block fenced ```sh-served talks to a running ``equitoken serve``: the test starts the sandbox ``make serve``
starts, in the copy, on a free loopback port (written ``127.0.0.1:8000`` on the page), and runs the block's
lines against it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from equitoken.harness.server import Server

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
SERVED = re.compile(r"^```sh-served\n(.*?)^```", re.MULTILINE | re.DOTALL)
SERVED_AT = "127.0.0.1:8000"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(page: Path, fence: re.Pattern[str] = BLOCK) -> list[list[str]]:
    """Return the command lines of each ```sh block of ``page`` (comments and blank lines dropped)."""
    found = []
    for match in fence.finditer(page.read_text(encoding="utf-8")):
        lines = [line.strip() for line in match.group(1).splitlines()]
        found.append([line for line in lines if line and not line.startswith("#")])
    return found


def test_the_pages_have_commands_and_no_placeholders() -> None:
    commands = [line for page in PAGES for block in blocks(page) for line in block]
    assert len(commands) >= 20
    for line in commands:
        assert "…" not in line and "0xHOLDER" not in line and "[--" not in line, line


def fresh_checkout(target: Path) -> Path:
    """Copy the files a clone would have (tracked, plus new files not ignored) into ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    shim = f'#!/bin/sh\nexec "{sys.executable}" -m equitoken.cli.main "$@"\n'
    for where in (target / ".venv" / "bin", target / ".shim"):
        where.mkdir(parents=True, exist_ok=True)
        (where / "equitoken").write_text(shim)
        (where / "equitoken").chmod(0o755)
    return target


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_of_the_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    page_blocks = blocks(page)
    if not page_blocks:
        assert page.name != "README.md", "the README shows commands"
        return
    checkout = fresh_checkout(tmp_path / "checkout")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EQUITOKEN_")}
    env["PATH"] = f"{checkout / '.shim'}{os.pathsep}{env.get('PATH', '')}"
    for block in page_blocks:
        for line in block:
            command = line
            if line.startswith("make "):
                command = "make -n " + line.removeprefix("make ").split("#")[0]
            run_line(page, line, command, checkout, env)
    served = blocks(page, SERVED)
    if not served:
        return
    server = Server(checkout / ".equitoken", args=SANDBOX, env={"PATH": env["PATH"]}).start()
    try:
        for block in served:
            for line in block:
                run_line(page, line, line.replace(SERVED_AT, f"127.0.0.1:{server.port}"), checkout, env)
    finally:
        server.stop()


SANDBOX = ("--sandbox", "--from", "2012-11-19", "--speed", "60")
"""What ``make serve`` starts (checked against the Makefile below)."""


def test_the_served_blocks_run_against_what_make_serve_starts() -> None:
    recipe = (ROOT / "Makefile").read_text().split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "equitoken serve " + " ".join(SANDBOX) in recipe


def run_line(page: Path, line: str, command: str, checkout: Path, env: dict[str, str]) -> str:
    """Run one line of a page in the checkout; fail the test with its stderr unless it succeeds."""
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{page.name}: {line}\n{done.stderr[-2000:]}"
    return done.stdout
