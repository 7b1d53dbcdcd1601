"""Which hosts are this machine. Neutral: both the client and the sandbox import it.

It imports nothing of the reconciler or the sandbox, so the sandbox stays apart from both.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """`localhost`, `127.0.0.0/8`, `::1` (bare or in brackets, as URLs write it)."""
    host = host.strip().casefold()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
