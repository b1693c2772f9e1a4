"""How long an episode is, without downloading it (for ``backfill --dry-run``).

In order: the feed's ``itunes:duration``; for MP3, the first frames read with a range request (a
Xing/Info/VBRI frame count is exact, a constant bitrate gives size × 8 / bitrate); else the size at
128 kbit/s, marked as an estimate.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from podwhisperer.runtime.feed.http import HttpClient, HttpError
from podwhisperer.runtime.feed.model import Episode

FALLBACK_BITRATE = 128_000
_BITRATES_V1_L3 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2_L3 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: float | None
    source: str  # itunes:duration | mp3 frames | mp3 bitrate | size at 128 kbit/s | unknown

    @property
    def estimated(self) -> bool:
        return self.source not in ("itunes:duration", "mp3 frames", "mp3 bitrate")


def episode_duration(episode: Episode, client: HttpClient) -> Duration:
    if episode.duration_seconds:
        return Duration(episode.duration_seconds, "itunes:duration")
    try:
        probe = client.probe(episode.enclosure.url)
        size = probe.size or episode.enclosure.length
        offset = id3v2_size(probe.head)
        head = probe.head[offset:]
        if offset and len(head) < 4096:  # a large tag (cover art): read the frames after it
            head = client.probe(episode.enclosure.url, start=offset).head
    except HttpError:
        size, offset, head = episode.enclosure.length, 0, b""
    if size:
        seconds = mp3_duration(head, size - offset)
        if seconds is not None:
            return Duration(seconds[0], seconds[1])
        return Duration(size * 8 / FALLBACK_BITRATE, "size at 128 kbit/s")
    return Duration(None, "unknown")


def id3v2_size(data: bytes) -> int:
    """Bytes taken by a leading ID3v2 tag (0 when there is none)."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


def mp3_duration(data: bytes, audio_bytes: int) -> tuple[float, str] | None:
    """(seconds, how) from the first MPEG layer III frame in ``data``, or None when there is none."""
    for position in range(max(0, len(data) - 4)):
        if data[position] != 0xFF or data[position + 1] & 0xE0 != 0xE0:
            continue
        frame = _frame(data, position)
        if frame is None:
            continue
        _, bitrate, sample_rate, samples, side_info = frame
        frames = _vbr_frame_count(data, position, side_info)
        if frames:
            return frames * samples / sample_rate, "mp3 frames"
        return (audio_bytes - position) * 8 / bitrate, "mp3 bitrate"
    return None


def _frame(data: bytes, position: int) -> tuple[int, int, int, int, int] | None:
    header = struct.unpack(">I", data[position:position + 4])[0]
    version = (header >> 19) & 3  # 3: MPEG1, 2: MPEG2, 0: MPEG2.5
    layer = (header >> 17) & 3  # 1: layer III
    bitrate_index = (header >> 12) & 15
    rate_index = (header >> 10) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    table = _BITRATES_V1_L3 if version == 3 else _BITRATES_V2_L3
    mono = (header >> 6) & 3 == 3
    side_info = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    samples = 1152 if version == 3 else 576
    return version, table[bitrate_index] * 1000, _SAMPLE_RATES[version][rate_index], samples, side_info


def _vbr_frame_count(data: bytes, position: int, side_info: int) -> int | None:
    xing = position + 4 + side_info
    if data[xing:xing + 4] in (b"Xing", b"Info") and len(data) >= xing + 12:
        flags = struct.unpack(">I", data[xing + 4:xing + 8])[0]
        if flags & 1:
            return int(struct.unpack(">I", data[xing + 8:xing + 12])[0])
    vbri = position + 4 + 32
    if data[vbri:vbri + 4] == b"VBRI" and len(data) >= vbri + 18:
        return int(struct.unpack(">I", data[vbri + 14:vbri + 18])[0])
    return None
