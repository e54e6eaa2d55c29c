"""`fake-salesforce` given bad input: one clear line naming what was wrong, a non-zero exit,
never a traceback, and nothing left half-written."""
import socket
import sqlite3
from pathlib import Path
from unittest import mock

import click
import pytest
from click.testing import CliRunner

from fake_salesforce import Org
from fake_salesforce.cli import main
from fake_salesforce.server import FakeServer
from fake_salesforce.store import StoreError

DATA = Path(__file__).resolve().parents[1] / "data"


class StartedAnyway(Exception):
    """The server came up although its start-up should have failed."""


def serve(*args) -> tuple[int, str]:
    """Run ``fake-salesforce serve`` for a start-up that must fail; its exit code and stderr."""
    with mock.patch.object(FakeServer, "serve_forever", side_effect=StartedAnyway):
        result = CliRunner().invoke(main, ["serve", "--port", "0", "--quiet", *map(str, args)])
    if not isinstance(result.exception, SystemExit):  # a traceback, or the server started
        raise AssertionError(f"expected a clean exit, got {result.exception!r}\n{result.output}")
    return result.exit_code, result.stderr


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# -- --db ---------------------------------------------------------------------------------------
def test_db_in_a_missing_folder(tmp_path):
    code, err = serve("--db", tmp_path / "no" / "such" / "org.db")
    assert code == 2
    assert f"the folder {tmp_path / 'no' / 'such'} does not exist" in one_error_line(err)


def test_db_that_is_not_a_sqlite_file(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# notes\n" * 50)
    code, err = serve("--db", readme)
    assert code == 2
    assert f"{readme} is not a SQLite database" in one_error_line(err)
    assert readme.read_text() == "# notes\n" * 50


def test_db_of_another_application_is_left_alone(tmp_path):
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    code, err = serve("--db", other)
    assert code == 2
    assert f"{other} holds tables of another application" in one_error_line(err)
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_db_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if _writable(folder):
            pytest.skip("running as a user who can write anywhere")
        code, err = serve("--db", folder / "org.db")
    finally:
        folder.chmod(0o700)
    assert code == 2
    assert f"cannot create {folder / 'org.db'}" in one_error_line(err)


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


def test_db_in_use_by_another_org(tmp_path):
    db = tmp_path / "org.db"
    running = Org(db_path=str(db))
    try:
        code, err = serve("--db", db)
        with pytest.raises(StoreError, match="in use by another fake org"):
            Org(db_path=str(db))
    finally:
        running.store.close()
    assert code == 2
    assert f"{db} is in use by another fake org" in one_error_line(err)
    assert Org(db_path=str(db)).admin_id == running.admin_id  # free again once closed


# -- --port and --host --------------------------------------------------------------------------
def test_busy_port_says_why():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = serve("--port", port)
    assert code == 1
    line = one_error_line(err)
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in line
    assert "None" not in line


def test_unknown_host_says_why():
    code, err = serve("--host", "no-such-host.invalid")
    assert code == 1
    assert "cannot listen on no-such-host.invalid:0: unknown host" in one_error_line(err)


@pytest.mark.parametrize("args, message", [
    (("--host", ""), "Invalid value for --host: must not be empty (0.0.0.0 listens on every interface)"),
    (("--control-token", " "), "Invalid value for --control-token: must not be empty"),
], ids=["empty host", "empty control token"])
def test_empty_values_are_usage_errors(args, message):
    code, err = serve(*args)
    assert code == 2
    assert one_error_line(err) == f"Error: {message}"


def test_busy_port_leaves_no_new_db_behind(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _ = serve("--port", taken.getsockname()[1], "--db", tmp_path / "org.db")
    assert code == 1
    assert list(tmp_path.iterdir()) == []


# -- --schema -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, where", [
    ("objects:\n  Contact:\n    fields:\n      Foo__c: {type: strin}\n",
     "objects.Contact.fields.Foo__c.type:"),
    ("objects:\n  Contact:\n    fields:\n      Foo__c: {type: string, bogus: 1}\n",
     "objects.Contact.fields.Foo__c.bogus:"),
    ("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n"
     "      Acc__c: {type: reference, reference_to: [Nope]}\n",
     "objects.Thing__c.fields.Acc__c.reference_to: unknown object 'Nope'"),
    ("objects:\n  Contact:\n    fields: [Foo__c]\n",
     "objects.Contact.fields:"),
    ("objects:\n  Thing__c:\n    key_prefix: 003\n",
     "objects.Thing__c.key_prefix:"),
    ("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n      Size__c: {type: int, length: big}\n",
     "objects.Thing__c.fields.Size__c.length:"),
    ("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n"
     "      Kind__c: {type: picklist, picklist: Gold}\n",
     "objects.Thing__c.fields.Kind__c.picklist:"),
    ("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n"
     "      Vip__c: {type: boolean, required: maybe}\n",
     "objects.Thing__c.fields.Vip__c.required:"),
])
def test_schema_errors_name_the_users_file_and_key(tmp_path, text, where):
    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    code, err = serve("--schema", mine)
    assert code == 1
    line = one_error_line(err)
    assert f"{mine}: {where}" in line
    assert "standard.yaml" not in line


