"""Reading an ID3v2.3 tag byte by byte, without mutagen: what is really stored, in what order."""

from __future__ import annotations


def syncsafe(four_bytes: bytes) -> int:
    value = 0
    for byte in four_bytes:
        assert byte < 0x80, "syncsafe bytes have the top bit clear"
        value = (value << 7) | byte
    return value


def id3v2_tag_size(data: bytes) -> int:
    """Bytes taken by the ID3v2 tag at the start of ``data`` (header + frames + padding), 0 if none."""
    if data[:3] != b"ID3":
        return 0
    return 10 + syncsafe(data[6:10])


def raw_frames(data: bytes) -> list[tuple[str, bytes]]:
    """(frame id, body) of each top-level frame of the ID3v2.3 tag, in file order.

    v2.3 frame header: 4-byte id, 4-byte big-endian size (NOT syncsafe, unlike v2.4), 2-byte flags.
    """
    assert data[:3] == b"ID3", "file starts with an ID3v2 tag"
    assert data[3:5] == b"\x03\x00", "tag is ID3v2.3.0"
    assert data[5] == 0, "no unsynchronisation, extended header or experimental flag"
    end = id3v2_tag_size(data)
    frames, pos = [], 10
    while pos + 10 <= end and data[pos:pos + 4] != b"\x00\x00\x00\x00":  # zeros: padding starts
        frame_id = data[pos:pos + 4].decode("ascii")
        size = int.from_bytes(data[pos + 4:pos + 8], "big")
        frames.append((frame_id, data[pos + 10:pos + 10 + size]))
        pos += 10 + size
    assert pos <= end, "frames stay inside the tag"
    assert not data[pos:end].strip(b"\x00"), "only zero padding after the last frame"
    return frames


def raw_chapters(data: bytes) -> list[tuple[str, int, int]]:
    """(element id, start ms, end ms) of each CHAP frame, in file order."""
    chapters = []
    for frame_id, body in raw_frames(data):
        if frame_id == "CHAP":
            element_id, _, rest = body.partition(b"\x00")
            start_ms, end_ms, start_offset, end_offset = (
                int.from_bytes(rest[i:i + 4], "big") for i in range(0, 16, 4)
            )
            assert (start_offset, end_offset) == (0xFFFFFFFF, 0xFFFFFFFF)
            chapters.append((element_id.decode("latin-1"), start_ms, end_ms))
    return chapters
