"""Where the shared fixtures live: ``shared/fixtures`` beside the repository checkout.

`TALENTFED_FIXTURES` names another directory; a checkout cloned elsewhere (CI's fresh
clone in a temporary directory) falls back to the workplace copy at /work/shared/fixtures.

Tests call `fixture()` rather than joining paths themselves, so a missing
directory fails the test with a message instead of an obscure file error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_CANDIDATES = [
    os.environ.get("TALENTFED_FIXTURES", ""),
    str(Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"),
    "/work/shared/fixtures",
]
FIXTURES: Path = next(
    (Path(c).resolve() for c in _CANDIDATES if c and Path(c).is_dir()),
    Path(_CANDIDATES[1]).resolve(),
)


def fixture(*parts: str) -> Path:
    """``FIXTURES / parts``; fails the calling test clearly when it is not there."""
    path = FIXTURES.joinpath(*parts)
    if not FIXTURES.is_dir():
        pytest.fail(
            f"shared fixtures directory not found at {FIXTURES}: it must sit beside the "
            "repository checkout (../shared/fixtures), or TALENTFED_FIXTURES must name it",
            pytrace=False,
        )
    if not path.exists():
        pytest.fail(f"fixture {path.relative_to(FIXTURES)} is missing from {FIXTURES}", pytrace=False)
    return path
