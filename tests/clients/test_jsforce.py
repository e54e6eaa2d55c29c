"""jsforce 3, unmodified, against the fake org over HTTP and HTTPS."""
import pytest

LOGIN = ('ctx.conn = new jsforce.Connection({loginUrl: ctx.url, version: "59.0"});'
         'const info = await ctx.conn.login("admin@example.com", "password");'
         'return {userId: info.id, orgId: info.organizationId, instanceUrl: ctx.conn.instanceUrl};')


def ok(result):
    assert "error" not in result, result
    return result["ok"]


def test_logins_identity_and_logout(jsforce, served, org):
    soap, identity, userinfo, logout, after, oauth, wrong = jsforce(
        LOGIN,
        "return await ctx.conn.identity();",
        'return await ctx.conn.request(ctx.url + "/services/oauth2/userinfo");',
        "ctx.token = ctx.conn.accessToken; await ctx.conn.logout(); return ctx.conn.accessToken;",
        'const c = new jsforce.Connection({instanceUrl: ctx.url, accessToken: ctx.token});'
        'return await c.query("SELECT Id FROM User");',
        'const c = new jsforce.Connection({oauth2: {loginUrl: ctx.url, clientId: "fake-salesforce",'
        ' clientSecret: "fake-salesforce-secret"}, version: "59.0"});'
        'const info = await c.login("admin@example.com", "password");'
        'return {id: info.id, instanceUrl: c.instanceUrl, users: (await c.query("SELECT Id FROM User")).totalSize};',
        'const c = new jsforce.Connection({loginUrl: ctx.url}); return await c.login("admin@example.com", "nope");',
    )
    assert ok(soap) == {"userId": org.admin_id, "orgId": org.org_id, "instanceUrl": served.url}
    assert ok(identity)["username"] == "admin@example.com"
    assert ok(identity)["organization_id"] == org.org_id
    assert ok(userinfo)["preferred_username"] == "admin@example.com"
    assert ok(logout) is None
    assert after["error"]["errorCode"] == "INVALID_SESSION_ID"
    assert ok(oauth) == {"id": org.admin_id, "instanceUrl": served.url, "users": 1}
    assert "INVALID_LOGIN" in wrong["error"]["message"]


