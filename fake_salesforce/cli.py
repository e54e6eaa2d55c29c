"""``fake-salesforce``: run a fake org as a standalone server."""
from __future__ import annotations

import json
import signal
import sys
import threading
import tempfile
from pathlib import Path

import click
from click.core import ParameterSource
import yaml

from . import errors, phones, yaml_keys
from .org import DEFAULT_PASSWORD, DEFAULT_USERNAME, ORDERS, Org
from .schema import SchemaError
from .store import StoreError, collector_paused, holds_org
from sflogin import LoginError
from sflogin.options import as_click_error, credential_options, login


class _SeedLoader(yaml_keys.BaseLoader):
    """YAML as a seed file means it: ``Birthdate: 1990-01-01`` is the text a client would send,
    not a Python date the JSON API never receives."""


_SeedLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _parse_seed(text: str):
    """A seed file's data: JSON read by the json module (a big org's file is JSON, and read
    ten to a hundred times faster so), anything else as YAML (libyaml's parser when present)."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML flow style, or broken: YAML's parser says which
    return yaml.load(text, Loader=_SeedLoader)


def _read_yaml(path: Path, hint: str):
    try:
        return _parse_seed(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint=hint) from None
    except UnicodeDecodeError:
        raise click.BadParameter(f"cannot read {path}: not UTF-8 text", param_hint=hint) from None
    except yaml.YAMLError as e:
        raise click.BadParameter(f"{path} is not valid YAML/JSON: {e}", param_hint=hint) from None


def _load_faults(path: Path) -> list[dict]:
    from .errors import SalesforceError
    from .faults import parse_rules

    data = _read_yaml(path, "--faults")
    rules = data.get("faults") if isinstance(data, dict) else data
    try:
        parse_rules(rules)
    except SalesforceError as e:
        raise click.BadParameter(f"{path}: {e.message}", param_hint="--faults") from None
    return rules


def _load_seed(path: Path) -> list[dict]:
    with collector_paused():   # a big seed file is a great many new objects at once (see store.py)
        data = _read_yaml(path, "--seed")
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise click.BadParameter(f"{path}: expected 'records:' (a list of {{sobject, fields}})",
                                 param_hint="--seed")
    return records


def _load_jwt_certs(items: tuple[str, ...]) -> dict[str, str]:
    """``CONSUMER_KEY=CERT.pem`` pairs, each file checked to be a certificate or public key."""
    from .tls import public_key

    certs = {}
    for item in items:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise click.BadParameter(f"expected CONSUMER_KEY=CERT.pem, got {item!r}", param_hint="--jwt-cert")
        try:
            pem = Path(path).read_text(encoding="utf-8")
            public_key(pem)
        except OSError as e:
            raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="--jwt-cert") from None
        except ValueError:  # not UTF-8 text, or not PEM
            raise click.BadParameter(f"{path} is not a PEM certificate or public key",
                                     param_hint="--jwt-cert") from None
        certs[key] = pem
    return certs


def _open_db(db: Path | None) -> bool:
    """Whether ``--db`` names a file that already holds an org; a clear error if it cannot."""
    if db is None:
        return False
    try:
        return holds_org(db)
    except StoreError as e:
        raise click.BadParameter(str(e), param_hint="--db") from None


def _remove_db(db: Path) -> None:
    for path in (db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-board", "-requests", "-requests.1"))):
        path.unlink(missing_ok=True)


SNIPPET = """\
    import fake_salesforce
    sf = fake_salesforce.connect("{url}"{verify})
    print(sf.query("SELECT Id, Username FROM User"))
"""


def _country(ctx, param, value):
    try:
        return phones.check_country(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="callsim")
def main():
    """A local Salesforce org that unmodified Salesforce clients talk to."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file to keep the org in (survives restarts); in memory by default.")
@click.option("--schema", "schema_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of extra objects or fields (repeatable).")
@click.option("--seed", "seed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON file of records to create, records: [{sobject, fields}], only into a "
                   "new org: with a --db file that already holds one, it is skipped (and says so).")
@click.option("--id-seed", default="0", show_default=True, help="Seed for deterministic record ids.")
@click.option("--order", type=click.Choice(ORDERS), default="recent", show_default=True,
              help="Row order of queries without ORDER BY.")
@click.option("--default-country", default="US", show_default=True, callback=_country,
              help="ISO 3166 country whose dialling rules read phone numbers stored without + "
                   "(FR: '06 12 34 56 78' is found as +33612345678).")
