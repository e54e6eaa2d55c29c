"""``fake-salesforce``: run a fake org as a standalone server."""
from __future__ import annotations

import signal
import sys
import threading
import tempfile
from pathlib import Path

import click
import yaml

from . import errors
from .org import DEFAULT_PASSWORD, DEFAULT_USERNAME, ORDERS, Org
from .schema import SchemaError


def _load_seed(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="--seed") from None
    except yaml.YAMLError as e:
        raise click.BadParameter(f"{path} is not valid YAML/JSON: {e}", param_hint="--seed") from None
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise click.BadParameter(f"{path}: expected 'records:' (a list of {{sobject, fields}})",
                                 param_hint="--seed")
    return records



SNIPPET = """\
    import fake_salesforce
    sf = fake_salesforce.connect("{url}"{verify})
    print(sf.query("SELECT Id, Username FROM User"))
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
              help="YAML/JSON file of records to create at start: records: [{sobject, fields}].")
@click.option("--id-seed", default="0", show_default=True, help="Seed for deterministic record ids.")
@click.option("--order", type=click.Choice(ORDERS), default="recent", show_default=True,
              help="Row order of queries without ORDER BY.")
@click.option("--username", default=DEFAULT_USERNAME, show_default=True)
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True)
@click.option("--security-token", default="", help="Appended to the password at login.")
@click.option("--jwt-cert", "jwt_certs", multiple=True, metavar="CONSUMER_KEY=CERT.pem",
              help="Accept JWT bearer logins from this connected app, signed by this certificate.")
@click.option("--tls", is_flag=True, help="Serve HTTPS on a self-signed certificate.")
@click.option("--cert-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where --tls writes its certificate (default: a temporary directory).")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@click.option("--pages-open", is_flag=True,
              help="Serve the web pages without a login (for local use only).")
def serve(host, port, db, schema_files, seed_file, id_seed, order, username, password,
          security_token, jwt_certs, tls, cert_dir, quiet, pages_open):
    """Serve a fake org until Ctrl-C."""
    from .server import FakeServer

    try:
        org = Org(schema_files=tuple(str(p) for p in schema_files), db_path=str(db) if db else None,
                  seed=id_seed, order=order, username=username, password=password,
                  security_token=security_token)
    except SchemaError as e:
        raise click.ClickException(str(e)) from None
    for item in jwt_certs:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise click.BadParameter(f"expected CONSUMER_KEY=CERT.pem, got {item!r}", param_hint="--jwt-cert")
        try:
            org.config.jwt_certificates[key] = Path(path).read_text()
        except OSError as e:
            raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="--jwt-cert") from None
    if seed_file:
        try:
            ids = org.seed(_load_seed(seed_file))
        except errors.SalesforceError as e:
            raise click.ClickException(f"--seed {seed_file}: {e.error_code}: {e.message}") from None
        click.echo(f"Seeded {len(ids)} records from {seed_file}")
    certfile = keyfile = None
    if tls:
        from .tls import make_self_signed

        certfile, keyfile = make_self_signed(cert_dir or tempfile.mkdtemp(prefix="fake-salesforce-"),
                                             ("localhost", host))
    try:
        server = FakeServer(org, host, port, certfile=certfile, keyfile=keyfile, quiet=quiet,
                            pages_open=pages_open)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from None

    # Ctrl-C and SIGTERM stop the server from another thread: its loop then returns.
    def stop(*_):
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        verify = f', verify="{certfile}"' if certfile else ""
        click.echo(f"Fake Salesforce org listening on {server.url}")
        click.echo(f"  web pages: {server.url}/" + (" (no login: --pages-open)" if pages_open else
                                                    " (log in with the credentials below)"))
        click.echo(f"  username: {username}   password: {password}   security token: "
                   f"{security_token or '(empty)'}")
        if db:
            click.echo(f"  data kept in {db}")
        if certfile:
            click.echo(f"  TLS certificate: {certfile}")
        click.echo("Connect from Python:\n" + SNIPPET.format(url=server.url, verify=verify))
        click.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        org.store.close()
        click.echo("Stopped.")
