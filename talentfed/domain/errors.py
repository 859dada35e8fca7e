"""The domain's refusals: each names the field it concerns, so a form can show the message
next to that field, the JSON API can return it as `field`, and the CLI can print one line."""

from __future__ import annotations


class FieldError(ValueError):
    """A change or a query refused because of one field; `str()` is "field: message"."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message