@click.option("--username", default=DEFAULT_USERNAME, show_default=True,
              help="Login of the admin user of a new org (an org kept in --db keeps its own).")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True,
              help="Password of the admin user.")
@click.option("--security-token", default="", help="Appended to the password at login.")
@click.option("--jwt-cert", "jwt_certs", multiple=True, metavar="CONSUMER_KEY=CERT.pem",
              help="Accept JWT bearer logins from this connected app, signed by this certificate.")
@click.option("--tls", is_flag=True, help="Serve HTTPS on a self-signed certificate.")
@click.option("--cert-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where --tls writes its certificate (default: a temporary directory).")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@click.option("--pages-open", is_flag=True,
              help="Serve the web pages without a login (for local use only).")
@click.option("--control-token", default=None, envvar="FAKE_SF_CONTROL_TOKEN",
              help="Open the control API (/_fake/) to any client sending this token in "
                   "X-Fake-Control-Token; without it, loopback clients only.")
@click.option("--no-control", is_flag=True,
              help="No control API: /_fake/ answers 404 NOT_FOUND, as a real org does (the org is "
                   "then arranged through the Salesforce APIs only).")
@click.option("--faults", "faults_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON file of faults to inject: faults: [{path, method, kind, status, "
                   "error_code, seconds, times | probability, seed}] (see fake_salesforce/faults.py).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes sharing the org (in its --db file, or a temporary one): "
                   "more than one uses more than one core. Bulk API 2.0 jobs, --faults and JWT "
                   "certificates registered through the control API need a single process.")
@click.option("--api-limit", type=click.IntRange(1), default=None,
              help="Enforce a daily API limit of N requests: past it, REQUEST_LIMIT_EXCEEDED.")
