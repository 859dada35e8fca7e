"""The shape of this node's URLs: one place that says where each local thing lives.

Both the web routes and the document builders use these, so an id we publish is
always a URL we answer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalURIs:
    base_url: str

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    def profile_page(self, username: str) -> str:
        return f"{self.base_url}/@{username}"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    def object(self, object_id: str) -> str:
        return f"{self.base_url}/objects/{object_id}"

    def media(self, name: str) -> str:
        """A stored picture (domain/media.py, storage/media_files.py)."""
        return f"{self.base_url}/media/{name}"

    def activity(self, activity_id: str) -> str:
        return f"{self.base_url}/activities/{activity_id}"
