"""FerretDB 1.24 and our indexes: `createIndexes` naming two or more indexes that exist
already made FerretDB panic ("slice bounds out of range" in validateIndexesForCreation,
FerretDB issue #3858) — on every restart of the service, and in `kontingentctl init`. The
store now creates one index a command (store/mongo/records.c, create_indexes); these runs
are what used to fail."""

import pytest

from conftest import TEST_VAR, LogWatch, run_ctl

pytestmark = pytest.mark.store("mongodb", reason="FerretDB's createIndexes")


def assert_no_panic(watch):
    text = watch.text()
    assert "slice bounds out of range" not in text and "panic" not in text.lower(), text[-2000:]


def test_init_twice_and_after_a_ferretdb_restart(store, mongo):
    watch = LogWatch(TEST_VAR / "log" / "ferretdb.log")
    before = {c: sorted(i["name"] for i in mongo[c].list_indexes())
              for c in ("students", "access_log", "organizations", "student_versions")}
    assert all(len(names) > 2 for names in before.values()), before  # _id_ and ours

    run_ctl("init")
    run_ctl("init")
    store.stop()
    store.start()
    run_ctl("init")
    assert_no_panic(watch)
    after = {c: sorted(i["name"] for i in mongo[c].list_indexes()) for c in before}
    assert after == before
