"""``public_chain_url``: the node URL the page publishes, refused where it would leak or mislead."""

from __future__ import annotations

import pytest

from equitoken.app.settings import load_settings
from equitoken.domain.errors import DomainError


def test_it_is_empty_unless_set_and_never_taken_from_the_chain_url() -> None:
    settings = load_settings(environ={"EQUITOKEN_CHAIN_URL": "http://127.0.0.1:8545"})
    assert settings.public_chain_url == ""
    given = load_settings(environ={"EQUITOKEN_PUBLIC_CHAIN_URL": "https://rpc.example.org/"})
    assert given.public_chain_url == "https://rpc.example.org/"


@pytest.mark.parametrize(
    "url",
    ["embedded:///tmp/chain.log", "http://user:secret@127.0.0.1:8545", "ws://127.0.0.1:8545", "nonsense"],
)
def test_a_url_a_browser_cannot_use_or_that_carries_a_secret_is_refused(url: str) -> None:
    with pytest.raises(DomainError) as refused:
        load_settings(environ={"EQUITOKEN_PUBLIC_CHAIN_URL": url})
    assert refused.value.code == "INVALID_SETTING"
