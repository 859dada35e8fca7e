"""The layers import downwards only (docs/architecture.md): nothing below web/ and cli/ imports
them, analytics/ is pure, and federation/ does not reach into domain/ or jobs/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "talentfed"
EDGES = ("talentfed.web", "talentfed.cli")
FORBIDDEN = {
    "jobs": EDGES,
    "domain": (*EDGES, "talentfed.jobs"),
    "federation": (*EDGES, "talentfed.jobs", "talentfed.domain"),
    "storage": (*EDGES, "talentfed.jobs", "talentfed.domain", "talentfed.federation"),
    "analytics": (*EDGES, "talentfed.jobs", "talentfed.domain", "talentfed.federation", "talentfed.storage"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update([node.module, *(f"{node.module}.{alias.name}" for alias in node.names)])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_no_layer_above_it(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"talentfed/{layer}/ has no modules"
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if module.startswith(FORBIDDEN[layer]) and module.split(".")[:2] != ["talentfed", layer]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from talentfed.web import app\n")
    assert "talentfed.web" in imported_modules(module)


@pytest.mark.parametrize(
    "module",
    [
        "kinds.py",
        "audiences.py",
        "text.py",
        "rate_limiter.py",
        *(f"observability/{p.name}" for p in sorted((PACKAGE / "observability").glob("*.py"))),
    ],
)
def test_the_bottom_modules_import_no_other_layer(module: str) -> None:
    """kinds.py holds rules that federation/ and domain/ share, so it can depend on neither;
    rate_limiter.py counts for any layer that needs it, and observability/ records for any
    layer (federation/ included, which may not import web/)."""
    ours = [name for name in imported_modules(PACKAGE / module) if name.startswith("talentfed")]
    assert ours == []
