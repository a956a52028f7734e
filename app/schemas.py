"""What every request body schema shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request body: unknown fields are refused (422), never silently dropped, so a
    client cannot set what the server sets (ids, statuses, recorded times)."""

    model_config = ConfigDict(extra="forbid")
