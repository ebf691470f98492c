"""The service over the local store, for a command run at the machine instead of against a server.

The local store is the settings' database; if it holds a sandbox, the sandbox is reopened on its own
journaled period and speed (so its clock is the one a server over it would keep). The ticker is not
started: a command moves nothing on but what it asks for.
"""

from __future__ import annotations

from equitoken.app.bootstrap import bootstrap
from equitoken.app.sandbox import journaled_spec
from equitoken.app.service import Service
from equitoken.app.settings import Settings


def open_local(settings: Settings) -> Service:
    """Open the service over the local store (a sandbox on the period it was opened on)."""
    probe = bootstrap(settings)
    try:
        spec = journaled_spec(probe.store)
    finally:
        probe.store.close()
    return Service.open(settings, spec)
