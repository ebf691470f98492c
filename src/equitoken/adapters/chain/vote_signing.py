"""Sign ballots as the wallets whose keys a chain facade holds (investor wallets on a platform-run chain).

The facade's key ring already signs every transaction an investor's wallet sends; a ballot is one more
digest signed with the same key. The ``Signer`` and ``recover`` shapes are ``ports.signing``'s, served by
``adapters.chain.signing``.
"""

from __future__ import annotations

from equitoken.adapters.chain.facade._state import ChainState
from equitoken.adapters.chain.signing import KeySigner
from equitoken.domain.ids import WalletAddress


def wallet_signer(chain: ChainState, wallet: WalletAddress) -> KeySigner:
    """Return a signer for ``wallet`` from ``chain``'s key ring (``DomainError`` UNKNOWN_SIGNER if absent)."""
    # The facade exposes no key-ring accessor yet; this adapter-internal read is the only place it is needed.
    return KeySigner(chain.keyring.private_key(wallet.to_bytes()))
