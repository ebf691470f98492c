"""A real headless Chromium for the page's tests and its bench row: Debian's browser, never a download.

``headless_chromium()`` drives ``/usr/bin/chromium`` through ``/usr/bin/chromedriver`` (the Debian
packages ``chromium`` and ``chromium-driver``; ``scripts/install-browser.sh`` installs them, and ``make
test`` runs it) with Selenium. The paths are given explicitly, so Selenium's own manager never fetches
a browser or a driver. ``BrowserMissing`` says what is not there; the tests skip on it (fail under CI),
the bench says so and skips the row.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path(os.environ.get("EQUITOKEN_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("EQUITOKEN_CHROMEDRIVER", "/usr/bin/chromedriver"))
INSTALL = "scripts/install-browser.sh (apt-get install chromium chromium-driver)"


class BrowserMissing(Exception):
    """The browser, its driver or Selenium is not installed."""


def _found(path: Path, name: str) -> Path:
    if path.is_file() and os.access(path, os.X_OK):
        return path
    on_path = shutil.which(name)
    if on_path is None:
        raise BrowserMissing(f"{path} is not installed; run {INSTALL}")
    return Path(on_path)


def headless_chromium(width: int = 1280, height: int = 1600) -> WebDriver:
    """Start headless Chromium under chromedriver and return the driver (quit it when done)."""
    browser = _found(CHROMIUM, "chromium")
    driver = _found(CHROMEDRIVER, "chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BrowserMissing("selenium is not installed (pip install -e '.[dev]')") from None
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace for Chromium's sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(driver)), options=options)
