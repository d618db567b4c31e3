"""Read ZIP-based documents (DOCX today; XLSX, PPTX and EPUB are ZIPs too) without trusting
the sizes the archive declares.

The central directory states each member's compressed and uncompressed size, and both can
lie: a 510 kB DOCX whose ``word/document.xml`` declared 4 kB inflated to 500 MB, because
``zipfile.read`` inflates a member in one call and only then compares. Here a member is
inflated in pieces of ``PIECE_BYTES`` against a running budget, and reading stops, having
held one piece, as soon as a member produces more than it declares or the archive more than
its limit.

Typical use by a parser whose library reads the archive itself (python-docx, openpyxl ...)::

    archive = BoundedZip(data, ArchiveLimits())
    archive.verify()  # every member inflated once, sizes checked, nothing kept
    library.load(io.BytesIO(data))  # now inflates at most what was verified

or, to stream one member into an incremental parser, ``archive.iter_member(name)``.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

PIECE_BYTES = 64 * 1024
LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then the name and extra lengths
LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
ENCRYPTED_FLAG = 0x1
RAW_DEFLATE = -zlib.MAX_WBITS


class ArchiveError(Exception):
    """The archive is damaged, encrypted or uses a compression method documents never use."""


class ArchiveTooLarge(ArchiveError):
    """Too many members, too many bytes once inflated, or a member larger than it declares."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 10_000
    max_total_bytes: int = 200 * 1024 * 1024
    # A member this large that compresses better than max_compression_ratio is a bomb.
    large_member_bytes: int = 10 * 1024 * 1024
    max_compression_ratio: int = 100


class BoundedZip:
    """An archive in memory whose members are inflated piece by piece against ``limits``.

    The budget is shared by every read from this object: reading a member twice counts twice.
    """

    def __init__(self, data: bytes, limits: ArchiveLimits) -> None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                self._entries = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise ArchiveError("not a readable ZIP archive") from exc
        # A name listed twice means its last entry, as in zipfile.
        self._members = {info.filename: info for info in self._entries}
        self._data = memoryview(data)
        self._limits = limits
        self._inflated = 0
        if len(self._entries) > limits.max_entries:
            raise ArchiveTooLarge(f"{len(self._entries)} entries")
        if sum(info.file_size for info in self._entries) > limits.max_total_bytes:
            raise ArchiveTooLarge("declared sizes over the limit")
        for info in self._entries:
            self._check_ratio(info)

    def names(self) -> list[str]:
        return list(self._members)

    def verify(self) -> None:
        """Inflate every member once, keeping nothing: afterwards the declared sizes are known
        to be true and their total within the limit."""
        for info in self._entries:
            for _ in self._iter_entry(info):
                pass

    def read(self, name: str) -> bytes:
        return b"".join(self.iter_member(name))

    def iter_member(self, name: str) -> Iterator[bytes]:
        """The member's bytes in pieces of at most ``PIECE_BYTES``; raises ArchiveTooLarge
        before yielding a piece that breaks a limit, ArchiveError if the member is damaged."""
        try:
            info = self._members[name]
        except KeyError:
            raise ArchiveError(f"no member {name!r}") from None
        return self._iter_entry(info)

    def _iter_entry(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        if info.flag_bits & ENCRYPTED_FLAG:
            raise ArchiveError("encrypted member")
        compressed = self._compressed_bytes(info)
        if info.compress_type == zipfile.ZIP_STORED:
            pieces = (
                compressed[i : i + PIECE_BYTES] for i in range(0, len(compressed), PIECE_BYTES)
            )
            produced = self._checked(info, (bytes(piece) for piece in pieces))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            produced = self._checked(info, _inflate(compressed))
        else:
            raise ArchiveError(f"compression method {info.compress_type}")
        crc = 0
        size = 0
        for piece in produced:
            crc = zlib.crc32(piece, crc)
            size += len(piece)
            yield piece
        if size != info.file_size or crc != info.CRC:
            raise ArchiveError(f"{info.filename!r} is damaged")

    def _checked(self, info: zipfile.ZipInfo, pieces: Iterator[bytes]) -> Iterator[bytes]:
        size = 0
        for piece in pieces:
            size += len(piece)
            self._inflated += len(piece)
            if size > info.file_size:
                raise ArchiveTooLarge(f"{info.filename!r} inflates past its declared size")
            if self._inflated > self._limits.max_total_bytes:
                raise ArchiveTooLarge("inflated size over the limit")
            yield piece

    def _check_ratio(self, info: zipfile.ZipInfo) -> None:
        ratio = info.file_size / max(info.compress_size, 1)
        limits = self._limits
        if info.file_size > limits.large_member_bytes and ratio > limits.max_compression_ratio:
            raise ArchiveTooLarge(f"{info.filename!r} compressed {ratio:.0f}:1")

    def _compressed_bytes(self, info: zipfile.ZipInfo) -> memoryview:
        """The member's raw data, found through its local header (which may differ from the
        central directory's copy in everything but the name and extra lengths we read)."""
        start = info.header_offset
        header = self._data[start : start + LOCAL_HEADER.size]
        if len(header) < LOCAL_HEADER.size:
            raise ArchiveError("truncated archive")
        signature, name_length, extra_length = LOCAL_HEADER.unpack(header)
        if signature != LOCAL_HEADER_SIGNATURE:
            raise ArchiveError("bad local header")
        data_start = start + LOCAL_HEADER.size + name_length + extra_length
        data_end = data_start + info.compress_size
        if data_end > len(self._data):
            raise ArchiveError("truncated archive")
        return self._data[data_start:data_end]


def _inflate(compressed: memoryview) -> Iterator[bytes]:
    """Raw DEFLATE data inflated into pieces of at most PIECE_BYTES, never more at once."""
    decompressor = zlib.decompressobj(RAW_DEFLATE)
    try:
        for offset in range(0, len(compressed), PIECE_BYTES):
            pending = bytes(compressed[offset : offset + PIECE_BYTES])
            while pending and not decompressor.eof:
                piece = decompressor.decompress(pending, PIECE_BYTES)
                pending = decompressor.unconsumed_tail
                if piece:
                    yield piece
            # Output still held back after this input was consumed (at most one window).
            while not decompressor.eof and (piece := decompressor.decompress(b"", PIECE_BYTES)):
                yield piece
            if decompressor.eof:
                break
    except zlib.error as exc:
        raise ArchiveError("damaged compressed data") from exc
    if not decompressor.eof:
        raise ArchiveError("compressed data ends early")
