"""RFC 9421 HTTP Message Signatures: ``Signature-Input`` + ``Signature``.

Structured fields (RFC 8941) are parsed with ``http_sf`` and component values
are resolved with ``http_message_signatures``' component resolver (both come
with the ``http-message-signatures`` dependency). Building the signature base,
choosing the algorithm and deciding what to accept stay here.

What we accept (checked by `check_params` and `check_coverage`), the same as
Mastodon's ``SignedRequest::HttpMessageSignature``: ``keyid`` and ``created``
parameters present, ``@method`` and ``@target-uri`` covered, and
``content-digest`` covered for a POST or any request with a body. When a
message carries several signatures we verify the first one.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import http_sf
from http_message_signatures import HTTPSignatureComponentResolver
from http_sf.compat import Item
from http_sf.innerlist import ser_innerlist

from . import algorithms
from .errors import (
    InsufficientCoverageError,
    InvalidSignatureError,
    MalformedSignatureError,
    UnsupportedAlgorithmError,
)
from .keys import PrivateKey, PublicKey
from .message import HttpMessage

_INT_PARAMS = frozenset({"created", "expires"})
_STR_PARAMS = frozenset({"keyid", "alg", "nonce", "tag"})


@dataclass(frozen=True)
class MessageSignature:
    """One labelled signature: covered components, parameters and signature bytes."""

    label: str
    components: tuple[tuple[str, dict[str, Any]], ...]
    params: dict[str, Any] = field(default_factory=dict)
    signature: bytes = b""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.components)

    @property
    def key_id(self) -> str | None:
        return self.params.get("keyid")

    @property
    def created(self) -> int | None:
        return self.params.get("created")

    @property
    def expires(self) -> int | None:
        return self.params.get("expires")

    @property
    def alg(self) -> str | None:
        return self.params.get("alg")

    def signature_params(self) -> str:
        """The ``@signature-params`` value: the inner list re-serialised (RFC 9421 2.3)."""
        return ser_innerlist((list(self.components), self.params))


# --- parsing -------------------------------------------------------------------------


def parse_signatures(signature_input: str, signature: str) -> list[MessageSignature]:
    """Every labelled signature, in ``Signature-Input`` order."""
    inputs = _parse_dictionary(signature_input, "Signature-Input")
    values = _parse_dictionary(signature, "Signature")
    if set(inputs) != set(values):
        raise MalformedSignatureError("Signature-Input and Signature have different labels")
    return [_one(label, inputs[label], values[label]) for label in inputs]


def _parse_dictionary(value: str, header: str) -> dict[str, Any]:
    def reject_duplicate(key: str, context: str) -> None:
        raise MalformedSignatureError(f"{header} repeats the {context} key {key!r}")

    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary", on_duplicate_key=reject_duplicate)
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedSignatureError(f"{header} is not a valid RFC 8941 dictionary") from exc
    if not isinstance(parsed, dict):  # what tltype="dictionary" always gives
        raise MalformedSignatureError(f"{header} is not an RFC 8941 dictionary")
    if not parsed:
        raise MalformedSignatureError(f"{header} is empty")
    return parsed


def _one(label: str, member: Any, value: Any) -> MessageSignature:
    components, params = member
    if not isinstance(components, list):
        raise MalformedSignatureError(f"Signature-Input {label} must be an inner list")
    if not isinstance(value[0], bytes):
        raise MalformedSignatureError(f"Signature {label} must be a byte sequence")
    _check_param_types(label, params)
    checked = tuple(_component(label, name, item_params) for name, item_params in components)
    if len({(name, tuple(p.items())) for name, p in checked}) != len(checked):
        raise MalformedSignatureError(f"Signature-Input {label} covers a component twice")
    return MessageSignature(label, checked, dict(params), value[0])


def _component(label: str, name: Any, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if not isinstance(name, str) or name != name.lower():
        raise MalformedSignatureError(f"Signature-Input {label}: components are lowercase strings")
    return name, dict(params)


def _check_param_types(label: str, params: Mapping[str, Any]) -> None:
    for name, value in params.items():
        wrong_int = name in _INT_PARAMS and (type(value) is not int or value < 0)
        wrong_str = name in _STR_PARAMS and not isinstance(value, str)
        if wrong_int or wrong_str:
            raise MalformedSignatureError(f"Signature-Input {label}: bad {name} parameter")


# --- policy --------------------------------------------------------------------------


def check_params(sig: MessageSignature) -> tuple[str, int]:
    """``(keyid, created)``, both required; a named ``alg`` must be one we verify."""
    if not sig.key_id:
        raise MalformedSignatureError("the keyid parameter is required")
    if sig.created is None:
        raise MalformedSignatureError("the created parameter is required")
    if sig.alg is not None:
        algorithms.require_supported(sig.alg)
    return sig.key_id, sig.created


def check_coverage(sig: MessageSignature, message: HttpMessage, body: bytes) -> None:
    names = set(sig.names)
    if not {"@method", "@target-uri"} <= names:
        raise InsufficientCoverageError("the @method and @target-uri components must be signed")
    if (message.method == "POST" or body) and "content-digest" not in names:
        raise InsufficientCoverageError(
            "the Content-Digest header must be signed when doing a POST request or sending a body"
        )


# --- signature base ------------------------------------------------------------------


def signature_base(message: HttpMessage, sig: MessageSignature) -> bytes:
    """The exact bytes signed (RFC 9421 2.5): one line per component, then @signature-params."""
    resolver = _resolver(message)
    lines = [_base_line(resolver, name, params) for name, params in sig.components]
    lines.append(f'"@signature-params": {sig.signature_params()}')
    base = "\n".join(lines)
    if not base.isascii():
        raise InvalidSignatureError("the signature base contains non-ASCII characters")
    return base.encode("ascii")


def _base_line(resolver: HTTPSignatureComponentResolver, name: str, params: dict[str, Any]) -> str:
    identifier = http_sf.ser((name, params))
    node = Item(name)
    node.params.update(params)
    try:
        value = resolver.resolve(node)
    except Exception as exc:  # the resolver raises several types for "not in this message"
        raise InvalidSignatureError(f"covered component {identifier} cannot be resolved: {exc}") from exc
    if "\n" in value or "\r" in value:
        raise InvalidSignatureError(f"covered component {identifier} contains a newline")
    return f"{identifier}: {value}"


class _Headers:
    """The ``items()`` view the resolver reads; keeps repeated field lines."""

    def __init__(self, lines: Sequence[tuple[str, str]]) -> None:
        self._lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)


@dataclass
class _RequestView:
    method: str
    url: str
    headers: _Headers


@dataclass
class _ResponseView:
    status_code: int
    headers: _Headers
    request: _RequestView | None = None


def _resolver(message: HttpMessage) -> HTTPSignatureComponentResolver:
    headers = _Headers(message.headers)
    view: _RequestView | _ResponseView
    if message.status is not None:
        view = _ResponseView(message.status, headers)
    else:
        view = _RequestView(message.method, message.url, headers)
    try:
        return HTTPSignatureComponentResolver(view)
    except Exception as exc:
        raise InvalidSignatureError(f"the request URL cannot be used for signing: {exc}") from exc


# --- crypto --------------------------------------------------------------------------


def algorithm_for(sig: MessageSignature, key: PublicKey | PrivateKey) -> str | None:
    """``alg`` when given and the key fits it; otherwise what the key implies."""
    if sig.alg is not None:
        return sig.alg if algorithms.key_matches(sig.alg, key) else None
    try:
        return algorithms.algorithm_for_key(key)
    except UnsupportedAlgorithmError:
        return None


def verify_with_key(
    base: bytes, sig: MessageSignature, key: PublicKey, *, algorithm: str | None = None
) -> str | None:
    """The algorithm name when ``sig`` verifies over ``base`` with ``key``.

    ``algorithm`` is for a caller that knows more about the key than its type,
    e.g. that an RSA key is an RSA-PSS key (RFC 9421 3.2 step 5). It must
    agree with a signed ``alg``.
    """
    if algorithm is None:
        algorithm = algorithm_for(sig, key)
    elif sig.alg not in (None, algorithm):
        return None
    if algorithm is None or not algorithms.verify(algorithm, key, sig.signature, base):
        return None
    return algorithm


def sign(
    message: HttpMessage,
    *,
    private_key: PrivateKey,
    components: Sequence[str],
    params: Mapping[str, Any],
    label: str = "sig1",
) -> dict[str, str]:
    """``Signature-Input`` and ``Signature`` values; ``params`` in the order given.

    A component is a name (``"@method"``) or a serialised item with parameters
    (``'"@query-param";name="Pet"'``). The algorithm follows ``params["alg"]``
    when present, else the key.
    """
    parsed = tuple(_component_from_text(text) for text in components)
    unsigned = MessageSignature(label, parsed, dict(params))
    algorithm = algorithm_for(unsigned, private_key)
    if algorithm is None:
        raise UnsupportedAlgorithmError(f"cannot sign alg={unsigned.alg!r} with this key")
    raw = algorithms.sign(algorithm, private_key, signature_base(message, unsigned))
    return {
        "Signature-Input": f"{label}={unsigned.signature_params()}",
        "Signature": f"{label}=:{base64.b64encode(raw).decode('ascii')}:",
    }


def _component_from_text(text: str) -> tuple[str, dict[str, Any]]:
    if not text.startswith('"'):
        return text, {}
    parsed = http_sf.parse(text.encode("ascii"), tltype="item")
    if not isinstance(parsed, tuple):  # an item always comes with its parameters
        raise MalformedSignatureError(f"component {text!r} is not an RFC 8941 item")
    name, params = parsed
    if not isinstance(name, str):
        raise MalformedSignatureError(f"component {text!r} is not a string")
    return name, dict(params)
