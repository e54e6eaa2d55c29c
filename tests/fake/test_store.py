"""The store's buffered writes keep the transaction rules: what a failed savepoint wrote is gone,
whether its rows were still buffered or already written, and every read sees buffered rows.
(Through the Store's own methods: this is the storage layer under test, not a client's view.)"""
import pytest

from fake_salesforce.schema import load_schema
from fake_salesforce.store import FLUSH_ROWS, Store


class Refused(Exception):
    pass


@pytest.fixture
def store():
    s = Store(load_schema())
    yield s
    s.close()


def _row(store, name, **extra):
    return {"Id": f"003{name:0>15}", "LastName": name, "IsDeleted": 0, **extra}


def _names(store):
    return [r[0] for r in store.execute('SELECT LastName FROM "Contact" ORDER BY Id')]


def test_failed_savepoints_leave_nothing_buffered_or_written(store):
    contact = store.schema.get("Contact")
    with store.transaction():
        store.insert(contact, _row(store, "a"))
        with pytest.raises(Refused):
            with store.transaction():                  # only buffered rows: dropped
                store.insert(contact, _row(store, "b"))
                raise Refused
        with pytest.raises(Refused):
            with store.transaction():                  # rows written by a read, then an update
                store.insert(contact, _row(store, "c"))
                assert store.get(contact, _row(store, "c")["Id"])["LastName"] == "c"
                store.update(contact, _row(store, "a")["Id"], {"Title": "changed"})
                store.insert(contact, _row(store, "d"))
                raise Refused
        with store.transaction():
            store.insert(contact, _row(store, "e"))
        assert store.count(contact) == 2               # a read inside sees the buffered rows
    assert _names(store) == ["a", "e"]
    assert store.get(contact, _row(store, "a")["Id"])["Title"] is None


def test_an_outer_failure_undoes_flushed_and_buffered_rows(store):
    contact = store.schema.get("Contact")
    with pytest.raises(Refused):
        with store.transaction():
            for i in range(FLUSH_ROWS + 10):
                with store.transaction():
                    store.insert(contact, _row(store, f"r{i:06d}"))
                store.flush_if_large()
            raise Refused
    assert store.count(contact) == 0
    with store.transaction():
        for i in range(FLUSH_ROWS + 10):
            store.insert(contact, _row(store, f"r{i:06d}", Title=None if i % 2 else "even"))
            store.flush_if_large()
    assert store.count(contact) == FLUSH_ROWS + 10
    assert _names(store)[:3] == ["r000000", "r000001", "r000002"]
    assert store.get(contact, _row(store, "r000002")["Id"])["Title"] == "even"
