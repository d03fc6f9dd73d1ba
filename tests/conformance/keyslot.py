"""Redis Cluster key slots (CRC16/XMODEM of the key or of its {hash tag}, modulo 16384)."""


def _table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _table()


def crc16(data):
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def key_slot(key):
    """The slot of a key (bytes or latin-1 str), hash tags as Redis: the first {...} non-empty."""
    if isinstance(key, str):
        key = key.encode("latin-1")
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc16(key) % 16384


def same_slot(keys):
    return len({key_slot(k) for k in keys}) <= 1


assert crc16(b"123456789") == 0x31C3  # the reference check value of CRC16/XMODEM
