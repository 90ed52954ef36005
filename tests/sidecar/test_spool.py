"""The spool: batches kept on disk in order, across restarts, within a size bound."""

from pathlib import Path

from monitor.sidecar.spool import Spool


def _drain(spool: Spool) -> list[bytes]:
    payloads = []
    while oldest := spool.oldest():
        batch, payload = oldest
        payloads.append(payload)
        spool.remove(batch)
    return payloads


def test_batches_come_back_oldest_first_after_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1000)
    for index in range(12):
        spool.append(f"batch {index}".encode(), records=1)
    reopened = Spool(tmp_path, max_bytes=1000)
    assert len(reopened) == 12
    assert _drain(reopened) == [f"batch {index}".encode() for index in range(12)]
    assert (len(reopened), reopened.bytes) == (0, 0)


def test_a_full_spool_drops_the_oldest_batches_and_counts_their_records(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=25)
    assert spool.append(b"a" * 10, records=3) == 0
    assert spool.append(b"b" * 10, records=4) == 0
    assert spool.append(b"c" * 10, records=5) == 3
    assert _drain(spool) == [b"b" * 10, b"c" * 10]


def test_a_batch_larger_than_the_spool_is_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=25)
    spool.append(b"a" * 10, records=3)
    assert spool.append(b"z" * 26, records=7) == 7
    assert _drain(spool) == [b"a" * 10]


def test_a_half_written_batch_is_not_replayed(tmp_path: Path) -> None:
    Spool(tmp_path, max_bytes=1000).append(b"whole", records=1)
    (tmp_path / "0000000000000001-5.batch.tmp").write_bytes(b"half")
    assert _drain(Spool(tmp_path, max_bytes=1000)) == [b"whole"]
