"""Where the shared fixtures live: ``shared/fixtures`` beside the repository checkout.

Tests call `fixture()` rather than joining paths themselves, so a missing
directory fails the test with a message instead of an obscure file error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES: Path = (Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures").resolve()


def fixture(*parts: str) -> Path:
    """``FIXTURES / parts``; fails the calling test clearly when it is not there."""
    path = FIXTURES.joinpath(*parts)
    if not FIXTURES.is_dir():
        pytest.fail(
            f"shared fixtures directory not found at {FIXTURES}: it must sit beside the "
            "repository checkout (../shared/fixtures)",
            pytrace=False,
        )
    if not path.exists():
        pytest.fail(f"fixture {path.relative_to(FIXTURES)} is missing from {FIXTURES}", pytrace=False)
    return path
