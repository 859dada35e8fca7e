"""Parameters of a client API request: form-encoded or JSON bodies, as apps send both, and the
lists of a query string (`types[]=a&types[]=b`).

Values are strings or lists of strings (Rails-style `name[]` fields, JSON arrays); nested
JSON objects are named as Rails forms name them (`fields_attributes[0][name]`); anything else is
refused with `ParamsError`, which each endpoint family answers in its own shape.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from talentfed.federation import limits
from talentfed.storage.models import MAX_ROW_ID
from talentfed.web.bodies import BodyTooLarge, capped_stream, read_body

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


async def read_params_and_files(
    request: Request, files: tuple[str, ...], file_limit: int
) -> tuple[Params, dict[str, bytes]]:
    """The parameters and the uploaded files (by field) of a multipart body, or of any body
    `read_params` reads. Only the fields in `files` may be files, each of at most `file_limit`
    bytes: a body over what they and the other fields may take together is refused while it
    arrives, never read to its end; the files wait in temporary files, not in memory."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_params(request), {}
    limit = file_limit * len(files) + MAX_BODY_BYTES
    stream = capped_stream(request, limit)
    try:
        form = await MultiPartParser(request.headers, stream, max_files=len(files), max_fields=100).parse()
    except BodyTooLarge:
        raise ParamsError(f"the upload is over {file_limit} bytes") from None
    except MultiPartException as exc:
        raise ParamsError(exc.message) from None
    try:
        return await _form_params(form.multi_items(), files)
    finally:
        await form.close()


async def _form_params(
    items: list[tuple[str, UploadFile | str]], files: tuple[str, ...]
) -> tuple[Params, dict[str, bytes]]:
    params: dict[str, list[str]] = {}
    uploads: dict[str, bytes] = {}
    for key, value in items:
        if isinstance(value, str):
            params.setdefault(key.removesuffix("[]"), []).append(value)
        elif key in files and key not in uploads:
            uploads[key] = await value.read()
        else:
            raise ParamsError(f"{key}: a file is not expected here")
    return dict(params), uploads


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


def whole_number(raw: str | None, max_digits: int = 18) -> int | None:
    """A number written in ASCII digits, else None (`str.isdigit` alone takes "²", which
    int() refuses)."""
    if not raw or len(raw) > max_digits or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def row_id(raw: str | None) -> int | None:
    """The row an id sent by an app names, or None when it names none: ids are decimal strings,
    and no row has an id beyond MAX_ROW_ID."""
    number = whole_number(raw)
    return number if number is not None and number <= MAX_ROW_ID else None


def text_param(params: Params, name: str) -> str | None:
    """One string parameter; a form field given once arrives as a list of one."""
    value = params.get(name)
    if isinstance(value, list):
        if len(value) > 1:
            raise ParamsError(f"{name}: given more than once")
        value = value[0] if value else None
    return value or None


def sent_text(params: Params, name: str) -> str | None:
    """A text field that changes something: "" when sent empty (to clear it), None when not
    sent (to keep it)."""
    if name not in params:
        return None
    return text_param(params, name) or ""


TRUE, FALSE = ("true", "1", "on"), ("false", "0", "off", "")


def flag_param(params: Params, name: str) -> bool | None:
    """A boolean as Rails reads one (`true`, `1`, `on`; `false`, `0`, `off`, empty), None when
    not sent; anything else is refused."""
    value = sent_text(params, name)
    if value is None:
        return None
    if value.lower() not in TRUE + FALSE:
        raise ParamsError(f"{name}: expected true or false, got {value[:40]!r}")
    return value.lower() in TRUE


def query_list(request: Request, name: str) -> list[str]:
    """A list in the query string: `name[]=a&name[]=b`, also written `name=a` or `name=a,b` by
    some apps (Rails' `Array(params[:name])`); empty values are left out."""
    params = request.query_params
    values = params.getlist(f"{name}[]") or params.getlist(name)
    return [part for value in values for part in value.split(",") if part]
