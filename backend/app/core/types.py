"""Pydantic field types shared by the request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _valid_unicode(value: str) -> str:
    # JSON may carry lone surrogates ("\udfff"), which no UTF-8 encoder (PostgreSQL's, Argon2's)
    # accepts: reject them as invalid input, not a 500 where the text is first encoded.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from None
    return value


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000: reject it as invalid input, not a 500 at INSERT.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


# Every string a request body carries is one of these two.
UnicodeText = Annotated[str, AfterValidator(_valid_unicode)]
TextIn = Annotated[UnicodeText, AfterValidator(_no_nul)]
