"""The org's default country: phone numbers stored without + are read in it (SOSL PHONE FIELDS)."""
import pytest
from click.testing import CliRunner

from fake_salesforce import Org
from fake_salesforce.cli import main
from fake_salesforce.control import ControlError

NATIONAL = "06 12 34 56 78"


def _found(sf, term: str) -> list[str]:
    answer = sf.search(f"FIND {{{term}}} IN PHONE FIELDS RETURNING Contact(Id, Phone)")
    return [r["Phone"] for r in answer["searchRecords"]]


def test_a_national_number_is_not_found_by_its_international_form_in_a_us_org(fake_org, sf):
    sf.Contact.create({"LastName": "Martin", "Phone": NATIONAL})
    assert fake_org.control.info()["default_country"] == "US"
    assert _found(sf, "+33612345678") == []
    assert _found(sf, "0612345678") == [NATIONAL]      # its digits as typed


@pytest.mark.fake_sf_options(default_country="FR")
def test_in_a_french_org_a_national_number_is_found_in_both_forms(sf):
    sf.Contact.create({"LastName": "Martin", "Phone": NATIONAL})
    assert _found(sf, "+33612345678") == [NATIONAL]
    assert _found(sf, "+33 6 12 34 56 78") == [NATIONAL]
    assert _found(sf, "06.12.34.56.78") == [NATIONAL]
    assert _found(sf, "+1 061 234 5678") == []


def test_changing_the_country_indexes_stored_numbers_again(fake_org, sf):
    contact_id = sf.Contact.create({"LastName": "Martin", "MobilePhone": NATIONAL})["id"]
    assert fake_org.control.set_default_country("FR")["default_country"] == "FR"
    answer = sf.search("FIND {+33612345678} IN PHONE FIELDS RETURNING Contact(Id)")
    assert [r["Id"] for r in answer["searchRecords"]] == [contact_id]
    sf.Contact.delete(contact_id)
    assert _found(sf, "+33612345678") == []
    fake_org.control.set_default_country("GB")
    assert _found(sf, "+33612345678") == []


def test_reset_sets_the_country_and_the_order_and_they_stay(fake_org, sf):
    fake_org.control.reset(default_country="fr", order="insertion")
    info = fake_org.control.info()
    assert (info["default_country"], info["order"]) == ("FR", "insertion")
    fake_org.control.reset()
    info = fake_org.control.info()
    assert (info["default_country"], info["order"]) == ("FR", "insertion")


@pytest.mark.parametrize("body", [{"default_country": "France"}, {"default_country": "XX"},
                                  {"default_country": 33}, {"order": "newest"}])
def test_bad_reset_settings_are_refused_and_change_nothing(fake_org, sf, body):
    sf.Contact.create({"LastName": "Kept"})
    with pytest.raises(ControlError) as info:
        fake_org.control._call("POST", "/reset", body)
    assert "INVALID_PARAMETER_VALUE" in str(info.value)
    assert next(iter(body)) in str(info.value)
    assert fake_org.control.info()["counts"]["Contact"] == 1


@pytest.mark.parametrize("body", [{}, {"default_country": "ZZ"}, {"country": "FR"}])
def test_bad_settings_requests_are_refused(fake_org, body):
    with pytest.raises(ControlError) as info:
        fake_org.control._call("POST", "/settings", body)
    assert "INVALID_PARAMETER_VALUE" in str(info.value)


def test_an_or_search_finds_either_number(sf):
    sf.Contact.create({"LastName": "Martin", "Phone": NATIONAL})
    sf.Contact.create({"LastName": "Stone", "Phone": "+1 415 555 0100"})
    assert sorted(_found(sf, "+33612345678 OR 0612345678")) == [NATIONAL]
    assert sorted(_found(sf, "0612345678 OR +14155550100")) == ["+1 415 555 0100", NATIONAL]


def test_org_option_is_validated():
    with pytest.raises(ValueError, match="'FRA' is not an ISO 3166 alpha-2 country code"):
        Org(default_country="FRA")


def test_a_file_org_reopened_with_another_country_is_indexed_again(tmp_path):
    db = str(tmp_path / "org.db")
    first = Org(db_path=db)
    first.create("Contact", {"LastName": "Martin", "Phone": NATIONAL})
    first.store.close()
    again = Org(db_path=db, default_country="FR")
    answer = again.search("FIND {+33612345678} IN PHONE FIELDS RETURNING Contact(Phone)")
    assert [r["Phone"] for r in answer["searchRecords"]] == [NATIONAL]
    again.store.close()


def test_serve_refuses_a_bad_country():
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--default-country", "France"])
    assert result.exit_code == 2
    assert "'France' is not an ISO 3166 alpha-2 country code" in result.stderr
    assert "Traceback" not in result.output
