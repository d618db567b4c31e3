"""Files built to exhaust the ingestion pipeline, shared by the tests and bench/hostile.py."""

from __future__ import annotations

import io
import struct
import zipfile

DOCUMENT_PART = "word/document.xml"
LYING_DECLARED_SIZE = 4096
LOREM_LINE = "lorem ipsum dolor sit amet "
PIECE = 1024 * 1024


def one_line_text(size_bytes: int) -> bytes:
    """``"lorem ipsum dolor sit amet " * n``: one line, no sentence end, ``size_bytes`` long."""
    return (LOREM_LINE * (size_bytes // len(LOREM_LINE) + 1)).encode()[:size_bytes]


def lying_docx(inflated_bytes: int) -> bytes:
    """A real Word document whose ``word/document.xml`` inflates to ``inflated_bytes`` (a
    paragraph followed by whitespace) while the archive declares it as 4 kB. Built in
    streaming writes: the builder never holds the inflated part."""
    import docx

    document = docx.Document()
    document.add_paragraph("An ordinary paragraph about canal barges.")
    original = io.BytesIO()
    document.save(original)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(original) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename != DOCUMENT_PART:
                target.writestr(info.filename, content)
                continue
            head, tail = content.split(b"</w:body>")
            padding = inflated_bytes - len(content)
            part_info = zipfile.ZipInfo(DOCUMENT_PART)
            part_info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(part_info, "w") as part:
                part.write(head)
                for start in range(0, padding, PIECE):
                    part.write(b" " * min(PIECE, padding - start))
                part.write(b"</w:body>" + tail)
    return _declare_size(buffer.getvalue(), DOCUMENT_PART, LYING_DECLARED_SIZE)


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Overwrite the uncompressed size of ``name`` in its local header and in its central
    directory entry (found by scanning the directory's "PK\\1\\2" headers for the name)."""
    patched = bytearray(data)
    encoded = name.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    struct.pack_into("<I", patched, info.header_offset + 22, size)
    position = len(patched)
    while True:
        position = patched.rindex(b"PK\x01\x02", 0, position)
        name_length = struct.unpack_from("<H", patched, position + 28)[0]
        if patched[position + 46 : position + 46 + name_length] == encoded:
            break
    struct.pack_into("<I", patched, position + 24, size)
    return bytes(patched)