def serve(host, port, db, schema_files, seed_file, id_seed, order, default_country, username, password,
          security_token, jwt_certs, tls, cert_dir, quiet, pages_open, control_token, no_control,
          faults_file, workers, api_limit):
    """Serve a fake org until Ctrl-C.

    It prints its URL, the admin's credentials and a Python snippet to connect. A bad flag or
    file stops it with one line saying what is wrong: exit code 2 for a bad flag, 1 when the
    org cannot start (a schema error, a seed record Salesforce would refuse, a busy port).
    """
    from .server import FakeServer

    if not host.strip():
        raise click.BadParameter("must not be empty (0.0.0.0 listens on every interface)", param_hint="--host")
    if not username.strip():
        raise click.BadParameter("the admin user needs a login", param_hint="--username")
    if control_token is not None and not control_token.strip():
        raise click.BadParameter("must not be empty", param_hint="--control-token")
    if no_control and control_token:
        raise click.BadParameter("opens the control API that --no-control switches off: give one",
                                 param_hint="--control-token")
    certs = _load_jwt_certs(jwt_certs)
    if workers > 1 and faults_file:
        raise click.BadParameter("fault rules are kept by one server process: give --faults without "
                                 "--workers", param_hint="--faults")
    fault_rules = _load_faults(faults_file) if faults_file else None
    scratch = None
    if workers > 1 and db is None:
        # in memory-backed storage where there is some: the file only lives as long as the server
        shm = Path("/dev/shm")
        scratch = Path(tempfile.mkdtemp(prefix="fake-salesforce-", dir=shm if shm.is_dir() else None))
        db = scratch / "org.db"
    records = _load_seed(seed_file) if seed_file else None
    existing = _open_db(db)
    try:
        options = dict(schema_files=tuple(str(p) for p in schema_files), db_path=str(db) if db else None,
                       seed=id_seed, order=order, default_country=default_country,
                       username=username, password=password,
                       security_token=security_token, jwt_certificates=certs, shared=workers > 1)
        org = Org(**options)
        if api_limit:
            org.config.api_limit, org.config.enforce_api_limit = api_limit, True
    except (SchemaError, StoreError) as e:
        raise click.ClickException(str(e)) from None
    try:
        seeded = None
        if records is not None and not existing:
            try:
                seeded = org.seed(records)
            except errors.SalesforceError as e:
                raise click.ClickException(f"--seed {seed_file}: {e.error_code}: {e.message}") from None
        certfile = keyfile = None
        if tls:
            from .tls import make_self_signed

            folder = cert_dir or tempfile.mkdtemp(prefix="fake-salesforce-")
            try:
                certfile, keyfile = make_self_signed(folder, ("localhost", host))
            except OSError as e:
                raise click.ClickException(f"cannot write the TLS certificate into {folder}: "
                                           f"{e.strerror}") from None
        if workers > 1 and port == 0:
            port = _free_port(host)   # the workers share one port: it must be known before they start
        try:
            server = FakeServer(org, host, port, certfile=certfile, keyfile=keyfile, quiet=quiet,
                                pages_open=pages_open, control_token=control_token,
                                fault_rules=fault_rules, control_api=not no_control,
                                reuse_port=workers > 1)
        except OSError as e:
            raise click.ClickException(str(e)) from None
        if workers > 1:
            org.store.close()   # each worker process opens its own connection
            server_options = dict(certfile=certfile, keyfile=keyfile, quiet=quiet, pages_open=pages_open,
                                  control_token=control_token, control_api=not no_control, reuse_port=True)
            pool = Workers(workers, host, server.port, options, server_options, api_limit)
            server.stop()   # it found the port; the workers listen on it
            pool.start()
    except BaseException:
        org.store.close()
        if db and not existing:
            _remove_db(db)  # a failed start leaves no half-made org behind
        raise

    # Ctrl-C and SIGTERM stop the server from another thread: its loop then returns.
    def stop(*_):
        threading.Thread(target=pool.stop if workers > 1 else server.stop, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        verify = f', verify="{certfile}"' if certfile else ""
        click.echo(f"Fake Salesforce org listening on {server.url}")
        click.echo(f"  web pages: {server.url}/" + (" (no login: --pages-open)" if pages_open else
                                                    " (log in with the credentials below)"))
        click.echo(f"  username: {username}   password: {password}   security token: "
                   f"{security_token or '(empty)'}")
        if workers > 1:
            click.echo(f"  {workers} worker processes (pids {', '.join(map(str, pool.pids))})")
        if db and not scratch:
            click.echo(f"  data kept in {db}" + (" (an org from an earlier run)" if existing else ""))
        if existing and org.authenticate(username, password + security_token) is None:
            click.echo(f"  note: these credentials do not log in to the org in {db}: it keeps the "
                       "admin login it was made with")
        given = click.get_current_context().get_parameter_source("id_seed") != ParameterSource.DEFAULT
        if existing and given and str(id_seed) != str(org.config.seed):
            click.echo(f"  note: --id-seed {id_seed} not applied: the org in {db} keeps the id seed it "
                       f"was made with ({org.config.seed}), so its ids stay unique")
        if seeded is not None:
            click.echo(f"  seeded {len(seeded)} record{'s' * (len(seeded) != 1)} from {seed_file}")
        elif records is not None:
            click.echo(f"  --seed {seed_file} skipped: {db} already holds an org, whose records are "
                       "kept (delete the file to start again from the seed)")
        if certfile:
            click.echo(f"  TLS certificate: {certfile}")
        if no_control:
            click.echo("  control API (/_fake/): off")
        click.echo("Connect from Python:\n" + SNIPPET.format(url=server.url, verify=verify))
        click.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()
        if workers > 1:
            failed = pool.wait()
            if failed:
                raise click.ClickException(failed)
        else:
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if workers > 1:
            pool.stop()
            if scratch:
                _remove_db(db)
                scratch.rmdir()
        else:
            server.stop()
            org.store.close()
        click.echo("Stopped.")


@main.group()
def schema():
    """Schema files: the objects and fields an org has beyond the standard ones."""


@schema.command("import")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--from-org", is_flag=True,
              help="Describe the objects of an org instead, logged into with the credentials below "
                   "(or the SF_* environment variables).")
@click.option("--sobject", "sobjects", multiple=True, metavar="NAME",
              help="With --from-org: describe this object only (repeatable; default: every object).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema file here (default: standard output).")
