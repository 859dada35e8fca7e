"""Address classification: every range that has served as an SSRF bypass is refused."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talentfed.federation.addresses import (
    AddressNotAllowed,
    FetchError,
    blocked_reason,
    is_local_network_address,
    is_public_address,
    never_resolves,
)

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.255", "CGNAT"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "'this network' (0/8)"),
    ("192.0.0.8", "IETF protocol assignment"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fc00::1", "unique local"),
    ("fdff:ffff::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "site-local (deprecated)"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("100::1", "discard-only"),
    ("2001::1", "Teredo"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001:2::1", "IETF protocol assignment"),
    ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1, loopback"),
    ("::ffff:7f00:1", "IPv4-mapped 127.0.0.1, loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped 169.254.169.254, link-local"),
    ("::ffff:10.0.0.1", "IPv4-mapped 10.0.0.1, private"),
    ("::127.0.0.1", "IPv4-compatible (deprecated)"),
    ("::8.8.8.8", "IPv4-compatible (deprecated)"),
    ("2002:7f00:1::", "6to4 127.0.0.1, loopback"),
    ("2002:a9fe:a9fe::1", "6to4 169.254.169.254, link-local"),
    ("2002:c0a8:101::", "6to4 192.168.1.1, private"),
    ("64:ff9b::127.0.0.1", "NAT64 127.0.0.1, loopback"),
    ("64:ff9b::a00:1", "NAT64 10.0.0.1, private"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("5f00::1", "not global unicast"),
    ("4000::1", "not global unicast"),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "172.15.255.255",  # just below 172.16/12
    "172.32.0.0",  # just above it
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above it
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped public address
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "64:ff9b::8.8.8.8",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize(("ip", "reason"), REFUSED)
def test_refused_ranges_name_their_reason(ip: str, reason: str) -> None:
    assert not is_public_address(ip)
    assert blocked_reason(ip) == reason


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_are_allowed(ip: str) -> None:
    assert is_public_address(ip)
    assert blocked_reason(ip) is None


def test_accepts_ipaddress_objects() -> None:
    assert not is_public_address(IPv4Address("127.0.0.1"))
    assert is_public_address(IPv6Address("2606:4700:4700::1111"))


@pytest.mark.parametrize("not_an_ip", ["localhost", "example.com", "127.1", "0x7f000001", ""])
def test_rejects_non_literals(not_an_ip: str) -> None:
    # Host names (and inet_aton shorthands) are resolved first; only the result is judged.
    with pytest.raises(ValueError):
        is_public_address(not_an_ip)


@pytest.mark.parametrize(
    ("ip", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", True),
        ("192.168.0.10", True),
        ("fd12::1", True),
        ("100.100.1.1", True),  # CGNAT-range overlays (e.g. tailnets)
        ("169.254.169.254", False),  # metadata stays refused in dev mode
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("8.8.8.8", False),
    ],
)
def test_local_network_addresses_for_dev_mode(ip: str, local: bool) -> None:
    assert is_local_network_address(ip) is local


def test_address_not_allowed_is_a_fetch_error_with_reason() -> None:
    error = AddressNotAllowed("refusing 127.0.0.1 (loopback)")
    assert isinstance(error, FetchError)
    assert error.reason == "refusing 127.0.0.1 (loopback)"


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_embedded_ipv4_is_judged_like_the_ipv4_address(value: int) -> None:
    v4 = IPv4Address(value)
    mapped = IPv6Address(0xFFFF << 32 | value)
    nat64 = IPv6Address(0x0064FF9B << 96 | value)
    six_to_four = IPv6Address(0x2002 << 112 | value << 80)
    expected = is_public_address(v4)
    assert is_public_address(mapped) is expected
    assert is_public_address(nat64) is expected
    assert is_public_address(six_to_four) is expected


@pytest.mark.parametrize(
    ("host", "never"),
    [
        ("lab.demo.invalid", True),
        ("LAB.DEMO.INVALID.", True),
        ("lab.demo.invalid:8443", True),
        ("invalid", True),
        ("invalid.example", False),
        ("notinvalid", False),
        ("[::1]:8000", False),
        ("127.0.0.1:8000", False),
    ],
)
def test_only_names_under_invalid_never_resolve(host: str, never: bool) -> None:
    assert never_resolves(host) is never
