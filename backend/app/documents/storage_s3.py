"""Originals in an S3-compatible bucket (AWS S3, Cloudflare R2, Supabase Storage, MinIO):
multipart uploads and streamed reads through aiobotocore."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.documents.original_store import PIECE_BYTES, S3, OriginalMissing

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from types_aiobotocore_s3 import S3Client

# Every part of a multipart upload but the last must be at least 5 MiB.
PART_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    def key(self, document_id: uuid.UUID) -> str:
        return f"{self.prefix}{document_id}"


class S3Store:
    """Originals as objects `<S3_PREFIX><document id>` in an S3-compatible bucket."""

    kind = S3

    def __init__(self, client: S3Client, location: S3Location) -> None:
        self._client = client
        self._location = location

    async def write(self, session: AsyncSession, *, document_id: uuid.UUID, data: bytes) -> None:
        view = memoryview(data)

        async def parts() -> AsyncIterator[bytes]:
            for start in range(0, len(view), PART_BYTES):
                yield bytes(view[start : start + PART_BYTES])

        await self.write_pieces(session, document_id=document_id, pieces=parts())

    async def write_pieces(
        self, session: AsyncSession, *, document_id: uuid.UUID, pieces: AsyncIterable[bytes]
    ) -> int:
        key = self._location.key(document_id)
        bucket = self._location.bucket
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        etags: list[str] = []
        try:
            async for piece in pieces:
                buffer += piece
                size += len(piece)
                while len(buffer) >= PART_BYTES:
                    if upload_id is None:
                        created = await self._client.create_multipart_upload(Bucket=bucket, Key=key)
                        upload_id = created["UploadId"]
                    part = await self._client.upload_part(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=len(etags) + 1,
                        Body=bytes(buffer[:PART_BYTES]),
                    )
                    etags.append(part["ETag"])
                    del buffer[:PART_BYTES]
            if upload_id is None:
                await self._client.put_object(Bucket=bucket, Key=key, Body=bytes(buffer))
                return size
            if buffer:
                part = await self._client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=len(etags) + 1,
                    Body=bytes(buffer),
                )
                etags.append(part["ETag"])
            await self._client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [
                        {"ETag": etag, "PartNumber": number}
                        for number, etag in enumerate(etags, start=1)
                    ]
                },
            )
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await self._client.abort_multipart_upload(
                        Bucket=bucket, Key=key, UploadId=upload_id
                    )
            raise
        return size

    async def open(self, *, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            response = await self._client.get_object(
                Bucket=self._location.bucket, Key=self._location.key(document_id)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise OriginalMissing(document_id) from None
            raise
        return _body_pieces(response["Body"])

    async def read_pieces(self, *, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        async for piece in await self.open(document_id=document_id):
            yield piece

    async def remove(self, *, document_id: uuid.UUID) -> None:
        await self._client.delete_object(
            Bucket=self._location.bucket, Key=self._location.key(document_id)
        )


async def _body_pieces(body: StreamingBody) -> AsyncIterator[bytes]:
    try:
        async for piece in body.iter_chunks(PIECE_BYTES):
            yield piece
    finally:
        body.close()


@contextlib.asynccontextmanager
async def s3_client(settings: Settings) -> AsyncIterator[S3Client]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(
        s3={"addressing_style": "path" if settings.s3_force_path_style else "auto"},
        # Checksums only where S3 requires them: several S3-compatible stores reject the
        # CRC headers newer SDKs add to every request.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=config,
    ) as client:
        yield client