@click.option("-v", "--verbose", is_flag=True, help="List every note, not a few of each kind.")
@credential_options
def import_command(sources, from_org, sobjects, out, verbose, credentials, verify):
    """Turn describe answers into a schema file for `serve --schema`.

    SOURCES are the JSON `sf sobject describe --json` prints, REST describe answers
    (GET /services/data/vXX.X/sobjects/NAME/describe), JSON lists of them, or directories of
    *.json files of them. With --from-org, the org is asked instead.

    Custom objects and fields, picklists, record types, references and relationship names carry
    over; of the objects the fake already has, only what differs is written. What the fake cannot
    model is listed on standard error (and at the top of the file).
    """
    from simple_salesforce.exceptions import SalesforceError

    from .schema.importer import DescribeError, fetch_describes, import_describes, read_describes

    if sources and from_org:
        raise click.UsageError("either describe files or --from-org, not both")
    given = [f"--{k.replace('_', '-')}" for k, v in credentials.items() if v is not None]
    for flag in (["--sobject"] if sobjects else []) + given + (["--verify"] if verify is not True else []):
        if not from_org:
            raise click.UsageError(f"{flag} only goes with --from-org")
    if not sources and not from_org:
        raise click.UsageError("give describe files or directories, or --from-org")
    try:
        if from_org:
            sf = login(credentials, verify)
            describes = fetch_describes(sf, sobjects)
            click.echo(f"described {len(describes)} object{'s' * (len(describes) != 1)} of "
                       f"https://{sf.sf_instance}", err=True)
        else:
            describes = read_describes(sources)
        imported = import_describes(describes)
    except DescribeError as e:
        raise click.UsageError(str(e)) from None
    except LoginError as e:  # logged in, then the org stopped answering
        raise as_click_error(e) from None
    except SalesforceError as e:  # simple-salesforce's: a describe the org refused
        raise click.ClickException(f"the org refused a describe: {e}") from None
    text = imported.to_yaml()
    if out:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as e:
            raise click.BadParameter(f"cannot write {out}: {e.strerror}", param_hint="--out") from None
        count = len(imported.schema["objects"])
        click.echo(f"wrote {out}: {count} object{'s' * (count != 1)}", err=True)
    else:
        click.echo(text, nl=False)
    if imported.notes:
        click.echo(f"not modelled by the fake ({len(imported.notes)}):", err=True)
        for line in _grouped(imported.notes, verbose):
            click.echo(f"  {line}", err=True)


def _grouped(notes: list[str], verbose: bool, shown: int = 5) -> list[str]:
    """Every note, or the first few of each kind (the same describe key, or the same words)."""
    if verbose:
        return notes
    kinds: dict[str, list[str]] = {}
    for note in notes:
        where, _, what = note.partition(": ")
        kind = what.split(":", 1)[0] if ": the org says" in what else what.split(" (", 1)[0][:40]
        kinds.setdefault(kind, []).append(note)
    lines = []
    for group in kinds.values():
        lines += group[:shown]
        if len(group) > shown:
            lines.append(f"... and {len(group) - shown} more like these (-v lists them)")
    return lines


def _free_port(host: str) -> int:
    import socket

    try:
        family = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            return probe.getsockname()[1]
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}: {e.strerror or e}") from None


class Workers:
    """``serve --workers N``: N forked processes, each with its own connection to the org's
    database file and its own server on the same port (the system shares the connections)."""

    def __init__(self, n: int, host: str, port: int, org_options: dict, server_options: dict,
                 api_limit: int | None):
        self.n, self.host, self.port = n, host, port
        self.org_options, self.server_options, self.api_limit = org_options, server_options, api_limit
        self.pids: list[int] = []
        self._stopping = False

    def start(self) -> None:
        import os

        ready_r, ready_w = os.pipe()
        for index in range(self.n):
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                self._child(index, ready_w)   # never returns
            self.pids.append(pid)
        os.close(ready_w)
        ready = 0
        while ready < self.n:
            got = os.read(ready_r, self.n)
            if not got:
                break
            ready += len(got)
        os.close(ready_r)
        if ready < self.n:
            self.stop()
            raise click.ClickException("a worker process could not start")

    def _child(self, index: int, ready_w: int) -> None:
        import os

        from .server import FakeServer

        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent stops the workers
            org = Org(**self.org_options)
            if self.api_limit:
                org.config.api_limit, org.config.enforce_api_limit = self.api_limit, True
            server = FakeServer(org, self.host, self.port, worker=(index, self.n), **self.server_options)
            signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop, daemon=True).start())
            os.write(ready_w, b"1")
            os.close(ready_w)
            server.serve_forever()
            org.store.close()
            status = 0
        except BaseException as e:  # noqa: BLE001  (say why, then leave)
            print(f"fake-salesforce worker {os.getpid()}: {e}", file=sys.stderr, flush=True)
        finally:
            os._exit(status)

    def wait(self) -> str | None:
        """Until every worker has ended; why, when one ended unasked."""
        import os

        reason = None
        remaining = set(self.pids)
        while remaining:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            remaining.discard(pid)
            if not self._stopping and reason is None:
                reason = f"worker process {pid} ended (status {status}); stopping the others"
                self.stop()
        return reason

    def stop(self) -> None:
        import os

        self._stopping = True
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    main()
