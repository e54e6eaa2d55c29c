"""What the fake keeps on first use so that filters stay fast in large orgs (trigram indexes for
``LIKE '%x%'``, per-object row counts for ``COUNT()``) never changes an answer: every result is
checked, through simple-salesforce, against what the records themselves say, across creates,
updates, deletes, a rolled-back batch and a reset."""
from __future__ import annotations

import re

import pytest

# Values of Title and Email: mixed case, non-ASCII letters (compared with their case, as the
# fake's LIKE folds ASCII letters only), LIKE's own wildcard characters, quotes, short values.
VALUES = ["Alpha.Beta@Example.com", "alpha_beta@example.org", "ALPHA%BETA", "xx alph yy", "Élan vital",
          "élan", "ab", None, "quote's \"dq\"", "50% off_sale", "tri", "TRIangle", "atrium", "a\\b tri"]
# SOQL LIKE literals (as written between the quotes of a query).
PATTERNS = ["%pha%", "%PHA.BE%", "%alpha\\_beta%", "%alpha_beta%", "%a\\%b%", "%élan%", "%Élan%",
            "%lan vi%", '%"dq"%', "%\\'s \"%", "%ri%", "_tri%", "%tri", "%0\\% off\\_%", "%", "%a\\\\b%",
            "%xx%alph%", "%al_h%", "%ALPHA%BETA%", "%zzz%"]


def like(pattern: str, value: str | None) -> bool:
    """SOQL LIKE, worked out independently of the fake: ``%`` any run, ``_`` one character,
    backslash escapes, ASCII letters compared without case."""
    if value is None:
        return False
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            ch = pattern[i + 1]
            i += 2
            literal = True
        else:
            i += 1
            literal = False
        if not literal and ch == "%":
            out.append(".*")
        elif not literal and ch == "_":
            out.append(".")
        elif ch.isascii() and ch.isalpha():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(re.escape(ch))
    return re.fullmatch("".join(out), value, re.DOTALL) is not None


def soql(pattern: str) -> str:
    return pattern  # the literals above are already SOQL text


class Mirror:
    """The records as the test wrote them: id -> {"Title", "Email", "deleted"}."""

    def __init__(self, sf):
        self.sf = sf
        self.rows: dict[str, dict] = {}

    @classmethod
    def of_values(cls, sf) -> "Mirror":
        """A mirror holding one Contact per title of VALUES, checked once."""
        mirror = cls(sf)
        for v in VALUES:
            mirror.create(v)
        mirror.check()
        return mirror

    def create(self, title, email=None):
        record_id = self.sf.Contact.create({"LastName": "L", "Title": title, "Email": email})["id"]
        self.rows[record_id] = {"Title": title, "Email": email, "deleted": False}
        return record_id

    def update(self, record_id, **fields):
        self.sf.Contact.update(record_id, fields)
        self.rows[record_id].update(fields)

    def delete(self, record_id):
        self.sf.Contact.delete(record_id)
        self.rows[record_id]["deleted"] = True

    def expected(self, field, pattern, *, include_deleted=False):
        return sorted(i for i, r in self.rows.items()
                      if (include_deleted or not r["deleted"]) and like(pattern, r[field]))

    def check(self):
        for field in ("Title", "Email"):
            for pattern in PATTERNS:
                text = f"SELECT Id FROM Contact WHERE {field} LIKE '{soql(pattern)}'"
                got = sorted(r["Id"] for r in self.sf.query_all(text)["records"])
                assert got == self.expected(field, pattern), (field, pattern)
                deleted = sorted(r["Id"] for r in self.sf.query_all(text, include_deleted=True)["records"])
                assert deleted == self.expected(field, pattern, include_deleted=True), (field, pattern)
                count = self.sf.query(f"SELECT COUNT() FROM Contact WHERE {field} LIKE '{soql(pattern)}'")
                assert count["totalSize"] == len(got), (field, pattern)
                negated = self.sf.query(f"SELECT COUNT() FROM Contact WHERE NOT ({field} LIKE '{soql(pattern)}')")
                assert negated["totalSize"] == sum(not r["deleted"] for r in self.rows.values()) - len(got)
        self.check_counts()

    def check_counts(self):
        live = sum(not r["deleted"] for r in self.rows.values())
        assert self.sf.query("SELECT COUNT() FROM Contact")["totalSize"] == live
        assert self.sf.query("SELECT COUNT() FROM Contact", include_deleted=True)["totalSize"] == len(self.rows)
        # the same counts the long way (a filter: no kept count serves it)
        assert self.sf.query("SELECT COUNT() FROM Contact WHERE Id != null")["totalSize"] == live


