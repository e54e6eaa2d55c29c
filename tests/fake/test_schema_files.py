"""Schema files (``--schema``): every mistake is named by file, key path and what was wrong."""
import pytest

import fake_salesforce
from fake_salesforce.schema import SchemaError


@pytest.mark.parametrize("text, message", [
    ("objects:\n  Thing__c: {fields: {}}\n",
     "objects.Thing__c.key_prefix: a new object needs a 3-character key prefix"),
    ("objects:\n  Thing__c: {key_prefix: a0, fields: {}}\n",
     "objects.Thing__c.key_prefix: a key prefix is 3 letters or digits (the start of the object's ids), not 'a0'"),
    ("objects:\n  Thing__c: {key_prefix: a01, feilds: {}}\n",
     "objects.Thing__c.feilds: unknown key; did you mean 'fields'?"),
    ("objects:\n  Contact:\n    fields:\n      Tier__c: {type: picklist, picklsit: [A]}\n",
     "objects.Contact.fields.Tier__c.picklsit: unknown key; did you mean 'picklist'?"),
    ("objects:\n  Contact:\n    fields:\n      Tier__c: {type: text}\n",
     "objects.Contact.fields.Tier__c.type: 'text' is not one of boolean, combobox, currency"),
    ("objects:\n  Contact:\n    fields:\n      Boss__c: {type: reference}\n",
     "objects.Contact.fields.Boss__c.reference_to: a reference field needs the objects it points to"),
    ("objects:\n  Contact:\n    fields:\n      Size__c: {type: int, length: -1}\n",
     "objects.Contact.fields.Size__c.length: Input should be greater than 0"),
    ("objects:\n  Contact:\n    fields:\n      Flag__c: {type: boolean, required: maybe}\n",
     "objects.Contact.fields.Flag__c.required: Input should be a valid boolean"),
    ("objects:\n  Contact:\n    fields:\n      Boss__c: {type: reference, reference_to: [Nobody]}\n",
     "objects.Contact.fields.Boss__c.reference_to: unknown object 'Nobody'"),
    ("objects:\n  Thing__c: {key_prefix: '003'}\n",
     "objects.Thing__c.key_prefix: '003' is already used by Contact"),
    ("contacts: []\n", "contacts: unknown key; expected one of objects"),
    ("object: {}\n", "object: unknown key; did you mean 'objects'?"),
    ("- just a list\n", "(top): expected a mapping with a top-level 'objects:' key"),
    ("objects: [\n", "not valid YAML"),
    ("objects:\n  Contact:\n    record_types: [{name: A, developper_name: A}]\n",
     "objects.Contact.record_types.0.developper_name: unknown key; did you mean 'developer_name'?"),
    ("objects:\n  Contact: {key_prefix: '001'}\n",
     "objects.Contact.key_prefix: the object's key prefix is '003'; an extension cannot change it"),
    # names differing only in case were a sqlite3 OperationalError (duplicate column or table)
    ("objects:\n  Contact:\n    fields:\n      lastname: {type: string}\n",
     "objects.Contact.fields.lastname: the field LastName spelt differently (field names are case-insensitive)"),
    ("objects:\n  Thing__c: {key_prefix: a01, fields: {id: {type: string}}}\n",
     "objects.Thing__c.fields.id: the field Id spelt differently"),
    ("objects:\n  contact: {key_prefix: a01}\n",
     "objects.contact: the object Contact spelt differently (object names are case-insensitive)"),
    ("objects:\n  Thing__c: {key_prefix: a01}\n  THING__c: {key_prefix: a02}\n",
     "objects.THING__c: the object Thing__c spelt differently"),
    # these were accepted, and the name or derived field was silently never filled in
    ("objects:\n  Thing__c: {key_prefix: a01, name_field: Name}\n",
     "objects.Thing__c.name_field: Thing__c has no field 'Name'"),
    ("objects:\n  Contact:\n    fields:\n      Full__c: {type: string, compose: [FirstName, Surname]}\n",
     "objects.Contact.fields.Full__c.compose: Contact has no field 'Surname'"),
    ("objects:\n  Case:\n    fields:\n      Done__c: {type: boolean, true_when: {State: [Closed]}}\n",
     "objects.Case.fields.Done__c.true_when: Case has no field 'State'"),
    ("objects:\n  Case:\n    fields:\n      DoneAt__c: {type: datetime, stamped_when: IsDone}\n",
     "objects.Case.fields.DoneAt__c.stamped_when: Case has no field 'IsDone'"),
    # YAML kept the last of two same keys: the first object was silently dropped
    ("objects:\n  Thing__c: {key_prefix: a01}\n  Thing__c: {key_prefix: a02}\n",
     "not valid YAML: duplicate key 'Thing__c'"),
    ("objects:\n  Thing__c: {key_prefix: a01, fields: {A__c: {type: string, type: int}}}\n",
     "not valid YAML: duplicate key 'type'"),
    # a default the field refuses made every create of the object fail
    ("objects:\n  Contact:\n    fields:\n      Score__c: {type: double, default: high}\n",
     "objects.Contact.fields.Score__c.default: Cannot deserialize instance of double from str value 'high'"),
    ("objects:\n  Contact:\n    fields:\n      Tier__c: {type: picklist, restricted: true, picklist: [A], default: B}\n",
     "objects.Contact.fields.Tier__c.default: Tier: bad value for restricted picklist field: B"),
    # a second relationship of one name silently took the place of the first
    ("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n"
     "      A__c: {type: reference, reference_to: [Account], relationship_name: R__r}\n"
     "      B__c: {type: reference, reference_to: [Contact], relationship_name: r__r}\n",
     "objects.Thing__c.fields.B__c.relationship_name: r__r is already the relationship of A__c"),
    ("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n      A__c: {type: reference, "
     "reference_to: [Account], relationship_name: A__r, child_relationship: Contacts}\n",
     "objects.Thing__c.fields.A__c.child_relationship: Account already has the child relationship "
     "Contacts (Contact.AccountId)"),
    # both were taken: one of two record types of one name was lost, and "the default" was either
    ("objects:\n  Contact:\n    record_types: [{name: A, developer_name: A}, {name: B, developer_name: A}]\n",
     "objects.Contact.record_types: developer_name 'A' is given to more than one record type"),
    ("objects:\n  Contact:\n    record_types: [{name: A, developer_name: A, default: true},"
     " {name: B, developer_name: B, default: true}]\n",
     "objects.Contact.record_types: only one record type can be the default"),
    ("objects:\n  Thing__c: {key_prefix: 'a-!'}\n",
     "objects.Thing__c.key_prefix: a key prefix is 3 letters or digits (the start of the object's ids), not 'a-!'"),
])
def test_schema_file_mistakes_are_named(tmp_path, text, message):
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError) as info:
        fake_salesforce.Org(schema_files=(str(path),))
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}: ")


