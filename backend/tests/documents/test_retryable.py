"""A failed document says whether reindexing can fix it (#18: a password-protected PDF
offered "Retry", which cannot succeed)."""

from __future__ import annotations

import httpx

from tests.conftest import pdf, register, upload_and_settle


async def test_a_password_protected_pdf_is_not_retryable(worker_client: httpx.AsyncClient) -> None:
    headers = await register(worker_client)

    encrypted = await upload_and_settle(worker_client, headers, *pdf("bad-encrypted.pdf"))
    empty = await upload_and_settle(
        worker_client, headers, "blank.md", b"   \n\n  ", "text/markdown"
    )

    assert encrypted["status"] == "failed"
    assert "password" in encrypted["error"]
    assert encrypted["retryable"] is False
    assert empty["status"] == "failed", empty
    assert empty["retryable"] is True
