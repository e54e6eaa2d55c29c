"""Email fields: the quick check of plain addresses gives email-validator's own verdict."""
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings, strategies as st

from fake_salesforce.fieldtypes import is_email


def verdict(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    return True


@pytest.mark.parametrize("text", [
    "jean@example.com", "Jean.Martin+x@Example.COM", "a@b", "a@b.c", "a..b@example.com", ".a@example.com",
    "a.@example.com", "a@-example.com", "a@example-.com", "a@example..com", "a@example.local", "a@localhost",
    "a@example.invalid", "a@example.test", "a@123.123", "a@[127.0.0.1]", '"quoted"@example.com', "a@exa_mple.com",
    "x" * 64 + "@example.com", "x" * 65 + "@example.com", "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com",
    "a@" + ".".join(["b" * 60] * 5) + ".com", "o'brien@example.ie", "a{b}@example.com", "a@ex ample.com",
    "a@exämple.com", "jösé@example.com", "@example.com", "a@", "a@@example.com", "a@example.com.",
])
def test_same_verdict_as_email_validator(text):
    assert is_email(text) == verdict(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.-_+'@[]\" é1", max_size=20))
def test_same_verdict_on_generated_addresses(text):
    assert is_email(text) == verdict(text)
