"""CIDRs parsed as networks: is a set of source ranges the public internet?

A string comparison with ``0.0.0.0/0`` misses ``0.0.0.0/1`` plus ``128.0.0.0/1`` (or any
other split of the address space). Here a set of ranges is public when its union covers
every public address, and a single range is too broad when it holds public addresses and
is wider than a /8 (IPv4) or /16 (IPv6).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not routable on the internet (RFC 6890 special-purpose blocks that matter here).
_NON_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/3",
    )
)
_PUBLIC_V6 = ipaddress.IPv6Network("2000::/3")  # global unicast
BROADEST_V4_PREFIX = 8
BROADEST_V6_PREFIX = 16


def _subtract(blocks: list[Network], cut: Network) -> list[Network]:
    left: list[Network] = []
    for block in blocks:
        if block.version != cut.version or not block.overlaps(cut):
            left.append(block)
        elif block.subnet_of(cut):  # type: ignore[arg-type]
            continue
        elif cut.subnet_of(block):  # type: ignore[arg-type]
            left.extend(block.address_exclude(cut))  # type: ignore[arg-type]
        else:
            left.append(block)
    return left


def _public_v4() -> list[Network]:
    blocks: list[Network] = [ipaddress.IPv4Network("0.0.0.0/0")]
    for cut in _NON_PUBLIC_V4:
        blocks = _subtract(blocks, cut)
    return blocks


PUBLIC_V4 = tuple(_public_v4())


def parse(cidrs: Iterable[object]) -> tuple[list[Network], list[str]]:
    """Networks among ``cidrs``, and the entries that are not CIDRs at all."""
    networks: list[Network] = []
    invalid: list[str] = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            invalid.append(str(cidr))
    return networks, invalid


def covers_internet(networks: Iterable[Network]) -> bool:
    """Do these ranges, together, include every public IPv4 or every public IPv6 address?"""
    given = list(networks)
    v4: list[Network] = list(PUBLIC_V4)
    v6: list[Network] = [_PUBLIC_V6]
    for network in given:
        v4 = _subtract(v4, network)
        v6 = _subtract(v6, network)
    return not v4 or not v6


def is_public(network: Network) -> bool:
    if network.version == 4:
        remaining: list[Network] = [network]
        for cut in _NON_PUBLIC_V4:
            remaining = _subtract(remaining, cut)
        return bool(remaining)
    return network.overlaps(_PUBLIC_V6)


def too_broad(network: Network) -> bool:
    """A single range holding public addresses and wider than the configured prefixes."""
    limit = BROADEST_V4_PREFIX if network.version == 4 else BROADEST_V6_PREFIX
    return network.prefixlen < limit and is_public(network)


def public_exposure(cidrs: Iterable[object]) -> str | None:
    """Why these source ranges are public (a readable phrase), or None."""
    networks, invalid = parse(cidrs)
    if invalid:
        return f"unparseable source range {invalid[0]!r}"
    if covers_internet(networks):
        shown = ", ".join(str(n) for n in networks)
        return f"the whole internet ({shown})"
    broad = [n for n in networks if too_broad(n)]
    if broad:
        return f"a public range wider than /{BROADEST_V4_PREFIX} ({broad[0]})"
    return None
