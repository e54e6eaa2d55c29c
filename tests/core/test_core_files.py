"""Logging event files: one webhook or a list, validated before anything is written."""
import json
import shutil
from pathlib import Path

import pytest

from simulator.core import InvalidEvent, Settings, log_file, read_deliveries
from simulator.aircall import call_webhook, message_webhook

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_read_one_or_many(tmp_path):
    one = tmp_path / "one.json"
    shutil.copy(EXAMPLES / "call.ended.json", one)
    assert read_deliveries(one)[0]["event"] == "call.ended"
    many = tmp_path / "many.json"
    many.write_text(json.dumps([call_webhook(), message_webhook()]))
    assert [d["event"] for d in read_deliveries(many)] == ["call.ended", "message.received"]


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(InvalidEvent, match="cannot read event file"):
        read_deliveries(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(InvalidEvent, match=rf"^{bad}: not valid JSON"):
        read_deliveries(bad)
    bad.write_text("[1]")
    with pytest.raises(InvalidEvent, match=rf"^{bad}\[0\]: expected a webhook object, got int"):
        read_deliveries(bad)
    bad.write_text("[]")
    with pytest.raises(InvalidEvent, match=rf"^{bad}: an empty list: expected a webhook object"):
        read_deliveries(bad)


def test_a_malformed_delivery_stops_the_file_before_any_write(tmp_path):
    broken = call_webhook(call_id=2)
    broken["data"]["started_at"] = "yesterday"
    path = tmp_path / "events.json"
    path.write_text(json.dumps([call_webhook(call_id=1), broken]))

    class NoOrg:
        def __getattr__(self, name):
            raise AssertionError("no request may be made")

    with pytest.raises(InvalidEvent) as info:
        log_file(NoOrg(), Settings(), path)
    assert str(info.value) == (f"{path}[1]: call.ended: data.started_at: expected an integer, "
                               f"got 'yesterday'")


def test_log_the_example_files(fake_org, sf, tmp_path):
    fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": "+33 6 12 34 56 78"}])
    outcomes = log_file(sf, Settings(), EXAMPLES / "call.ended.json")
    outcomes += log_file(sf, Settings(), EXAMPLES / "message.received.json")
    assert [(o.event, o.logged, o.task_action) for o in outcomes] == [
        ("call.ended", True, "created"), ("message.received", True, "created")]


def test_a_file_reads_national_numbers_in_the_default_country_as_a_delivery_does(fake_org, sf, tmp_path):
    contact = fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": "+33 6 12 34 56 78"}])[0]
    number = {"id": 1, "name": "Paris", "digits": "01 76 36 06 95", "time_zone": "Europe/Paris"}
    path = tmp_path / "national.json"
    path.write_text(json.dumps(call_webhook(external="06 12 34 56 78", number=number)))
    [outcome] = log_file(sf, Settings.from_dict({"default_country": "FR"}), path)
    assert (outcome.logged, outcome.record.id) == (True, contact)
