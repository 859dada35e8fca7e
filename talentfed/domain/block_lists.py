"""Domain blocks in and out as Mastodon's CSV (Admin > Federation > Export / Import).

Mastodon 4.x writes one header line and one line per block:

    #domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate

with `true`/`false` flags. We write the same columns, every block in force (configured ones
too). We read them back (`#domain` is required; a missing column takes Mastodon's default:
suspend, false, no comment), plus `#private_comment`, which other tools add. Rows are checked
by `moderation.check_terms` and `check_remote_domain`, as the admin form is; the first bad one
is reported by line and column, and nothing is imported then. As in Mastodon, a domain that
already has a block keeps it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.moderation import (
    BlockTerms,
    ModerationError,
    check_remote_domain,
    check_terms,
    list_blocks,
    save_block,
)
from talentfed.storage.models import User

COLUMNS = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")
READ_ALSO = ("#private_comment",)
MAX_ROWS = 20_000  # Mastodon's ROWS_PROCESSING_LIMIT
MAX_BYTES = 5 * 1024 * 1024
FLAGS = {"true": True, "1": True, "false": False, "0": False, "": False}


class BlockListError(ModerationError):
    """A CSV refused: `field` says where ("line 3, column #severity")."""


@dataclass(frozen=True)
class ImportResult:
    added: list[str]
    kept: list[str]  # already blocked: their block is unchanged


async def export_csv(session: AsyncSession, config: Config) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for block in await list_blocks(session, config):
        t = block.terms
        flags = [str(flag).lower() for flag in (t.reject_media, t.reject_reports)]
        writer.writerow([block.domain, t.severity, *flags, t.public_comment, str(t.obfuscate).lower()])
    return out.getvalue()


def read_csv(config: Config, data: bytes, source: str = "") -> dict[str, BlockTerms]:
    """The blocks a CSV file names, checked; BlockListError names the first bad line and column."""
    if len(data) > MAX_BYTES:
        raise BlockListError("file", f"at most {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BlockListError("file", "expected UTF-8 text") from None
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(rows, [])]
        columns = _check_header(header)
        found: dict[str, BlockTerms] = {}
        for values in rows:
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(columns):
                raise BlockListError(
                    f"line {rows.line_num}", f"{len(values)} values for {len(columns)} columns"
                )
            if len(found) >= MAX_ROWS:
                raise BlockListError(f"line {rows.line_num}", f"at most {MAX_ROWS} blocks in one file")
            domain, terms = _read_row(config, rows.line_num, dict(zip(columns, values, strict=False)), source)
            found.setdefault(domain, terms)
    except csv.Error as exc:
        raise BlockListError(f"line {rows.line_num}", f"not valid CSV ({exc})") from None
    return found


def _check_header(header: list[str]) -> list[str]:
    if "#domain" not in header:
        raise BlockListError("line 1", f"expected a header line naming {', '.join(COLUMNS)}")
    for name in header:
        if name not in COLUMNS + READ_ALSO:
            raise BlockListError(f"line 1, column {name or '(empty)'}", "unknown column")
    return header


def _read_row(config: Config, line: int, row: dict[str, str], source: str) -> tuple[str, BlockTerms]:
    def where(column: str) -> str:
        return f"line {line}, column {column}"

    def flag(column: str) -> bool:
        value = row.get(column, "").strip().lower()
        if value not in FLAGS:
            raise BlockListError(where(column), f"expected true or false, got {value!r}")
        return FLAGS[value]

    try:
        domain = check_remote_domain(config, row.get("#domain", ""))
    except ModerationError as exc:
        raise BlockListError(where("#domain"), exc.message) from None
    private = row.get("#private_comment", "") or (f"imported from {source}" if source else "imported")
    terms = BlockTerms(
        severity=row.get("#severity", "").strip().lower() or "suspend",
        reject_media=flag("#reject_media"),
        reject_reports=flag("#reject_reports"),
        obfuscate=flag("#obfuscate"),
        public_comment=row.get("#public_comment", ""),
        private_comment=private,
    )
    try:
        return domain, check_terms(terms)
    except ModerationError as exc:
        raise BlockListError(where(f"#{exc.field}"), exc.message) from None


async def import_blocks(
    session: AsyncSession, config: Config, blocks: dict[str, BlockTerms], *, moderator: User | None = None
) -> ImportResult:
    """Add the blocks `read_csv` found; a domain already blocked keeps its block."""
    existing = {block.domain for block in await list_blocks(session, config)}
    added, kept = [], []
    for domain, terms in blocks.items():
        if domain in existing:
            kept.append(domain)
            continue
        added.append(await save_block(session, config, domain, terms, moderator=moderator))
    return ImportResult(added, kept)
