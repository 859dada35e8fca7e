"""masto.js's own declaration of Mastodon's entities, as a check on what we answer.

masto.js ships TypeScript declarations (node_modules/masto/dist/mastodon/entities/**/*.d.ts)
that say, for each entity, which attributes are always there (`name: type;`) and which may be
null (`| null`). Elk and Phanpy are written against them. `problems(value, "Status")` lists each
declared attribute that a parsed answer (keys camelCased by masto) lacks or has null where null
is not declared, recursing into attributes whose type is another declared entity.

The reading of the declarations is a plain one: `export interface` blocks and their one-line
attributes (an attribute declared over several lines is not checked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.interop.npm_projects import CLIENT_APPS

ENTITIES = CLIENT_APPS.directory / "node_modules" / "masto" / "dist" / "mastodon" / "entities"
_INTERFACE = re.compile(
    r"^(?:export )?interface (\w+)(?:<\w+>)?(?: extends (\w+))? \{\n(.*?)^\}", re.M | re.S
)
_ATTRIBUTE = re.compile(r"^    (\w+)(\??): (.+);$", re.M)
_NAMED = re.compile(r"^(\w+)(\[\])?$")


@dataclass(frozen=True)
class Attribute:
    owner: str  # the entity that declares it (CredentialAccount inherits Account's)
    optional: bool
    type: str

    @property
    def nullable(self) -> bool:
        return "null" in self.type.split(" | ")

    def entity(self) -> tuple[str, bool] | None:
        """(entity name, is a list) when the type is a declared entity or a list of one."""
        named = [part for part in self.type.split(" | ") if part not in ("null", "undefined")]
        match = _NAMED.match(named[0]) if len(named) == 1 else None
        if match and match.group(1) in declarations():
            return match.group(1), bool(match.group(2))
        return None


@cache
def declarations() -> dict[str, dict[str, Attribute]]:
    """Every entity masto.js declares (v1 and v2; where both declare a name, as Instance, v2's),
    with its attributes, inherited ones included. A notification is a `BaseNotification`."""
    found: dict[str, tuple[str | None, dict[str, Attribute]]] = {}
    for path in sorted(ENTITIES.glob("v1/*.d.ts")) + sorted(ENTITIES.glob("v2/*.d.ts")):
        for name, parent, body in _INTERFACE.findall(path.read_text()):
            declared = _ATTRIBUTE.findall(body)
            found[name] = (parent or None, {a: Attribute(name, o == "?", t.strip()) for a, o, t in declared})

    def resolved(name: str) -> dict[str, Attribute]:
        parent, attributes = found[name]
        return {**(resolved(parent) if parent in found else {}), **attributes}

    return {name: resolved(name) for name in found}


def problems(value: Any, entity: str, accepted: Mapping[str, str], where: str = "") -> list[str]:
    """What `value` lacks of masto.js's declaration of `entity`, each as `where.attribute: …`;
    attributes named in `accepted` (`Entity.attribute`: why we differ) are not checked."""
    where = where or entity
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    found: list[str] = []
    for name, attribute in declarations()[entity].items():
        declared = f"{attribute.owner}.{name}"
        if declared in accepted:
            continue
        if value.get(name) is None:
            if name not in value and not attribute.optional:
                found.append(f"{where}.{name}: missing ({declared})")
            elif name in value and not (attribute.optional or attribute.nullable):
                found.append(f"{where}.{name}: null ({declared})")
            continue
        nested = attribute.entity()
        if nested:
            kind, is_list = nested
            items = value[name] if is_list and isinstance(value[name], list) else [value[name]]
            for i, item in enumerate(items):
                found += problems(item, kind, accepted, f"{where}.{name}" + (f"[{i}]" if is_list else ""))
    return found
