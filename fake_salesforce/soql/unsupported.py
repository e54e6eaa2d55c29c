"""The SOQL and SOSL constructs the fake org knows but does not implement.

Each is refused with HTTP 501, errorCode ``FAKE_NOT_IMPLEMENTED``, naming the construct; nothing
here is ever silently ignored. This table is the one list of them: the parser and the compiler
refuse only through ``refuse``, and the documentation's table of refused constructs is
generated from ``NOT_IMPLEMENTED``.
"""
from __future__ import annotations

from .. import errors
from . import scopes

# construct -> what Salesforce does with it (why the fake cannot just accept it)
NOT_IMPLEMENTED: dict[str, str] = {
    "SOQL WITH DATA CATEGORY": "filters Knowledge articles and questions by data category",
    "SOQL WITH USERID": "reads UserProfileFeed, the changes a user's profile feed tracks (an "
                        "object the fake does not have)",
    scopes.REFUSED:
        "filters by a scoping rule, or a scope the object does not offer (the fake does not know "
        "Salesforce's wording for that error)",
    "Knowledge article types (__kav objects)":
        "the article versions of Salesforce Knowledge, which a schema file may declare as objects",
    "SOSL WITH DATA CATEGORY": "filters Knowledge articles by data category",
    "SOSL WITH DIVISION (no Division object in the schema)":
        "filters by division, an org feature; the fake filters by the Division field when the "
        "schema declares a Division object",
    "SOSL WITH NETWORK (an Experience Cloud site, on User or FeedItem)":
        "searches the users and feeds of Experience Cloud sites (the fake has none; the internal "
        "org's all-zero id is understood, and other objects are not filtered, as in Salesforce)",
    "SOSL WITH PRICEBOOKID (without PricebookEntry.Pricebook2Id and Product2Id in the schema)":
        "returns the products of one price book; the fake filters Product2 by the price book's "
        "PricebookEntry records when the schema declares them",
    "SOSL USING ListView (other than Recent)": "searches one list view's records (the fake has "
                                                "no list views but Recent)",
    "SOSL USING LOOKUP": "filters by a lookup field's filter (lookup search)",
    "SOSL USING ADVANCED SEARCH": "an undocumented search mode some parsers accept",
    "SOSL USING PHRASE SEARCH": "an undocumented search mode some parsers accept",
}


def refuse(construct: str, shown: str | None = None) -> errors.SalesforceError:
    """The 501 for ``construct`` (a key of ``NOT_IMPLEMENTED``); ``shown`` names it as written."""
    if construct not in NOT_IMPLEMENTED:
        raise KeyError(f"{construct!r} is not in the table of unimplemented constructs")
    return errors.NotImplementedByFake(f"{shown or construct} is not implemented by the fake org")
