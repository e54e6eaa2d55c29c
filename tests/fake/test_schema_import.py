"""`fake-salesforce schema import`: describe answers in, a schema file out. The round trip:
describe every object of an org (through simple-salesforce), import, serve the file, describe
again: the same answers. What the fake cannot model is listed, never dropped silently."""
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import fake_salesforce
from fake_salesforce import Org
from fake_salesforce.cli import main
from fake_salesforce.schema.importer import DescribeError, fetch_describes, import_describes, read_describes
from fake_salesforce.server import FakeServer
from fake_salesforce.tls import make_self_signed

DATA = Path(__file__).resolve().parents[1] / "data"
SCHEMAS = (str(DATA / "custom_schema.yaml"), str(DATA / "import_schema.yaml"))


def describe_all(sf) -> dict:
    return {d["name"]: d for d in fetch_describes(sf)}


@pytest.fixture(scope="module")
def described():
    """Every object of an org with custom objects, fields, picklists and record types."""
    with FakeServer(Org(schema_files=SCHEMAS)) as server:
        return describe_all(fake_salesforce.connect(server.url))


def serve_and_describe(schema_file: Path) -> dict:
    with FakeServer(Org(schema_files=(str(schema_file),))) as server:
        return describe_all(fake_salesforce.connect(server.url))


def test_round_trip_gives_the_same_answers(described, tmp_path):
    imported = import_describes(list(described.values()))
    assert imported.notes == []
    path = tmp_path / "imported.yaml"
    path.write_text(imported.to_yaml())
    again = serve_and_describe(path)
    assert list(again) == list(described)
    for name, answer in described.items():
        assert again[name] == answer, name


def test_only_what_differs_from_the_fakes_own_objects_is_written(described):
    objects = import_describes(list(described.values())).schema["objects"]
    assert set(objects) == {"Contact", "Invoice__c", "Store__c", "Site__c"}
    assert set(objects["Contact"]) == {"fields"}
    assert set(objects["Contact"]["fields"]) == {"External_Id__c", "Loyalty_Tier__c", "Legacy_Ref__c",
                                                 "Preferred_Channel__c"}
    site = objects["Site__c"]
    assert site["record_types"] == [{"name": "Warehouse", "developer_name": "Warehouse", "default": True},
                                    {"name": "Shop", "developer_name": "Shop"}]
    assert site["fields"]["Account__c"] == {
        "type": "reference", "reference_to": ["Account"], "relationship_name": "Account__r",
        "child_relationship": "Sites__r", "cascade_delete": True}
    assert site["fields"]["Kind__c"] == {"type": "picklist", "required": True, "picklist": ["Hub", "Outlet"],
                                         "default": "Hub", "restricted": True}
    assert objects["Contact"]["fields"]["Preferred_Channel__c"]["label"] == "Channel"


def test_the_formats_sf_cli_json_and_a_directory_of_rest_answers(described, tmp_path):
    folder, printed = tmp_path / "rest", []
    folder.mkdir()
    for name in ("Site__c", "Account", "Contact"):
        (folder / f"{name}.json").write_text(json.dumps(described[name]))
        printed.append(tmp_path / f"{name}.sf.json")
        printed[-1].write_text(json.dumps({"status": 0, "result": described[name], "warnings": []}))
    from_dir = import_describes(read_describes([folder]))
    from_cli = import_describes(read_describes(printed))
    assert from_dir.schema == from_cli.schema and from_dir.notes == from_cli.notes == []
    assert from_dir.schema["objects"]["Site__c"]["fields"]["Manager__c"]["child_relationship"] == "Managed_Sites__r"
    # Without the parents, their relationship names are unknown: listed.
    alone = import_describes(read_describes([printed[0]]))
    assert "Site__c.Manager__c: its relationship name on Contact is not known (not described): none given" \
        in alone.notes


def test_what_the_fake_cannot_model_is_listed(described):
    site = json.loads(json.dumps(described["Site__c"]))
    fields = {f["name"]: f for f in site["fields"]}
    fields["Kind__c"]["picklistValues"].append({"active": False, "defaultValue": False, "label": "Old",
                                               "validFor": None, "value": "Old"})
    fields["Kind__c"]["picklistValues"][0]["label"] = "Central hub"
    fields["Area__c"].update(calculated=True, calculatedFormula="Length__c * Width__c")
    fields["Code__c"]["idLookup"] = False
    site["fields"].append({**fields["Opened__c"], "name": "Where__c", "type": "location"})
    site["fields"].append({**fields["Manager__c"], "name": "Campaign__c", "referenceTo": ["Campaign"],
                           "relationshipName": "Campaign__r"})
    site["fields"].append({**fields["Manager__c"], "name": "Who__c", "referenceTo": ["Contact", "Campaign"],
                           "relationshipName": "Who__r", "polymorphicForeignKey": True})
    site["recordTypeInfos"].append({"active": True, "available": True, "defaultRecordTypeMapping": False,
                                    "developerName": "Master", "master": True, "name": "Master",
                                    "recordTypeId": "012000000000000AAA"})
    imported = import_describes([site])
    notes = "\n".join(imported.notes)
    assert "Site__c.Kind__c: inactive picklist values left out: Old" in notes
    assert "Site__c.Kind__c: picklist labels differ from their values" in notes
    assert "Site__c.Area__c: a formula (the fake computes nothing: the field stays empty)" in notes
    assert "Site__c.Code__c: idLookup: the org says False, the fake True" in notes
    assert "Site__c.Where__c: type 'location' is not one the fake knows: left out" in notes
    assert "Site__c.Campaign__c: references Campaign, not imported: left out" in notes
    assert "Site__c.Who__c: references Campaign, not imported: that target left out" in notes
    assert "Site__c: the Master record type is implicit in the fake: left out" in notes
    assert "Who__c" in imported.schema["objects"]["Site__c"]["fields"]
    assert "Campaign__c" not in imported.schema["objects"]["Site__c"]["fields"]
    assert imported.to_yaml().startswith("# Imported from describe answers")