def test_several_mistakes_are_reported_together(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("objects:\n  Contact:\n    fields:\n"
                    "      A__c: {type: sting}\n      B__c: {type: int, lenght: 3}\n")
    with pytest.raises(SchemaError) as info:
        fake_salesforce.Org(schema_files=(str(path),))
    lines = str(info.value).splitlines()
    assert lines == [f"{path}: objects.Contact.fields.A__c.type: 'sting' is not one of "
                     + ", ".join(sorted(fake_salesforce.fieldtypes.TYPES)),
                     f"{path}: objects.Contact.fields.B__c.lenght: unknown key; did you mean 'length'?"]


def test_yaml_scalars_are_names_in_picklists(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("objects:\n  Contact:\n    fields:\n"
                    "      Answer__c: {type: picklist, restricted: true, picklist: [Yes, No, 42]}\n")
    sf = fake_salesforce.connect(fake_salesforce.Org(schema_files=(str(path),)))
    values = [v["value"] for v in {f["name"]: f for f in sf.Contact.describe()["fields"]}["Answer__c"]["picklistValues"]]
    assert values == ["True", "False", "42"]


def test_record_types_are_records_and_describe_says_which_is_the_default(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("objects:\n"
                    "  Contact:\n"
                    "    label: Person\n"
                    "    record_types:\n"
                    "      - {name: Customer, developer_name: Customer}\n"
                    "      - {name: Supplier, developer_name: Supplier, default: true}\n"
                    "  Account:\n"
                    "    record_types:\n"
                    "      - {name: Business, developer_name: Business_Account}\n")
    org = fake_salesforce.Org(schema_files=(str(path),))
    sf = fake_salesforce.connect(org)
    rows = sf.query("SELECT Id, SobjectType, DeveloperName, IsPersonType FROM RecordType ORDER BY Id")["records"]
    assert [(r["SobjectType"], r["DeveloperName"], r["IsPersonType"]) for r in rows] == [
        ("Account", "PersonAccount", True), ("Account", "Business_Account", False),
        ("Contact", "Customer", False), ("Contact", "Supplier", False)]
    contact = sf.Contact.describe()
    assert contact["label"] == "Person"  # an extension's object keys replace the standard's
    assert [(r["developerName"], r["defaultRecordTypeMapping"]) for r in contact["recordTypeInfos"]] == [
        ("Customer", False), ("Supplier", True)]
    # Account's Business_Account, renamed by the file, is no longer the default; person accounts still work
    account = sf.Account.describe()
    assert [(r["name"], r["defaultRecordTypeMapping"]) for r in account["recordTypeInfos"]] == [
        ("Person Account", False), ("Business", False)]
    person = sf.Account.create({"LastName": "Person", "RecordTypeId": rows[0]["Id"]})["id"]
    assert sf.Account.get(person)["IsPersonAccount"] is True


def test_serve_names_a_case_clash_in_one_line(tmp_path):
    from click.testing import CliRunner

    from fake_salesforce.cli import main
    path = tmp_path / "schema.yaml"
    path.write_text("objects:\n  Contact:\n    fields:\n      email: {type: email}\n")
    result = CliRunner().invoke(main, ["serve", "--schema", str(path), "--port", "0"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].endswith(
        f"{path}: objects.Contact.fields.email: the field Email spelt differently (field names are case-insensitive)")
    assert "Traceback" not in result.output
