"""Parameters of a client API request: form-encoded or JSON bodies, as apps send both, and the
ids and numbers in them or in a URL.

Values are strings or lists of strings (Rails-style `name[]` fields, JSON arrays); nested
JSON objects are named as Rails forms name them (`fields_attributes[0][name]`); anything else is
refused with `ParamsError`, which each endpoint family answers in its own shape.
"""

from __future__ import annotations

from starlette.requests import Request

from talentfed.federation import limits
from talentfed.storage.models import MAX_ROW_ID
from talentfed.web.bodies import BodyTooLarge, read_body

MAX_BODY_BYTES = 64 * 1024  # far above any text a status or an app registration needs

Params = dict[str, str | list[str]]


class ParamsError(ValueError):
    """The body cannot be read as parameters; the text says why."""


async def read_params(request: Request, limit: int = MAX_BODY_BYTES) -> Params:
    """The body's parameters, form-encoded or JSON."""
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        raise ParamsError(f"the body is over {limit} bytes") from None
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        return _json_params(body)
    form = await request.form(max_files=0, max_fields=100)
    # Rails clients send arrays as `name[]`; strings only (max_files=0 refuses uploads).
    params: Params = {key.removesuffix("[]"): [str(value) for value in form.getlist(key)] for key in form}
    for key, values in params.items():
        _check_text(key, [key, *values])
    return params


def _check_text(name: str, texts: list[str]) -> None:
    """A NUL (`%00`) is text PostgreSQL refuses where SQLite takes it: refused on both."""
    try:
        for text in texts:
            limits.check_string(text)
    except limits.InputRefused as exc:
        raise ParamsError(f"{name}: {exc.reason}") from None


def _json_params(body: bytes) -> Params:
    try:  # the caps on federated JSON: depth, numbers, NUL and unpaired surrogates refused
        data = limits.parse_json(body or b"{}")
    except limits.InputRefused as exc:
        raise ParamsError(f"the body is not JSON we accept: {exc.reason}") from None
    if not isinstance(data, dict):
        raise ParamsError("the body is not a JSON object")
    params: Params = {}
    for key, value in data.items():
        _add_json(params, key, value, depth=0)
    return params


MAX_DEPTH = 2  # fields_attributes[0][name]: as deep as Mastodon's parameters go


def _add_json(params: Params, key: str, value: object, depth: int) -> None:
    """One JSON member; objects and lists of objects become Rails-style names
    (`fields_attributes[0][name]`), so a JSON body reads exactly as the same form would."""
    if value is None:
        return
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        params[key] = [str(item).lower() if isinstance(item, bool) else str(item) for item in value]
    elif isinstance(value, str | int | bool):
        params[key] = str(value).lower() if isinstance(value, bool) else str(value)
    elif isinstance(value, dict | list) and depth < MAX_DEPTH:
        members = value.items() if isinstance(value, dict) else enumerate(value)
        for name, member in members:
            _add_json(params, f"{key}[{name}]", member, depth + 1)
    else:
        raise ParamsError(f"{key}: expected a string")


def text_param(params: Params, name: str) -> str | None:
    """One string parameter; a form field given once arrives as a list of one."""
    value = params.get(name)
    if isinstance(value, list):
        if len(value) > 1:
            raise ParamsError(f"{name}: given more than once")
        value = value[0] if value else None
    return value or None


def digits_only(raw: str) -> bool:
    """`raw` is a whole number in ASCII digits. (str.isdigit alone also takes "²" and the digits
    of other scripts, which int() refuses or reads as a number no client meant.)"""
    return raw.isascii() and raw.isdigit()


MAX_ID_DIGITS = 18  # Mastodon's ids (bigint) have at most 19 digits; longer is no id at all


def row_id(raw: str | None) -> int | None:
    """The row an id from a client names: None when it is no id, or beyond every row id here
    (`MAX_ROW_ID`: PostgreSQL would refuse it in a query)."""
    if raw is None or not digits_only(raw) or len(raw) > MAX_ID_DIGITS:
        return None
    number = int(raw)
    return number if 0 < number <= MAX_ROW_ID else None
