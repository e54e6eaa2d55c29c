"""Record ids: checksums, 15/18 characters, prefixes, determinism."""
import pytest

from fake_salesforce.ids import IdGenerator, checksum, to18


@pytest.mark.parametrize("id15, id18", [
    ("001000000000001", "001000000000001AAA"),
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),   # bits: A at 3 -> I; none -> A; V at 1 -> C
    ("00QXYZ000000ABC", "00QXYZ000000ABC2B2"),   # QXY at 2,3,4 -> 28 -> 2; Z at 0 -> B; ABC at 2,3,4 -> 2
])
def test_checksum(id15, id18):
    assert to18(id15) == id18
    assert to18(id18) == id18
    assert checksum(id15) == id18[15:]


@pytest.mark.parametrize("bad", ["", "123", "001000000000001AAB", "00100000000000!", None, 42])
def test_not_ids(bad):
    assert to18(bad) is None


def test_same_seed_same_ids_and_creation_order():
    a, b = IdGenerator(7), IdGenerator(7)
    first = [a.next("003") for _ in range(3)]
    assert first == [b.next("003") for _ in range(3)]
    assert first == sorted(first)
    assert IdGenerator(8).next("003") != first[0]


def test_ids_of_an_org_are_deterministic(fake_org, sf):
    fake_org.control.reset(seed=42)
    sf = fake_org.client()
    first = sf.Contact.create({"LastName": "A"})["id"]
    fake_org.control.reset(seed=42)
    sf = fake_org.client()
    assert sf.Contact.create({"LastName": "A"})["id"] == first
    assert first.startswith("003") and to18(first) == first


def test_generated_ids_carry_their_checksum_across_counter_boundaries():
    """The generator reuses the first 13 characters between ids: every id must still be the
    layout with its own checksum, including where the reused part changes."""
    gen = IdGenerator("boundaries")
    gen.resume(3844 * 62 - 3)
    ids = [gen.next(prefix) for _ in range(8) for prefix in ("003", "001")]
    assert all(to18(i[:15]) == i for i in ids)
    assert [i[6:15] for i in ids[::2]] == sorted(i[6:15] for i in ids[::2])
    assert len(set(ids)) == len(ids)