def test_schema_file_that_is_not_text(tmp_path):
    binary = tmp_path / "schema.yaml"
    binary.write_bytes(b"\x00\xff\xfe")
    code, err = serve("--schema", binary)
    assert code == 1
    assert f"{binary}: cannot read schema file" in one_error_line(err)


def test_a_second_schema_file_is_named_for_its_own_fields(tmp_path):
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text("objects:\n  Thing__c:\n    key_prefix: a01\n    fields:\n      A__c: {type: string}\n")
    second.write_text("objects:\n  Thing__c:\n    fields:\n      B__c: {type: strng}\n")
    code, err = serve("--schema", first, "--schema", second)
    assert f"{second}: objects.Thing__c.fields.B__c.type" in one_error_line(err)


# -- --seed -------------------------------------------------------------------------------------
def _seed(tmp_path, text: str) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def test_seed_key_outside_fields_is_refused(tmp_path):
    seed = _seed(tmp_path, "records:\n  - sobject: Contact\n    fields: {LastName: Martin}\n"
                           "    Email: jean@example.com\n")
    code, err = serve("--seed", seed)
    assert code == 1
    line = one_error_line(err)
    assert f"--seed {seed}" in line
    assert "records[0] (Contact)" in line
    assert "unknown key 'Email'" in line and "field values go under 'fields:'" in line


def test_seed_email_is_validated_as_on_create(tmp_path):
    seed = _seed(tmp_path, "records:\n  - {sobject: Contact, fields: {LastName: Martin, Email: notanemail}}\n")
    code, err = serve("--seed", seed)
    assert code == 1
    assert (f"--seed {seed}: INVALID_EMAIL_ADDRESS: records[0] (Contact): "
            "Email: invalid email address: notanemail") in one_error_line(err)


def test_seed_reference_to_a_later_record(tmp_path):
    seed = _seed(tmp_path, "records:\n  - {sobject: Contact, fields: {LastName: A, AccountId: '@1'}}\n"
                           "  - {sobject: Account, fields: {Name: Acme}}\n")
    code, err = serve("--seed", seed)
    assert code == 1
    assert "records[0] (Contact): AccountId: '@1' must name an earlier record" in one_error_line(err)


def test_seed_file_that_is_not_text(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_bytes(b"\x00\xff")
    code, err = serve("--seed", seed)
    assert code == 2
    assert f"cannot read {seed}" in one_error_line(err)


def test_failed_seed_leaves_no_new_db_behind(tmp_path):
    db = tmp_path / "org.db"
    seed = _seed(tmp_path, "records:\n  - {sobject: Contact, fields: {FirstName: NoLastName}}\n")
    code, err = serve("--seed", seed, "--db", db)
    assert code == 1
    assert "REQUIRED_FIELD_MISSING" in one_error_line(err)
    assert not db.exists()


# -- --jwt-cert and --cert-dir -------------------------------------------------------------------
def test_jwt_cert_that_is_not_a_certificate(tmp_path):
    cert = tmp_path / "not-a-cert.yaml"
    cert.write_text("name: not a certificate\n")
    code, err = serve("--jwt-cert", f"myapp={cert}")
    assert code == 2
    assert f"{cert} is not a PEM certificate or public key" in one_error_line(err)


def test_cert_dir_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, err = serve("--tls", "--cert-dir", blocker / "certs")
    assert code in (1, 2)
    assert f"cannot write the TLS certificate into {blocker / 'certs'}" in one_error_line(err)


# -- --username ---------------------------------------------------------------------------------
def test_empty_username_is_refused():
    code, err = serve("--username", "")
    assert code == 2
    assert "--username" in one_error_line(err)


# -- help ---------------------------------------------------------------------------------------
def _commands(group: click.Group):
    yield group
    for command in group.commands.values():
        yield from (_commands(command) if isinstance(command, click.Group) else [command])


def test_every_option_has_help():
    for command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.opts[0]} has no help"


def test_group_help_shows_whole_command_descriptions():
    out = CliRunner().invoke(main, ["--help"], terminal_width=100).output
    for name, command in main.commands.items():
        summary = command.get_short_help_str(limit=1000)
        assert summary in out, f"{name}: {summary!r} is cut in --help"
        assert not summary.endswith("...")


def test_serve_help_says_what_seed_does_with_an_existing_db():
    out = CliRunner().invoke(main, ["serve", "--help"], terminal_width=100).output
    assert "only into a new org" in " ".join(out.split())


def test_seed_json_file_is_validated_and_broken_json_is_named(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text('{"records": [{"sobject": "Contact", "fields": {"LastName": "M", "Email": "nope"}}]}')
    code, err = serve("--seed", seed)
    assert code == 1
    assert "INVALID_EMAIL_ADDRESS: records[0] (Contact): Email: invalid email address: nope" in one_error_line(err)
    seed.write_text('{"records": [{"sobject": "Contact", "fields": {"LastName": "M"}]')
    code, err = serve("--seed", seed)
    assert code == 2
    assert f"{seed} is not valid YAML/JSON" in one_error_line(err)
