"""Email addresses as account identifiers: one normal form for storing and comparing, and
refusal of addresses made to look like someone else's."""

from __future__ import annotations

import unicodedata

from confusable_homoglyphs import confusables
from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str) -> str:
    """The form stored in `users.email` and compared at sign-in: NFKC (fullwidth
    `\\uff35\\uff33...` is `US...`), trimmed, lower-case."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).strip().lower())


def valid_email(value: str) -> str:
    """The normal form of a syntactically valid address (an internationalized domain in one
    spelling, punycode or not); ValueError says what is wrong."""
    try:
        checked = validate_email(normalize_email(value), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address: {exc}") from None
    return normalize_email(checked.normalized)


def refuse_look_alike(email: str) -> str:
    """Refuse a normalized address whose local part or domain mixes scripts with characters
    that look alike (a Cyrillic `\\u0430` in a Latin name), the shape of an impersonation."""
    local, _, domain = email.rpartition("@")
    if confusables.is_dangerous(local) or confusables.is_dangerous(domain):
        raise ValueError(
            "mixes look-alike letters from different alphabets; "
            "type the address exactly as your mail provider shows it"
        )
    return email
