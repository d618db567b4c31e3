import io
import os
import tracemalloc
import zipfile

import pytest

from app.documents.bounded_zip import (
    PIECE_BYTES,
    ArchiveError,
    ArchiveLimits,
    ArchiveTooLarge,
    BoundedZip,
)
from tests.hostile_files import DOCUMENT_PART, lying_docx

LIMITS = ArchiveLimits(max_entries=50, max_total_bytes=4 * 1024 * 1024)


def archive(
    entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED, **kwargs: int
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression, **kwargs) as target:
        for name, content in entries.items():
            target.writestr(name, content)
    return buffer.getvalue()


def test_members_read_back_exactly_in_bounded_pieces() -> None:
    random = os.urandom(300_000)
    text = b"canal barges " * 100_000
    for compression in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        zipped = BoundedZip(archive({"a.bin": random, "b.txt": text}, compression), LIMITS)
        assert zipped.names() == ["a.bin", "b.txt"]
        pieces = list(zipped.iter_member("b.txt"))
        assert b"".join(pieces) == text
        assert max(len(piece) for piece in pieces) <= PIECE_BYTES
        assert zipped.read("a.bin") == random


def test_a_member_that_inflates_past_its_declared_size_stops_at_once() -> None:
    """The 500 MB attack, scaled: zipfile.read() inflated the whole member before checking."""
    data = lying_docx(64 * 1024 * 1024)
    zipped = BoundedZip(data, ArchiveLimits())
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveTooLarge, match="past its declared size"):
            zipped.read(DOCUMENT_PART)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024  # zipfile.read() held all 64 MB


def test_declared_sizes_over_the_budget_are_refused_before_inflating() -> None:
    with pytest.raises(ArchiveTooLarge, match="declared"):
        BoundedZip(archive({f"{i}.txt": b"x" * 1024 * 1024 for i in range(5)}), LIMITS)


def test_the_budget_counts_bytes_actually_inflated_across_reads() -> None:
    zipped = BoundedZip(archive({"a.txt": b"a" * 3 * 1024 * 1024}), LIMITS)
    zipped.read("a.txt")
    with pytest.raises(ArchiveTooLarge, match="inflated size"):
        zipped.read("a.txt")


def test_too_many_entries() -> None:
    with pytest.raises(ArchiveTooLarge, match="51 entries"):
        BoundedZip(archive({f"{i}.txt": b"" for i in range(51)}), LIMITS)


def test_a_large_member_compressed_beyond_the_ratio_is_a_bomb() -> None:
    limits = ArchiveLimits(large_member_bytes=1024 * 1024, max_compression_ratio=100)
    with pytest.raises(ArchiveTooLarge, match="compressed"):
        BoundedZip(archive({"zeros.bin": bytes(2 * 1024 * 1024)}), limits)


def test_a_repeated_name_counts_every_entry() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("same.xml", b"a" * 3 * 1024 * 1024)
        with pytest.warns(UserWarning, match="Duplicate name"):
            target.writestr("same.xml", b"b" * 3 * 1024 * 1024)
    with pytest.raises(ArchiveTooLarge, match="declared"):
        BoundedZip(buffer.getvalue(), LIMITS)
    zipped = BoundedZip(buffer.getvalue(), ArchiveLimits(max_total_bytes=7 * 1024 * 1024))
    assert zipped.read("same.xml") == b"b" * 3 * 1024 * 1024  # the last entry, as zipfile
    with pytest.raises(ArchiveTooLarge, match="inflated size"):
        zipped.verify()  # both entries: 3 + 6 MB


def test_damage_is_an_archive_error_not_a_bomb() -> None:
    good = archive({"a.txt": b"canal barges " * 10_000})
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("a.txt")
    data_start = info.header_offset + 30 + len("a.txt")
    corrupted = bytearray(good)
    corrupted[data_start + 20 : data_start + 40] = os.urandom(20)
    cases = {
        "not a zip": b"PK\x03\x04 nothing else",
        "empty": b"",
        "corrupted deflate data": bytes(corrupted),
    }
    for label, data in cases.items():
        with pytest.raises(ArchiveError) as raised:
            BoundedZip(data, LIMITS).verify()
        assert not isinstance(raised.value, ArchiveTooLarge), label


def test_crc_mismatch_is_damage() -> None:
    good = bytearray(archive({"a.txt": b"canal"}, zipfile.ZIP_STORED))
    info = zipfile.ZipFile(io.BytesIO(bytes(good))).getinfo("a.txt")
    data_start = info.header_offset + 30 + len("a.txt")
    good[data_start] = ord("C")
    with pytest.raises(ArchiveError, match="damaged"):
        BoundedZip(bytes(good), LIMITS).read("a.txt")


def test_unusual_compression_and_missing_members_are_errors() -> None:
    zipped = BoundedZip(archive({"a.txt": b"canal " * 1000}, zipfile.ZIP_BZIP2), LIMITS)
    with pytest.raises(ArchiveError, match="compression method"):
        zipped.read("a.txt")
    with pytest.raises(ArchiveError, match="no member"):
        zipped.read("b.txt")
