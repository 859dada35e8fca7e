"""Domain blocks in and out as Mastodon's CSV: a round trip, Mastodon's own export, bad files
refused by line and column with nothing half-imported; and the CLI. On both back-ends."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.cli.main import main
from talentfed.config import Config
from talentfed.domain import block_lists, moderation
from talentfed.domain.block_lists import BlockListError, export_csv, import_blocks, read_csv
from talentfed.domain.moderation import BlockTerms, save_block
from talentfed.storage.db import session_factory
from talentfed.storage.models import DomainBlock

HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
# As Mastodon 4.x writes it (Admin > Federation > Export).
MASTODON_EXPORT = (
    HEADER
    + "spam.example,suspend,false,false,Spam,false\n"
    + 'quiet.example,silence,true,false,"Harassment, repeatedly",true\n'
    + "pics.example,noop,true,true,,false\n"
)


async def test_export_import_round_trip(session: AsyncSession, config: Config) -> None:
    terms = {
        "spam.example": BlockTerms("suspend", public_comment="Spam", private_comment="reports 12, 14"),
        "quiet.example": BlockTerms(
            "silence", reject_media=True, obfuscate=True, public_comment="Harassment, repeatedly"
        ),
        "pics.example": BlockTerms("noop", reject_media=True, reject_reports=True),
    }
    for domain, t in terms.items():
        await save_block(session, config, domain, t)
    exported = await export_csv(session, config)
    assert exported.splitlines()[0] + "\n" == HEADER
    assert 'quiet.example,silence,true,false,"Harassment, repeatedly",true' in exported.splitlines()

    await session.execute(DomainBlock.__table__.delete())
    result = await import_blocks(session, config, read_csv(config, exported.encode(), source="x.csv"))
    assert sorted(result.added) == sorted(terms) and result.kept == []
    back = {b.domain: b.terms for b in await moderation.list_blocks(session, config)}
    for domain, t in terms.items():  # the private comment is not in Mastodon's export
        assert back[domain] == dataclasses.replace(t, private_comment="imported from x.csv")


async def test_mastodons_export_imports_and_blocked_domains_keep_their_block(
    session: AsyncSession, config: Config
) -> None:
    await save_block(session, config, "spam.example", BlockTerms("silence", private_comment="ours"))
    result = await import_blocks(session, config, read_csv(config, MASTODON_EXPORT.encode()))
    assert result.kept == ["spam.example"] and sorted(result.added) == ["pics.example", "quiet.example"]
    spam = await session.scalar(select(DomainBlock).where(DomainBlock.domain == "spam.example"))
    assert spam is not None and spam.severity == "silence" and spam.private_comment == "ours"


def test_missing_columns_take_mastodons_defaults(config: Config) -> None:
    found = read_csv(config, b"#domain\nbad.example\n\nworse.example\n")
    assert found == {
        d: BlockTerms("suspend", private_comment="imported") for d in ("bad.example", "worse.example")
    }


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (HEADER + "spam.example,obliterate,false,false,,false\n", "line 2, column #severity", "one of noop"),
        (
            HEADER + "ok.example,silence,false,false,,false\nnot a domain,suspend,,,,\n",
            "line 3, column #domain",
            "expected a domain",
        ),
        (
            HEADER + "spam.example,suspend,maybe,false,,false\n",
            "line 2, column #reject_media",
            "expected true or false",
        ),
        (HEADER + "127.0.0.1:8000,suspend,,,,\n", "line 2, column #domain", "own domain"),
        (HEADER + "a.example,suspend,false,false,x,false,surplus\n", "line 2", "7 values for 6 columns"),
        (
            HEADER + f"a.example,suspend,false,false,{'x' * 1001},false\n",
            "line 2, column #public_comment",
            "at most",
        ),
        ("#domain,#colour\na.example,red\n", "line 1, column #colour", "unknown column"),
        ("domain,severity\na.example,suspend\n", "line 1", "expected a header line"),
        ("", "line 1", "expected a header line"),
        ('#domain\n"a.example\n', "line 2", "not valid CSV"),
    ],
)
def test_bad_files_name_the_line_and_column(config: Config, text: str, where: str, message: str) -> None:
    with pytest.raises(BlockListError) as refused:
        read_csv(config, text.encode())
    assert refused.value.field == where and message in refused.value.message


def test_a_file_that_is_not_utf8_or_too_large_is_refused(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BlockListError, match="file: expected UTF-8"):
        read_csv(config, HEADER.encode() + b"\xff\xfe.example\n")
    monkeypatch.setattr(block_lists, "MAX_BYTES", 10)
    with pytest.raises(BlockListError, match="file: at most"):
        read_csv(config, MASTODON_EXPORT.encode())


# --- the CLI ---------------------------------------------------------------------------------


def _cli(config: Config, *args: str) -> int:
    return main(["--config", config.source, "domain-blocks", *args])


async def _stored(engine: AsyncEngine) -> dict[str, str]:
    async with session_factory(engine)() as session:
        return {b.domain: b.severity for b in await session.scalars(select(DomainBlock))}


def test_cli_imports_exports_and_refuses_a_bad_file_whole(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from talentfed.storage.db import create_engine
    from tests.conftest import run_blocking

    good = tmp_path / "blocks.csv"
    good.write_text(MASTODON_EXPORT)
    assert _cli(config, "import", str(good)) == 0
    assert "3 blocks imported" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "new.example,silence,,,,\nnew2.example,sometimes,,,,\n")
    assert _cli(config, "import", str(bad)) == 1
    assert "line 3, column #severity: one of noop, silence, suspend" in capsys.readouterr().err
    assert _cli(config, "import", str(tmp_path / "missing.csv")) == 1
    assert "file: cannot read" in capsys.readouterr().err

    assert _cli(config, "export", "-") == 0
    out = capsys.readouterr().out
    assert out.startswith(HEADER) and "quiet.example,silence,true,false" in out
    exported = tmp_path / "out.csv"
    assert _cli(config, "export", str(exported)) == 0 and exported.read_text() == out

    assert _cli(config, "add", "loud.example", "--severity", "silence", "--public-comment", "Noise") == 0
    assert _cli(config, "add", "x.example", "--severity", "loud") == 1
    assert "severity: one of noop, silence, suspend" in capsys.readouterr().err
    assert _cli(config, "remove", "spam.example") == 0
    assert _cli(config, "purge") == 0

    async def stored() -> dict[str, str]:
        engine = create_engine(config.database.url)
        try:
            return await _stored(engine)
        finally:
            await engine.dispose()

    assert run_blocking(stored()) == {
        "quiet.example": "silence",
        "pics.example": "noop",
        "loud.example": "silence",
    }
