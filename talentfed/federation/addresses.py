"""Which IP addresses a federation request may connect to.

Every range below has been used to reach an internal service through a server
that fetches URLs for strangers (SSRF). The tables are explicit rather than
built on `ipaddress`'s `is_private`/`is_global`, whose answers changed between
Python patch releases.

IPv6 addresses that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are
judged by the embedded address, since that is where the packets end up.
Teredo and the deprecated IPv4-compatible form are refused outright: no server
we federate with lives there.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address


class FetchError(Exception):
    """Base of every error met while talking to a remote server.

    It lives here, in the lowest layer, so that `AddressNotAllowed` can be one;
    `talentfed.federation.fetcher` re-exports it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AddressNotAllowed(FetchError):
    """The destination is (or resolves only to) an address we never connect to."""


# What dev mode also reaches, so that several nodes can federate on one machine,
# a LAN or a CGNAT-range overlay. Link-local stays refused even then: it holds
# the cloud metadata endpoint (169.254.169.254).
LOCAL_NETWORK_REASONS = frozenset({"loopback", "private", "unique local", "CGNAT"})

_V4_BLOCKED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "'this network' (0/8)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "CGNAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)

# Only 2000::/3 is global unicast; everything outside it is refused unless it
# embeds an IPv4 address (handled before this table is consulted).
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_V6_BLOCKED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("2001::/32", "Teredo"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignment"),
        ("3fff::/20", "documentation"),
    )
)
_V6_OUTSIDE_GLOBAL: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)
_V4_MAPPED = IPv6Network("::ffff:0:0/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")


def _as_address(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, IPv4Address | IPv6Address):
        return ip
    return ip_address(ip)  # raises ValueError for anything that is not an IP literal


def _v4_reason(addr: IPv4Address) -> str | None:
    for net, reason in _V4_BLOCKED:
        if addr in net:
            return "unspecified" if int(addr) == 0 else reason
    return None


def _embedded_v4(addr: IPv6Address) -> tuple[IPv4Address, str] | None:
    """The IPv4 address an IPv6 address forwards to, with the mechanism's name."""
    if addr in _V4_MAPPED:
        return IPv4Address(int(addr) & 0xFFFFFFFF), "IPv4-mapped"
    if addr in _NAT64:
        return IPv4Address(int(addr) & 0xFFFFFFFF), "NAT64"
    if addr in _SIX_TO_FOUR:
        return IPv4Address((int(addr) >> 80) & 0xFFFFFFFF), "6to4"
    return None


def _v6_category(addr: IPv6Address) -> str | None:
    if addr in _V6_GLOBAL_UNICAST:
        return next((reason for net, reason in _V6_BLOCKED if addr in net), None)
    for net, reason in _V6_OUTSIDE_GLOBAL:
        if addr in net:
            return reason
    return "not global unicast"


def _judge(addr: IPAddress) -> tuple[str | None, str | None]:
    """(category, description) of why `addr` is refused; (None, None) if it is public.

    For an address embedding IPv4 the category is the embedded address's, so that
    dev mode treats `::ffff:127.0.0.1` exactly like `127.0.0.1`.
    """
    if isinstance(addr, IPv4Address):
        category = _v4_reason(addr)
        return category, category
    embedded = _embedded_v4(addr)
    if embedded is None:
        category = _v6_category(addr)
        return category, category
    v4, mechanism = embedded
    category = _v4_reason(v4)
    return category, (f"{mechanism} {v4}, {category}" if category else None)


def blocked_reason(ip: str | IPAddress) -> str | None:
    """Why `ip` is not a public address (e.g. "loopback"), or None if it is public.

    Raises ValueError if `ip` is not an IP address literal.
    """
    return _judge(_as_address(ip))[1]


def is_public_address(ip: str | IPAddress) -> bool:
    """True if a federation request may connect to `ip` in production."""
    return blocked_reason(ip) is None


def is_local_network_address(ip: str | IPAddress) -> bool:
    """True for loopback, private, unique-local and CGNAT addresses (see LOCAL_NETWORK_REASONS).

    These are what dev mode additionally allows.
    """
    return _judge(_as_address(ip))[0] in LOCAL_NETWORK_REASONS


def never_resolves(host: str) -> bool:
    """Whether `host` (a URL's host, with or without a port) is under `.invalid`, which RFC 6761
    (§6.4) reserves for names that never resolve: nothing is queued for such a host. The demo's
    made-up neighbourhood lives there (domain/demo_neighbourhood.py)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".").lower()
    return name == "invalid" or name.endswith(".invalid")
