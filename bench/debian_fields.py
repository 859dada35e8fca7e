"""Build the semantic-matching evaluation set from Debian's package lists (bench/semantic.py).

Real public data that any Debian machine can make with its ordinary client, no other download:

- `Packages` (bookworm main, amd64): each package's debtags; we keep the `field::` facet
  (biology, chemistry, mathematics, physics, statistics, astronomy, medicine, electronics,
  geography, linguistics, arts, ...), the research field a package serves;
- `Translation-en`: each package's description (keyed by its `Description-md5`);
- `Translation-<lang>`: the Debian Description Translation Project's translations of the same
  descriptions (zh_CN, zh_TW, de, es, fr, it, ja, ru, pt_BR, nl, pl), where one exists.

A package is kept when it has a `field::` tag and an English description; packages with the
same description (the -data, -doc, -dev splits of one project) are kept once, so a query never
finds its own text under another name. Relevance is held out: the tags are never shown to the
methods, which see descriptions only; two packages are relevant to each other when they share a
field. The result is bench/data/debian_fields.jsonl (committed: the evaluation is then the same
on every machine), one package a line: name, fields, description by language.

Run (needs `apt-get update -o Acquire::Languages=en,zh_CN,zh_TW,de,es,fr,it,ja,ru,pt_BR,nl,pl`):

    python bench/debian_fields.py
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

LISTS = Path("/var/lib/apt/lists")
PREFIX = "deb.debian.org_debian_dists_bookworm_main_"
LANGUAGES = ("zh_CN", "zh_TW", "de", "es", "fr", "it", "ja", "ru", "pt_BR", "nl", "pl")
OUT = Path(__file__).parent / "data" / "debian_fields.jsonl"
MIN_FIELD_SIZE = 5  # a field with fewer packages has too few relevant items to rank


def read_list(name: str) -> list[dict[str, str]]:
    """One apt list (lz4 or plain, through apt's own reader) as a list of stanzas."""
    path = next(iter(sorted(LISTS.glob(PREFIX + name + "*"))), None)
    if path is None:
        raise SystemExit(f"no {name} list in {LISTS}: run apt-get update with the languages above")
    text = subprocess.run(
        ["/usr/lib/apt/apt-helper", "cat-file", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [_stanza(block) for block in text.split("\n\n") if block.strip()]


def _stanza(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in block.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += "\n" + line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def description(raw: str) -> str:
    """A Debian description as plain text: the synopsis, then the long text ('.' lines are
    paragraph breaks)."""
    lines = [line.strip() for line in raw.splitlines()]
    synopsis, body = lines[0], [line for line in lines[1:] if line != "."]
    return re.sub(r"\s+", " ", synopsis.rstrip(".") + ". " + " ".join(body)).strip()


def main() -> None:
    tagged: dict[str, tuple[str, list[str]]] = {}  # md5 → (package, fields)
    for stanza in read_list("binary-amd64_Packages"):
        fields = sorted(
            {
                tag.split(":")[2]
                for tag in re.split(r"[,\s]+", stanza.get("Tag", ""))
                if tag.startswith("field::")
            }
        )
        md5 = stanza.get("Description-md5", "")
        if fields and md5 and md5 not in tagged:
            tagged[md5] = (stanza["Package"], fields)
    texts: dict[str, dict[str, str]] = {md5: {} for md5 in tagged}
    for language in ("en", *LANGUAGES):
        for stanza in read_list(f"i18n_Translation-{language.replace('_', '%5f')}"):
            md5 = stanza.get("Description-md5", "")
            if md5 in texts and f"Description-{language}" in stanza:
                texts[md5].setdefault(language, description(stanza[f"Description-{language}"]))
    rows = [
        {"package": package, "fields": fields, "text": texts[md5]}
        for md5, (package, fields) in sorted(tagged.items(), key=lambda item: item[1][0])
        if "en" in texts[md5]
    ]
    sizes: dict[str, int] = {}
    for row in rows:
        for field in row["fields"]:
            sizes[field] = sizes.get(field, 0) + 1
    for row in rows:
        row["fields"] = [field for field in row["fields"] if sizes[field] >= MIN_FIELD_SIZE]
    rows = [row for row in rows if row["fields"]]
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = {language: sum(language in row["text"] for row in rows) for language in ("en", *LANGUAGES)}
    print(f"{len(rows)} packages in {len({f for r in rows for f in r['fields']})} fields -> {OUT}")
    print("descriptions by language:", counts)


if __name__ == "__main__":
    main()
