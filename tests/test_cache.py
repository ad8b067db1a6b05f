import multiprocessing as mp

from hwaware.estimators.cache import PredictionCache


def test_roundtrip_and_persistence(tmp_path):
    c = PredictionCache(tmp_path / "p.sqlite")
    c.put_many({"a": (1.0, 2.0, 3.0), "b": (4.0, 5.0, 6.0)})
    assert c.get_many(["a", "b", "c"]) == {"a": (1.0, 2.0, 3.0), "b": (4.0, 5.0, 6.0)}
    fresh = PredictionCache(tmp_path / "p.sqlite")
    assert fresh.get_many(["b"]) == {"b": (4.0, 5.0, 6.0)} and len(fresh) == 2
    fresh.clear()
    assert len(PredictionCache(tmp_path / "p.sqlite")) == 0


def test_three_and_four_numbers_share_the_table_and_clear_drops_the_old_one(tmp_path):
    """The CPU estimator caches three numbers a layer, resperfnet-gpu from 8.2 four (its floor's ms): both come back
    from disk as written. ``clear`` drops the table of files written before 8.2, whose rows no key reads."""
    import sqlite3

    path = tmp_path / "p.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE predictions (key TEXT PRIMARY KEY, pre REAL, exe REAL, post REAL)")
    PredictionCache(path).put_many({"cpu": (1.0, 2.0, 3.0), "gpu": (0.5, 2.0, 0.0, 1.5)})
    fresh = PredictionCache(path)
    assert fresh.get_many(["cpu", "gpu"]) == {"cpu": (1.0, 2.0, 3.0), "gpu": (0.5, 2.0, 0.0, 1.5)} and len(fresh) == 2
    assert list(tmp_path.glob("*corrupt*")) == []
    fresh.clear()
    with sqlite3.connect(path) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
            "layer_predictions"]


def test_memory_only_cache_is_bounded():
    c = PredictionCache(None, maxsize=2)
    c.put_many({"a": (1, 1, 1), "b": (2, 2, 2), "c": (3, 3, 3)})
    assert set(c.get_many(["a", "b", "c"])) == {"b", "c"}


def test_corrupt_file_heals(tmp_path):
    path = tmp_path / "p.sqlite"
    path.write_bytes(b"garbage, not a database" * 100)
    c = PredictionCache(path)
    c.put_many({"k": (1.0, 1.0, 1.0)})
    assert PredictionCache(path).get_many(["k"]) == {"k": (1.0, 1.0, 1.0)}
    assert list(tmp_path.glob("p.sqlite.corrupt-*"))  # moved aside, not deleted


def _writer(path: str, worker: int) -> None:
    c = PredictionCache(path)
    for i in range(0, 300, 10):
        c.put_many({f"w{worker}-{j}": (float(worker), float(j), 0.0) for j in range(i, i + 10)})
        c.get_many([f"w{(worker + 1) % 4}-{i}"])