def test_crud_collections_upsert_and_errors(jsforce, org):
    results = jsforce(
        LOGIN,
        'const a = await ctx.conn.sobject("Account").create({Name: "Acme"}); ctx.account = a.id; return a;',
        'return await ctx.conn.sobject("Contact").create([{LastName: "One", AccountId: ctx.account},'
        ' {LastName: "Two"}, {FirstName: "No last name"}]);',
        'const ids = (await ctx.conn.query("SELECT Id FROM Contact ORDER BY LastName")).records.map(r => r.Id);'
        'ctx.ids = ids; return await ctx.conn.sobject("Contact").retrieve(ids, {fields: ["LastName", "AccountId"]});',
        'return await ctx.conn.sobject("Contact").update({Id: ctx.ids[0], Title: "CEO"});',
        'return await ctx.conn.sobject("Contact").upsert({External_Id__c: "EXT-1", LastName: "Upserted"}, "External_Id__c");',
        'return await ctx.conn.sobject("Contact").upsert({External_Id__c: "EXT-1", Title: "CTO"}, "External_Id__c");',
        'return await ctx.conn.sobject("Contact").upsert([{External_Id__c: "EXT-2", LastName: "Second"},'
        ' {External_Id__c: "EXT-3", LastName: "Third"}], "External_Id__c");',
        'return await ctx.conn.sobject("Contact").destroy(ctx.ids[1]);',
        'return await ctx.conn.sobject("Contact").retrieve(ctx.ids[1]);',
        'return await ctx.conn.sobject("Contact").create({LastName: "x", Nope__c: 1});',
    )
    _, account, created, retrieved, updated, upserted, upserted_again, many, destroyed, gone, bad = results
    assert ok(account)["success"] is True
    c = ok(created)
    assert [r["success"] for r in c] == [True, True, False]
    assert c[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert [(r["LastName"], r["AccountId"]) for r in ok(retrieved)] == [("One", ok(account)["id"]), ("Two", None)]
    assert ok(updated)["success"] is True
    assert ok(upserted)["success"] is True
    assert ok(upserted_again)["success"] is True
    assert [r["success"] for r in ok(many)] == [True, True]
    assert ok(destroyed)["success"] is True
    assert gone["error"]["errorCode"] == "ENTITY_IS_DELETED"
    assert bad["error"]["errorCode"] == "INVALID_FIELD"
    titles = {r["LastName"]: r["Title"] for r in org.query("SELECT LastName, Title FROM Contact")["records"]}
    assert titles == {"One": "CEO", "Upserted": "CTO", "Second": None, "Third": None}


def test_query_more_search_describe_recent_and_limits(jsforce, org):
    org.seed([{"sobject": "Contact", "fields": {"LastName": f"Many {i:04d}", "Phone": "+1 415 555 0100"}}
              for i in range(2100)])
    results = jsforce(
        LOGIN,
        'const a = await ctx.conn.sobject("Account").create({Name: "Parent"});'
        'await ctx.conn.sobject("Contact").create({LastName: "Child", AccountId: a.id});'
        'return await ctx.conn.query("SELECT Name, Owner.Name, (SELECT LastName FROM Contacts) FROM Account");',
        'const records = []; await new Promise((resolve, reject) => ctx.conn.query("SELECT Id FROM Contact")'
        '.on("record", r => records.push(r)).on("end", resolve).on("error", reject).run({autoFetch: true, maxFetch: 5000}));'
        'return records.length;',
        'return await ctx.conn.search("FIND {Child} IN NAME FIELDS RETURNING Contact(LastName)");',
        'const d = await ctx.conn.sobject("Contact").describe(); return {name: d.name, fields: d.fields.length};',
        'return (await ctx.conn.describeGlobal()).sobjects.map(s => s.name);',
        'return await ctx.conn.recent(2);',
        'return (await ctx.conn.limits()).DailyApiRequests;',
        'return await ctx.conn.query("SELECT Nope FROM Contact");',
    )
    _, parents, count, found, described, names, recent, limits, bad = results
    (parent,) = ok(parents)["records"]
    assert parent["Contacts"]["records"][0]["LastName"] == "Child"
    assert ok(count) == 2101
    assert [r["LastName"] for r in ok(found)["searchRecords"]] == ["Child"]
    assert ok(described)["name"] == "Contact" and ok(described)["fields"] > 10
    assert {"Account", "Contact", "Organization"} <= set(ok(names))
    assert [r["Name"] for r in ok(recent)] == ["Child", "Parent"]
    assert ok(limits)["Max"] > 0
    assert bad["error"]["errorCode"] == "INVALID_FIELD"


def test_composite_tree_and_refused_apis(jsforce, org):
    _, chained, tree, graph, bulk1, tooling = jsforce(
        LOGIN,
        'return await ctx.conn.requestPost("/services/data/v59.0/composite", {allOrNone: true, compositeRequest: ['
        '{method: "POST", url: "/services/data/v59.0/sobjects/Account", referenceId: "a", body: {Name: "Chain"}},'
        '{method: "POST", url: "/services/data/v59.0/sobjects/Contact", referenceId: "c",'
        ' body: {LastName: "Linked", AccountId: "@{a.id}"}}]});',
        'return await ctx.conn.requestPost("/services/data/v59.0/composite/tree/Account", {records: ['
        '{attributes: {type: "Account", referenceId: "t1"}, Name: "Tree",'
        ' Contacts: {records: [{attributes: {type: "Contact", referenceId: "t2"}, LastName: "Leaf"}]}}]});',
        'return await ctx.conn.requestPost("/services/data/v59.0/composite/graph", {graphs: [{graphId: "g",'
        ' compositeRequest: [{method: "GET", url: "/services/data/v59.0/limits", referenceId: "l"}]}]});',
        'return await ctx.conn.request("/services/async/59.0/job");',
        'return await ctx.conn.tooling.query("SELECT Id FROM ApexClass");',
    )
    assert [r["httpStatusCode"] for r in ok(chained)["compositeResponse"]] == [201, 201]
    assert ok(tree)["hasErrors"] is False and len(ok(tree)["results"]) == 2
    rows = org.query("SELECT LastName, Account.Name FROM Contact ORDER BY LastName")["records"]
    assert [(r["LastName"], r["Account"]["Name"]) for r in rows] == [("Leaf", "Tree"), ("Linked", "Chain")]
    assert ok(graph)["graphs"][0]["isSuccessful"] is True
    for refused in (bulk1, tooling):
        assert refused["error"]["errorCode"] == "FAKE_NOT_IMPLEMENTED", refused


def test_expired_session_is_renewed_or_reported(jsforce, org):
    first, renewed, reported = jsforce(
        LOGIN,
        # The control API expires every session, as a Salesforce timeout would.
        'ctx.token = ctx.conn.accessToken; await fetch(ctx.url + "/_fake/sessions/expire", {method: "POST", headers: {"X-Fake-Control": "1"}});'
        'const users = (await ctx.conn.query("SELECT Id FROM User")).totalSize;'
        'return {users, renewed: ctx.conn.accessToken !== ctx.token};',
        'await fetch(ctx.url + "/_fake/sessions/expire", {method: "POST", headers: {"X-Fake-Control": "1"}});'
        'const c = new jsforce.Connection({instanceUrl: ctx.url, accessToken: ctx.conn.accessToken});'
        'return await c.query("SELECT Id FROM User");',
    )
    ok(first)
    # jsforce logs in again with the credentials it holds; a token-only connection cannot.
    assert ok(renewed) == {"users": 1, "renewed": True}
    assert reported["error"]["errorCode"] == "INVALID_SESSION_ID"


def test_bulk2_ingest_and_query(jsforce, org):
    rows = "LastName,Email\\n" + "".join(f"Bulk {i},b{i}@example.com\\n" for i in range(50)) + ",no@example.com\\n"
    ingest, query = jsforce(
        LOGIN,
        f'const r = await ctx.conn.bulk2.loadAndWaitForResults({{object: "Contact", operation: "insert",'
        f' input: "{rows}", pollInterval: 50, pollTimeout: 30000}});'
        'return {ok: r.successfulResults.length, failed: r.failedResults.map(f => f.sf__Error),'
        ' unprocessed: r.unprocessedRecords.length};',
        'const records = await (await ctx.conn.bulk2.query("SELECT LastName FROM Contact ORDER BY LastName",'
        ' {pollInterval: 50, pollTimeout: 30000})).toArray(); return records.length;',
    )[1:]
    result = ok(ingest)
    assert result["ok"] == 50 and result["unprocessed"] == 0
    assert len(result["failed"]) == 1 and result["failed"][0].startswith("REQUIRED_FIELD_MISSING")
    assert ok(query) == 50