def test_the_oracle_is_sound():
    assert like("%a\\%b%", "xa%by") and not like("%a\\%b%", "xaxby")
    assert like("%al_h%", "ALPH") and not like("%élan%", "Élan") and like("%ÉLAN%", "Élan")


def test_like_anywhere_answers_exactly_as_like_across_writes(fake_org, sf):
    mirror = Mirror(sf)
    ids = [mirror.create(v, v if v and "@" in v else None) for v in VALUES]
    mirror.check()
    mirror.update(ids[0], Title="Gamma tri delta", Email="tri.angle@example.com")
    mirror.update(ids[1], Title=None)
    mirror.update(ids[5], Title="ÉLAN")
    mirror.delete(ids[2])
    mirror.delete(ids[12])
    mirror.create("newcomer ALPHA_beta", "Alpha_Beta@example.net")
    mirror.check()


def test_a_rolled_back_batch_leaves_indexes_and_counts_as_they_were(fake_org, sf):
    mirror = Mirror.of_values(sf)
    answer = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Kept?", "Title": "rolled back alpha"},
        {"attributes": {"type": "Contact"}, "Title": "no LastName: the batch fails"}]})
    assert not any(r["success"] for r in answer)
    mirror.check()


def test_a_reset_drops_them_and_they_come_back_at_their_next_use(fake_org, sf):
    mirror = Mirror.of_values(sf)
    fake_org.control.reset()
    sf = fake_org.client()
    mirror = Mirror(sf)
    mirror.check_counts()
    for v in VALUES[:5]:
        mirror.create(v)
    mirror.check()


@pytest.mark.parametrize("batch", [200])
def test_a_count_of_every_row_spans_pages(fake_org, sf, batch):
    ids = fake_org.control.seed("Contact", [{"LastName": f"P{i}"} for i in range(450)])
    sf.Contact.delete(ids[0])
    first = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": f"batchSize={batch}"})
    assert first["totalSize"] == 449 and len(first["records"]) == batch and not first["done"]
    assert len(sf.query_all("SELECT Id FROM Contact")["records"]) == 449
    assert sf.query("SELECT Id FROM Contact", include_deleted=True)["totalSize"] == 450
    assert sf.query("SELECT COUNT() FROM Contact LIMIT 100")["totalSize"] == 100
    assert sf.query("SELECT COUNT() FROM Contact LIMIT 1000 OFFSET 400")["totalSize"] == 49


def test_in_with_a_limit_answers_as_the_same_query_in_an_explicit_order(fake_org, sf):
    # Without ORDER BY, IN reads the first rows of each value (see compiler._first_rows_of_each);
    # with the default order spelled out, it reads every match and sorts them: same answers.
    from datetime import datetime, timedelta, timezone

    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    titles = ["CEO", "ceo", "CTO", "Cfo", "Other", None]
    ids = []
    for i in range(260):
        fake_org.control.set_clock(start + timedelta(minutes=(i * 37) % 101))
        ids.append(sf.Contact.create({"LastName": f"C{i}", "Title": titles[i % len(titles)]})["id"])
    for record_id in ids[::7]:
        sf.Contact.delete(record_id)
    for record_id in (i for i in ids[3::11] if i not in ids[::7]):
        fake_org.control.set_clock(start + timedelta(days=1, minutes=len(record_id) % 5))
        sf.Contact.update(record_id, {"Title": "CTO"})
    spelled = " ORDER BY LastModifiedDate DESC, Id DESC"
    for values in ("'CEO', 'CTO'", "'ceo', 'Cfo', 'nobody'", "'CTO', 'cto'", "'Other', 'CFO', 'CEO'"):
        for limit, offset in ((1, 0), (3, 2), (10, 0), (25, 5), (300, 0), (250, 40)):
            for include_deleted in (False, True):
                tail = f" LIMIT {limit}" + (f" OFFSET {offset}" if offset else "")
                text = f"SELECT Id, Title FROM Contact WHERE Title IN ({values})"
                quick = sf.query_all(text + tail, include_deleted=include_deleted)["records"]
                slow = sf.query_all(text + spelled + tail, include_deleted=include_deleted)["records"]
                assert [r["Id"] for r in quick] == [r["Id"] for r in slow], (values, limit, offset)
                paged = sf.query(text + tail, include_deleted=include_deleted,
                                 headers={"Sforce-Query-Options": "batchSize=200"})
                assert paged["totalSize"] == len(slow)
