"""Phone numbers reduced to digit keys, so that SOSL PHONE FIELDS matches on digits.

``4155550100``, ``+1 (415) 555-0100`` and ``+14155550100`` all share the key ``14155550100``.
Numbers are stored as typed; the keys live in an indexed side table.

A number without ``+`` is read in the org's default country (``OrgConfig.default_country``,
``US`` unless set): with ``FR``, ``06 12 34 56 78`` is also found as ``+33612345678``. Salesforce
has no such setting: its search compares digits, and how it matches a national number against
one with a country code is not documented (North American numbers match with or without the
leading 1). The fake matches exactly: the digits as typed, or the number read in that country.
"""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_NON_DIGITS = re.compile(r"\D")
DEFAULT_COUNTRY = "US"


def check_country(value) -> str:
    """``value`` as an ISO 3166 alpha-2 country code phonenumbers knows (``FR``); ValueError
    naming the mistake otherwise."""
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code (such as FR, US, GB)")
    return code


def digits(text: str) -> str:
    return _NON_DIGITS.sub("", text or "")


@lru_cache(maxsize=65536)
def _e164(text: str, region: str) -> str | None:
    try:
        num = phonenumbers.parse(text, None if text.strip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return digits(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


def stored_keys(value: str | None, region: str = "US") -> set[str]:
    """Keys under which a stored phone value can be found."""
    raw = digits(value or "")
    if len(raw) < 3:
        return set()
    keys = {raw}
    e164 = _e164(value, region)
    if e164:
        keys.add(e164)
    return keys


def search_keys(term: str, region: str = "US") -> set[str]:
    """Keys a search term matches: its E.164 form, and its bare digits when it has no ``+``."""
    raw = digits(term)
    if not raw:
        return set()
    e164 = _e164(term, region)
    if term.strip().startswith("+"):
        return {e164 or raw}
    return {raw, e164} - {None}
