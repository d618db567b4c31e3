"""Pydantic field types shared by the request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000: reject it as invalid input, not a 500 at INSERT.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


TextIn = Annotated[str, AfterValidator(_no_nul)]
