"""A deliberately simple call logger, unlike callsim's core: it logs on the FIRST record a phone
search returns, searching Leads before Contacts and Accounts, with no priority rules, no
idempotency (a redelivered webhook logs a second Task) and one fixed Subject.

``callsim run --integration first_match:log_call`` tests it (run from this directory), and
``service.py`` serves it over HTTP for ``--integration http://...``.
"""


def log_call(sf, webhook):
    """Log one Aircall ``call.ended`` webhook on the first record that has the number."""
    if webhook.get("event") != "call.ended":
        return
    call = webhook["data"]
    digits = "".join(c for c in call.get("raw_digits") or "" if c.isdigit())
    if len(digits) < 6:
        return
    found = sf.search("FIND {%s} IN PHONE FIELDS RETURNING Lead(Id), Contact(Id, AccountId), Account(Id)"
                      % digits)["searchRecords"]
    if not found:
        return
    first = found[0]
    who_or_what = "WhatId" if first["attributes"]["type"] == "Account" else "WhoId"
    sf.Task.create({
        who_or_what: first["Id"],
        "Subject": "Call",
        "Status": "Completed",
        "TaskSubtype": "Call",
        "CallDurationInSeconds": call.get("duration") or 0,
        "CallObject": str(call["id"]),
    })
