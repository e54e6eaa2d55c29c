"""The control API (/_fake/): reset, clock, seed, sessions, request log."""
import pytest

from fake_salesforce.control import ControlError


def test_reset_wipes_records_and_keeps_the_admin(fake_org, sf):
    sf.Contact.create({"LastName": "Temp"})
    fake_org.control.reset()
    counts = fake_org.control.info()["counts"]
    assert counts["Contact"] == 0 and counts["User"] == 1 and counts["RecordType"] == 2


def test_clock_freeze_and_advance(fake_org, sf):
    state = fake_org.control.set_clock("2026-11-02T09:00:00Z")
    assert state == {"now": "2026-11-02T09:00:00.000+0000", "frozen": True}
    assert fake_org.control.advance(90)["now"] == "2026-11-02T09:01:30.000+0000"
    record = sf.Contact.get(sf.Contact.create({"LastName": "Timed"})["id"])
    assert record["CreatedDate"] == "2026-11-02T09:01:30.000+0000"
    assert fake_org.control.unfreeze()["frozen"] is False


@pytest.mark.parametrize("body", [{"now": "yesterday"}, {"advance": -5}, {"advance": "ten"}, {"speed": 2}])
def test_bad_clock_requests_are_refused(fake_org, body):
    with pytest.raises(ControlError) as info:
        fake_org.control._call("POST", "/clock", body)
    assert "INVALID_PARAMETER_VALUE" in str(info.value)


def test_seed_with_audit_fields_and_batch_references(fake_org, sf):
    ids = fake_org.control.seed([
        {"sobject": "Account", "fields": {"Name": "Acme"}},
        {"sobject": "Contact", "fields": {"LastName": "Old", "AccountId": "@0",
                                          "LastModifiedDate": "2026-01-01T00:00:00Z"}},
        {"sobject": "PersonAccount", "fields": {"FirstName": "Jane", "LastName": "Doe"}},
    ])
    contact = sf.Contact.get(ids[1])
    assert contact["AccountId"] == ids[0]
    assert contact["LastModifiedDate"] == "2026-01-01T00:00:00.000+0000"
    assert sf.Account.get(ids[2])["IsPersonAccount"] is True


def test_seed_is_all_or_nothing(fake_org, sf):
    with pytest.raises(ControlError) as info:
        fake_org.control.seed([{"sobject": "Contact", "fields": {"LastName": "Fine"}},
                               {"sobject": "Contact", "fields": {"FirstName": "No last name"}}])
    assert "records[1] (Contact): Required fields are missing: [LastName]" in str(info.value)
    assert fake_org.control.info()["counts"]["Contact"] == 0


def test_seed_rejects_unknown_objects(fake_org):
    with pytest.raises(ControlError) as info:
        fake_org.control.seed("Widget", [{"Name": "x"}])
    assert "INVALID_TYPE" in str(info.value)


def test_seed_refuses_keys_outside_fields(fake_org):
    with pytest.raises(ControlError) as info:
        fake_org.control.seed([{"sobject": "Contact", "fields": {"LastName": "Martin"}, "Phone": "+1 415"}])
    assert "records[0] (Contact): unknown key 'Phone'" in str(info.value)
    assert fake_org.control.info()["counts"]["Contact"] == 0


def test_seed_validates_values_as_create_does(fake_org):
    with pytest.raises(ControlError) as info:
        fake_org.control.seed([{"sobject": "Lead", "fields": {"LastName": "Stone", "Company": "Acme",
                                                              "Email": "notanemail"}}])
    assert "INVALID_EMAIL_ADDRESS" in str(info.value)
    assert "records[0] (Lead): Email: invalid email address: notanemail" in str(info.value)


def test_seed_reference_must_name_an_earlier_record(fake_org):
    with pytest.raises(ControlError) as info:
        fake_org.control.seed([{"sobject": "Contact", "fields": {"LastName": "A", "AccountId": "@0"}}])
    assert "records[0] (Contact): AccountId: '@0' must name an earlier record" in str(info.value)


