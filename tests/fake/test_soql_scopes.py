"""USING SCOPE through simple-salesforce: which records each scope keeps for the running user.
(The refused scopes are tabled in tests/data/soql/unsupported.yaml.)"""
import pytest


@pytest.fixture
def other(fake_org):
    (user,) = fake_org.org.seed([{"sobject": "User", "fields": {
        "Username": "other@example.com", "LastName": "Other", "Email": "other@example.com",
        "Alias": "other", "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"}}])
    return user


def names(sf, query):
    return sorted(r.get("Name") or r.get("Subject") for r in sf.query_all(query)["records"])


def test_team_keeps_the_accounts_and_opportunities_whose_team_has_the_running_user(fake_org, sf, other):
    me = fake_org.org.admin_id
    acme, globex, _ = [sf.Account.create({"Name": n})["id"] for n in ("Acme", "Globex", "Initech")]
    sf.AccountTeamMember.create({"AccountId": acme, "UserId": me, "TeamMemberRole": "Sales Rep"})
    sf.AccountTeamMember.create({"AccountId": globex, "UserId": other})
    assert names(sf, "SELECT Name FROM Account USING SCOPE team") == ["Acme"]
    deal = sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting",
                                  "CloseDate": "2026-12-01", "AccountId": globex})["id"]
    sf.Opportunity.create({"Name": "Other deal", "StageName": "Prospecting", "CloseDate": "2026-12-01"})
    sf.OpportunityTeamMember.create({"OpportunityId": deal, "UserId": me})
    assert names(sf, "SELECT Name FROM Opportunity USING SCOPE team") == ["Deal"]


def test_delegated_keeps_the_tasks_the_running_user_gave_to_someone_else(fake_org, sf, other):
    sf.Task.create({"Subject": "for me"})
    sf.Task.create({"Subject": "for other", "OwnerId": other})
    fake_org.org.seed([{"sobject": "Task", "fields": {"Subject": "from other", "OwnerId": other}}],
                      user_id=other)
    assert names(sf, "SELECT Subject FROM Task USING SCOPE delegated") == ["for other"]
    assert names(sf, "SELECT Subject FROM Task USING SCOPE mine") == ["for me"]


def test_mru_keeps_the_200_most_recently_modified_records(fake_org, sf):
    fake_org.org.seed([{"sobject": "Contact", "fields": {
        "LastName": f"C{i:03d}", "LastModifiedDate": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"}}
        for i in range(201)])
    kept = sf.query_all("SELECT LastName FROM Contact USING SCOPE mru ORDER BY LastName")["records"]
    assert len(kept) == 200 and kept[0]["LastName"] == "C001"


def test_mine_and_my_groups_runs_on_process_instance_workitems(sf):
    # Approval processes create workitems; the fake has none, so the answer is empty.
    assert sf.query("SELECT Id FROM ProcessInstanceWorkitem USING SCOPE mine_and_my_groups")["records"] == []


def test_the_api_reads_dashboards_and_workitems_that_only_the_seed_makes(fake_org, sf, other):
    from simple_salesforce.exceptions import SalesforceError
    with pytest.raises(SalesforceError) as refused:
        sf.Dashboard.create({"Title": "Mine"})
    assert refused.value.content[0]["errorCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    me = fake_org.org.admin_id
    queue, _, process, _, _ = fake_org.org.seed([
        {"sobject": "Group", "fields": {"Name": "Approvers", "Type": "Queue"}},
        {"sobject": "GroupMember", "fields": {"GroupId": "@0", "UserOrGroupId": me}},
        {"sobject": "ProcessInstance", "fields": {}},
        {"sobject": "ProcessInstanceWorkitem", "fields": {"ProcessInstanceId": "@2", "ActorId": "@0"}},
        {"sobject": "ProcessInstanceWorkitem", "fields": {"ProcessInstanceId": "@2", "ActorId": other}},
    ])
    kept = sf.query("SELECT ActorId FROM ProcessInstanceWorkitem USING SCOPE mine_and_my_groups")
    assert [r["ActorId"] for r in kept["records"]] == [queue]


def test_nested_child_subqueries_need_api_version_58(fake_org, sf):
    from simple_salesforce.exceptions import SalesforceError

    from fake_salesforce.client import connect
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "Martin", "AccountId": account})["id"]
    sf.Asset.create({"Name": "Pump", "ContactId": contact})
    query = "SELECT Name, (SELECT LastName, (SELECT Name FROM Assets) FROM Contacts) FROM Account"
    (record,) = sf.query(query)["records"]
    assert record["Contacts"]["records"][0]["Assets"]["records"][0]["Name"] == "Pump"
    old = connect(fake_org.target, fake_org.org.config.username, version="57.0",
                  session=sf.session)
    assert old.query("SELECT Name, (SELECT LastName FROM Contacts) FROM Account")["totalSize"] == 1
    with pytest.raises(SalesforceError) as refused:
        old.query(query)
    assert refused.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert refused.value.content[0]["message"].endswith(
        "SOQL statements cannot query aggregate relationships more than 1 level away from the "
        "root entity object.")


@pytest.mark.parametrize("sobject, expected", [
    ("Account", ["everything", "mine", "mru", "team", "my_territory", "my_team_territory"]),
    ("Task", ["everything", "mine", "mru", "delegated", "team"]),
    ("Case", ["everything", "mine", "mru", "team", "user_owned", "queue_owned"]),
    ("Dashboard", ["everything", "mine", "mru", "allPrivate"]),
    ("ProcessInstanceWorkitem", ["everything", "mru", "mine_and_my_groups"]),
])
def test_describe_lists_the_scopes_a_query_accepts(sf, sobject, expected):
    from simple_salesforce.exceptions import SalesforceError
    listed = getattr(sf, sobject).describe()["supportedScopes"]
    assert [s["name"] for s in listed] == expected
    assert all(s["label"] for s in listed)
    for name in ("everything", "mine", "mru", "delegated", "team", "my_territory",
                 "my_team_territory", "mine_and_my_groups", "allPrivate", "user_owned",
                 "queue_owned", "scopingRule"):
        query = f"SELECT Id FROM {sobject} USING SCOPE {name}"
        if name in expected:
            assert sf.query(query)["done"] is True
        else:
            with pytest.raises(SalesforceError) as refused:
                sf.query(query)
            assert refused.value.status == 501 and name.lower() in refused.value.content[0]["message"]


def test_account_scopes_are_labelled_as_salesforce_labels_them(sf):
    labels = {s["name"]: s["label"] for s in sf.Account.describe()["supportedScopes"]}
    assert (labels["everything"], labels["mine"], labels["team"]) == \
        ("All accounts", "My accounts", "My team's accounts")