def test_an_object_without_a_key_prefix_is_left_out_and_so_are_references_to_it(described):
    site = json.loads(json.dumps(described["Site__c"]))
    feed = {"name": "Site__Feed", "keyPrefix": None, "fields": [], "label": "Site Feed"}
    manager = next(f for f in site["fields"] if f["name"] == "Manager__c")
    site["fields"].append({**manager, "name": "Feed__c", "referenceTo": ["Site__Feed"], "relationshipName": "Feed__r"})
    imported = import_describes([site, feed])
    assert "Site__Feed: no key prefix (not a record object): left out" in imported.notes
    assert "Site__c.Feed__c: references Site__Feed, not imported: left out" in imported.notes
    assert set(imported.schema["objects"]) == {"Site__c"}


def test_describe_answers_that_contradict_each_other_are_named(described):
    clash = json.loads(json.dumps(described["Site__c"]))
    clash.update(name="Other__c", keyPrefix="a07")
    with pytest.raises(DescribeError, match="the imported schema does not load: .*'a07' is already used by Site__c"):
        import_describes([described["Site__c"], clash])


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"status": 1, "name": "NoSuchSObject", "message": "No such object"}', "the sf command failed: No such object"),
    ('{"fields": []}', "not a describe answer"),
])
def test_bad_input_is_named(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DescribeError, match=message):
        read_describes([path])


# -- the command ---------------------------------------------------------------------------------
def test_import_command_writes_a_file_the_server_takes(described, tmp_path):
    folder = tmp_path / "rest"
    folder.mkdir()
    for name, answer in described.items():
        (folder / f"{name}.json").write_text(json.dumps(answer))
    out = tmp_path / "schema.yaml"
    result = CliRunner().invoke(main, ["schema", "import", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 4 objects" in result.stderr
    assert yaml.safe_load(out.read_text())["objects"]["Site__c"]["key_prefix"] == "a07"
    assert serve_and_describe(out)["Site__c"] == described["Site__c"]


def test_import_command_prints_notes_and_yaml(described, tmp_path):
    site = json.loads(json.dumps(described["Site__c"]))
    site["fields"].append({**site["fields"][-1], "name": "Where__c", "type": "location"})
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site))
    result = CliRunner().invoke(main, ["schema", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["objects"]["Site__c"]["label"] == "Site"
    assert result.stderr.startswith("not modelled by the fake (3):\n  Site__c.Account__c: its relationship "
                                    "name on Account is not known")
    assert "\n  Site__c.Where__c: type 'location' is not one the fake knows: left out\n" in result.stderr


@pytest.mark.parametrize("args, message", [
    ([], "give describe files or directories, or --from-org"),
    (["{tmp}/nothing-here"], "does not exist"),
    (["{tmp}/bad.json"], "not JSON"),
    (["{tmp}/bad.json", "--from-org"], "either describe files or --from-org, not both"),
    (["--sobject", "Account"], "--sobject only goes with --from-org"),
    (["{tmp}/bad.json", "--username", "u"], "--username only goes with --from-org"),
])
def test_import_command_bad_usage_exits_2(tmp_path, args, message):
    (tmp_path / "bad.json").write_text("nope")
    result = CliRunner().invoke(main, ["schema", "import", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_from_org_logs_in_as_to_a_real_org(tmp_path):
    cert, key = make_self_signed(tmp_path / "tls")
    org = Org(schema_files=SCHEMAS, username="ops@acme.example", password="pw")
    with FakeServer(org, certfile=cert, keyfile=key) as server:
        out = tmp_path / "schema.yaml"
        result = CliRunner().invoke(main, [
            "schema", "import", "--from-org", "--sobject", "Site__c", "--sobject", "Account",
            "--domain", server.url, "--username", "ops@acme.example", "--password", "pw",
            "--verify", str(cert), "-o", str(out)], env={"SF_ACCESS_TOKEN": None})
        assert result.exit_code == 0, result.output
        assert "described 2 objects" in result.stderr
        assert set(yaml.safe_load(out.read_text())["objects"]) == {"Site__c"}
        result = CliRunner().invoke(main, ["schema", "import", "--from-org", "--domain", server.url,
                                           "--username", "ops@acme.example", "--password", "wrong",
                                           "--verify", str(cert)])
        assert result.exit_code == 1 and "login refused: INVALID_LOGIN" in result.output
    result = CliRunner().invoke(main, ["schema", "import", "--from-org", "--access-token", "t",
                                       "--instance-url", "https://localhost:1"])
    assert result.exit_code == 3 and "cannot reach https://localhost:1: Connection refused" in result.output
    result = CliRunner().invoke(main, ["schema", "import", "--from-org"], env={
        k: None for k in ("SF_USERNAME", "SF_PASSWORD", "SF_ACCESS_TOKEN", "SF_JWT_KEY_FILE")})
    assert result.exit_code == 2 and "no credentials for the org" in result.output