def test_jwt_certificate_must_be_one(fake_org):
    with pytest.raises(ControlError) as info:
        fake_org.control.register_jwt_certificate(
            "myapp", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert "is not a PEM certificate or public key" in str(info.value)


def test_request_log(fake_org, sf):
    fake_org.control.clear_requests()
    sf.Contact.create({"LastName": "Logged"})
    try:
        sf.Contact.create({})
    except Exception:
        pass
    log = fake_org.control.requests()
    assert [(e["method"], e["status"], e["error_code"]) for e in log] == [
        ("POST", 201, None), ("POST", 400, "REQUIRED_FIELD_MISSING")]
    assert log[0]["path"] == "/services/data/v59.0/sobjects/Contact/"


@pytest.mark.parametrize("path, body", [
    ("/clock", {"advance": 1e30}),                         # past any datetime: was a 500 OverflowError
    ("/clock", {"now": "0001-01-01T00:00:00+05:00"}),      # before any datetime: was a 500 OverflowError
    ("/reset", {"now": "9999-12-31T23:59:59-05:00"}),
    ("/clock", {"now": "0500-01-01T00:00:00Z"}),           # was taken, and stamped CreatedDate 500-01-01T...
    ("/clock", {"now": "3999-01-01T00:00:00Z", "advance": 10 ** 8}),
])
def test_clock_outside_salesforces_datetimes_is_refused_and_left_alone(fake_org, path, body):
    fake_org.control.set_clock("2026-11-02T09:00:00Z")
    with pytest.raises(ControlError) as info:
        fake_org.control._call("POST", path, body)
    assert "(400): INVALID_PARAMETER_VALUE" in str(info.value)
    assert f"'{'advance' if 'advance' in body else 'now'}'" in str(info.value)
    assert fake_org.control.clock()["now"] == "2026-11-02T09:00:00.000+0000"


def test_seed_refuses_a_password_on_a_record_that_is_not_a_user(fake_org):
    """It was taken and silently dropped: nobody could log in with it."""
    with pytest.raises(ControlError) as info:
        fake_org.control.seed([{"sobject": "Account", "fields": {"Name": "Acme"}},
                               {"sobject": "Contact", "fields": {"LastName": "Martin"}, "password": "pw"}])
    assert "records[1] (Contact): only a User has a 'password'" in str(info.value)
    assert fake_org.control.info()["counts"]["Account"] == 0


def test_a_refused_seed_keeps_none_of_its_passwords(fake_org, sf):
    """The password of a User seeded before the failing record stayed armed: a User created
    later with that username could log in with it."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed
    user = {"Username": "later@example.com", "LastName": "Later", "Email": "later@example.com",
            "Alias": "later", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
            "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"}
    with pytest.raises(ControlError):
        fake_org.control.seed([{"sobject": "User", "fields": user, "password": "seeded-pw"},
                               {"sobject": "Contact", "fields": {"FirstName": "No last name"}}])
    sf.User.create(user)
    with pytest.raises(SalesforceAuthenticationFailed):
        fake_org.client("later@example.com", "seeded-pw")


@pytest.mark.parametrize("seed", [[1], {"a": 1}, 1.5, True])
def test_reset_refuses_an_id_seed_that_is_not_an_integer_or_text(fake_org, sf, seed):
    """Such a seed was taken, and the org reset with it."""
    sf.Contact.create({"LastName": "Kept"})
    with pytest.raises(ControlError) as info:
        fake_org.control._call("POST", "/reset", {"seed": seed})
    assert "INVALID_PARAMETER_VALUE: 'seed' must be an integer or a string" in str(info.value)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_a_datetime_before_the_year_1000_keeps_four_digits(fake_org, sf):
    """It was written 500-01-01T00:00:00.000+0000."""
    ids = fake_org.control.seed([{"sobject": "Contact", "fields": {"LastName": "Old",
                                                                   "CreatedDate": "0500-01-01T00:00:00Z"}}])
    assert sf.Contact.get(ids[0])["CreatedDate"] == "0500-01-01T00:00:00.000+0000"