def test_several_processes_write_one_file(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    PredictionCache(path).put_many({"seed": (0.0, 0.0, 0.0)})
    procs = [mp.get_context("spawn").Process(target=_writer, args=(path, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    c = PredictionCache(path)
    got = c.get_many([f"w{w}-{j}" for w in range(4) for j in range(300)])
    assert len(got) == 1200 and got["w3-299"] == (3.0, 299.0, 0.0)


def test_info_and_clear_give_the_space_back(tmp_path):
    from hwaware.estimators.cache import cache_info, clear_cache

    path = tmp_path / "p.sqlite"
    assert cache_info(path).entries == 0 and not path.exists()  # asking creates no file
    PredictionCache(path).put_many({f"k{i}": (float(i), 0.0, 0.0) for i in range(5000)})
    full = cache_info(path)
    assert full.path == path and full.entries == 5000 and full.bytes > 100_000
    other = PredictionCache(path)  # a user still holding the cache open sees it empty, not broken
    assert other.get_many(["k0"]) == {"k0": (0.0, 0.0, 0.0)}  # its connection is open
    clear_cache(path)
    empty = cache_info(path)
    assert empty.entries == 0 and empty.bytes < full.bytes / 4 and other.get_many(["k1"]) == {}
    other.put_many({"k1": (1.0, 0.0, 0.0)})
    assert cache_info(path).entries == 1


def _live_bytes(path) -> int:
    import sqlite3

    with sqlite3.connect(path) as db:
        size, pages, free = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count",
                                                                                 "freelist_count"))
    return (pages - free) * size


def test_disk_cache_is_capped_oldest_rows_first(tmp_path, monkeypatch):
    """HWAWARE_CACHE_MAX_MB bounds each file's live rows: the oldest-written go, a rewritten row counts as new."""
    path = tmp_path / "p.sqlite"
    monkeypatch.setenv("HWAWARE_CACHE_MAX_MB", "0.2")
    c = PredictionCache(path)
    for i in range(0, 20_000, 200):
        c.put_many({f"key-{j:06d}-{'x' * 40}": (float(j), 0.0, 0.0) for j in range(i, i + 200)})
        c.put_many({f"key-{0:06d}-{'x' * 40}": (0.0, 0.0, 0.0)})  # rewritten at every step: never the oldest
    fresh = PredictionCache(path)
    kept = len(fresh)
    assert 0 < kept < 20_000 and _live_bytes(path) <= 0.2e6
    newest = [f"key-{j:06d}-{'x' * 40}" for j in range(19_800, 20_000)]
    assert len(fresh.get_many(newest)) == 200
    assert fresh.get_many([f"key-{1:06d}-{'x' * 40}"]) == {}  # written first, never again
    assert fresh.get_many([f"key-{0:06d}-{'x' * 40}"]) == {f"key-{0:06d}-{'x' * 40}": (0.0, 0.0, 0.0)}
    monkeypatch.setenv("HWAWARE_CACHE_MAX_MB", "inf")
    fresh.put_many({f"more-{j}": (1.0, 0.0, 0.0) for j in range(20_000)})
    assert len(PredictionCache(path)) == kept + 20_000  # no cap: nothing deleted


def test_graph_cache_is_capped_too(tmp_path, monkeypatch):
    from hwaware.graph.cache import GraphCache
    from hwaware.graph.layer import Graph

    monkeypatch.setenv("HWAWARE_CACHE_MAX_MB", "0.05")
    c = GraphCache(tmp_path / "g.sqlite", maxsize=1)
    for i in range(2_000):
        c.put(f"g{i}", Graph(f"net{i}", [], (1, 3, 8, 8), "fp32", i, "torch"))
    fresh = GraphCache(tmp_path / "g.sqlite")
    assert fresh.get("g0") is None and fresh.get("g1999").total_params == 1999
    assert _live_bytes(tmp_path / "g.sqlite") <= 0.05e6


def test_bad_cache_cap_is_one_line(tmp_path, monkeypatch):
    import pytest

    from hwaware.errors import InvalidArgumentError

    for value in ("0", "-5", "lots", "nan"):
        monkeypatch.setenv("HWAWARE_CACHE_MAX_MB", value)
        with pytest.raises(InvalidArgumentError, match="HWAWARE_CACHE_MAX_MB=.* is not a positive number"):
            PredictionCache(tmp_path / "p.sqlite").put_many({"k": (1.0, 0.0, 0.0)})


def test_a_trim_gives_its_wal_back(tmp_path, monkeypatch):
    """A trim rewrote most index pages into the WAL, which SQLite kept at that size: at a 20 MB cap the database
    stayed at 20 MB with a 15 MB WAL beside it (review helper-112). Keys as the estimator writes them (random order)."""
    import hashlib
    import os

    from hwaware.sqlite_store import WAL_LIMIT

    monkeypatch.setenv("HWAWARE_CACHE_MAX_MB", "20")
    path = tmp_path / "p.sqlite"
    c = PredictionCache(path, maxsize=10)
    for i in range(0, 150_000, 1_000):
        c.put_many({f"resperfnet-gpu:9:{hashlib.sha1(str(j).encode()).hexdigest()}:conv2d(k=3,s=1,p=1)": (1.0, 2.0, 3.0)
                    for j in range(i, i + 1_000)})
    assert _live_bytes(path) <= 20e6 and os.path.getsize(path) <= 21e6  # trimmed more than once
    assert len(c) < 150_000 and os.path.getsize(f"{path}-wal") <= WAL_LIMIT  # journal_size_limit's doing, mostly
    monkeypatch.setenv("HWAWARE_CACHE_MAX_MB", "5")  # one more write trims a quarter of the file, nobody else reading
    c.put_many({"last": (1.0, 2.0, 3.0)})
    assert os.path.getsize(f"{path}-wal") < 1e6  # the trim's pages checkpointed and the WAL truncated (helper-113)


def test_a_file_locked_by_another_process_is_not_moved_aside(tmp_path, monkeypatch):
    """'database is locked' (another process writing past the busy timeout) is an OperationalError, a DatabaseError:
    the shared, healthy file was moved aside as corrupt (review helper-113). The write is skipped instead."""
    import sqlite3

    import hwaware.sqlite_store as store

    monkeypatch.setattr(store, "BUSY_MS", 50)
    path = tmp_path / "p.sqlite"
    PredictionCache(path).put_many({"a": (1.0, 0.0, 0.0)})
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process writing
    c = PredictionCache(path)
    c.put_many({"b": (2.0, 0.0, 0.0)})  # locked: skipped, kept in memory
    assert c.get_many(["b"]) == {"b": (2.0, 0.0, 0.0)} and not list(tmp_path.glob("*corrupt*"))
    other.execute("COMMIT")
    c.put_many({"c": (3.0, 0.0, 0.0)})
    assert PredictionCache(path).get_many(["a", "c"]) == {"a": (1.0, 0.0, 0.0), "c": (3.0, 0.0, 0.0)}
