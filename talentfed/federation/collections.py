"""Paged OrderedCollections: the outline and its pages (`?page=N`, N from 1)."""

from __future__ import annotations

from typing import Any

from talentfed.federation.context import PUBLISHED_CONTEXT

PAGE_SIZE = 20


def ordered_collection(collection_id: str, total: int) -> dict[str, Any]:
    """The collection itself: its size and a link to its first page (no items inline)."""
    document: dict[str, Any] = {
        "@context": PUBLISHED_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if total:
        document["first"] = f"{collection_id}?page=1"
        document["last"] = f"{collection_id}?page={last_page(total)}"
    return document


def inline_collection(collection_id: str, items: list[Any]) -> dict[str, Any]:
    """The whole collection with its items inline and no pages: for short lists (featured)
    and for archives."""
    return {
        "@context": PUBLISHED_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def collection_page(collection_id: str, page: int, total: int, items: list[Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": PUBLISHED_CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    }
    if page < last_page(total):
        document["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{collection_id}?page={page - 1}"
    return document


def last_page(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


def parse_page(raw: str | None) -> int | None:
    """None when no page was asked for; ValueError for anything but a positive integer."""
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"page: expected a positive integer, got {raw!r}")
    return int(raw)
