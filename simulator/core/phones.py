"""Phone numbers, read one way everywhere the core and the simulator need them (phonenumbers).

- A number with ``+`` is read as international; one without is read in ``region`` (an ISO
  country code), and is no number at all without one.
- A number's time zone, when none is given, is its region's when the region has exactly one;
  otherwise ``UTC`` (a country such as the US spans several, and guessing would shift dates).
"""
from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as phone_timezones

UNKNOWN_ZONE = "UTC"


@lru_cache(maxsize=1024)
def parse(text: str, region: str | None = None) -> phonenumbers.PhoneNumber | None:
    """``text`` parsed, when it is a possible number; ``None`` otherwise."""
    if not isinstance(text, str):
        return None
    try:
        number = phonenumbers.parse(text, None if text.strip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def to_e164(text: str, region: str | None = None) -> str | None:
    """``text`` as E.164 (``+33612345678``), or ``None`` when it is not a phone number."""
    number = parse(text, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def national_digits(text: str) -> str | None:
    """The digits of a number as dialled within its country (``0612345678``)."""
    number = parse(text)
    if number is None:
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit()) or None


def region_of(text: str | None) -> str | None:
    """The ISO country of an international number (``FR``); ``None`` when unknown."""
    number = parse(text) if text else None
    if number is None:
        return None
    region = (phonenumbers.region_code_for_number(number)
              or phonenumbers.region_code_for_country_code(number.country_code))
    return region if region and region != "ZZ" else None


def zone_of(text: str | None) -> str:
    """The time zone of a number's region when it has exactly one, else ``UTC``."""
    number = parse(text) if text else None
    if number is not None:
        zones = phone_timezones.time_zones_for_number(number)
        if len(zones) == 1 and zones[0] != phone_timezones.UNKNOWN_TIMEZONE:
            return zones[0]
    return UNKNOWN_ZONE
