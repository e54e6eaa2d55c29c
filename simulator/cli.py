"""``callsim``: run scenarios, validate them, log events into an org, receive webhooks, write docs."""
from __future__ import annotations

import fnmatch
import json
import signal
import sys
import threading
from functools import wraps
from pathlib import Path

import click

from .scenario import ScenarioError, load_scenarios, scenario_files, validate_paths

def default_paths() -> list[Path]:
    """``./scenarios``; without it, a usage error (exit 2) saying what to pass."""
    local = Path("scenarios")
    if not local.is_dir():
        raise click.UsageError(
            f"no PATHS given and no ./scenarios directory in {Path.cwd()}: pass scenario files or "
            "directories, e.g. `callsim run path/to/scenarios`")
    return [local]


def org_options(func):
    """--url/--username/--password/--security-token: the Salesforce org to write to."""
    @click.option("--url", required=True, metavar="URL",
                  help="The org: a fake-salesforce server URL (http://127.0.0.1:8080).")
    @click.option("--username", default="admin@example.com", show_default=True)
    @click.option("--password", default="password", show_default=True)
    @click.option("--security-token", default="", help="Appended to the password at login.")
    @click.option("--verify", default=None, metavar="CERT", help="CA certificate for an https URL.")
    @wraps(func)
    def wrapper(*args, url, username, password, security_token, verify, **kwargs):
        import fake_salesforce
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed

        def connect():
            try:
                return fake_salesforce.connect(url, username, password, security_token,
                                               verify=verify if verify else True)
            except SalesforceAuthenticationFailed as e:
                raise click.ClickException(f"login to {url} failed: {e}") from None
            except ValueError as e:
                raise click.BadParameter(str(e), param_hint="--url") from None
            except OSError as e:
                raise click.ClickException(f"cannot reach {url}: {e}") from None

        return func(*args, connect=connect, **kwargs)

    return wrapper


def _settings(path):
    from .core import Settings, SettingsError

    if path is None:
        return Settings()
    try:
        return Settings.from_yaml(path)
    except SettingsError as e:
        raise click.ClickException(str(e)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callsim")
def main():
    """Test how Aircall logs calls into Salesforce, against a fake org."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-k", "pattern", metavar="PATTERN",
              help="Only scenarios whose name or file matches (substring, or a glob with * ?).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write report.md, report.json and index.html into this directory.")
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown", "json"]), default="terminal",
              show_default=True, help="Output format on standard output.")
@click.option("--server", metavar="URL", help="Run against a `fake-salesforce serve` at URL "
              "instead of an in-process org.")
@click.option("-v", "--verbose", is_flag=True, help="Show the tables of passing scenarios too.")
def run(paths, pattern, report_dir, fmt, server, verbose):
    """Replay scenarios through the logging core and compare with expectations.

    PATHS are scenario files or directories (default: ./scenarios). Exit status: 0 when every
    scenario passes, 1 when an expectation fails, 2 when a file is invalid.
    """
    from .report import render, write_reports
    from .runner import Runner

    paths = list(paths) or default_paths()
    try:
        scenarios = load_scenarios(paths)
    except ScenarioError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    if pattern:
        scenarios = [s for s in scenarios if _matches(pattern, s.name, s.path)]
    if not scenarios:
        click.echo("no scenarios to run" + (f" (nothing matches -k {pattern!r})" if pattern else ""), err=True)
        sys.exit(2 if not pattern else 0)
    try:
        runner = Runner(server)
        runner.control.info()
    except Exception as e:
        raise click.ClickException(f"cannot reach the fake org at {server}: {e}") from None

    show_progress = fmt == "terminal" and sys.stderr.isatty() or len(scenarios) >= 20

    def progress(n, total, result):
        if show_progress:
            mark = "." if result.passed else "F"
            click.echo(mark, nl=False, err=True)
            if n == total or n % 60 == 0:
                click.echo(f" {n}/{total}", err=True)

    results = runner.run_all(scenarios, progress)
    click.echo(render(results, fmt, verbose=verbose))
    if report_dir:
        for path in write_reports(results, report_dir, server):
            click.echo(f"wrote {path}", err=True)
    sys.exit(0 if all(r.passed for r in results) else 1)


def _matches(pattern: str, *texts: str) -> bool:
    glob = any(c in pattern for c in "*?[")
    for text in texts:
        if (fnmatch.fnmatch(text, pattern) if glob else pattern.lower() in text.lower()):
            return True
    return False


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths):
    """Check scenario files without running them (exit 2 when any is invalid)."""
    paths = list(paths) or default_paths()
    errors = validate_paths(paths)
    if errors:
        for line in errors:
            click.echo(line, err=True)
        sys.exit(2)
    click.echo(f"{len(scenario_files(paths))} scenario files are valid")


@main.command("log")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--settings", "settings_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Settings YAML (the keys of a scenario's settings:); defaults when absent.")
@org_options
def log_command(event_file, settings_file, connect):
    """Log the Aircall webhook(s) of EVENT_FILE (one JSON object or a list) into an org."""
    from .core import CoreError, log_file

    settings = _settings(settings_file)
    sf = connect()
    try:
        outcomes = log_file(sf, settings, event_file)
    except CoreError as e:
        raise click.ClickException(str(e)) from None
    for outcome in outcomes:
        click.echo(json.dumps(outcome.to_dict(), default=str))


@main.command()
@click.option("--settings", "settings_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--token", required=True, help="The Aircall webhook token deliveries must carry.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535))
@org_options
def webhooks(settings_file, token, host, port, connect):
    """Receive Aircall webhooks on POST /webhooks/aircall and log each delivery into the org."""
    from cheroot import wsgi

    from .core.receiver import create_receiver

    settings = _settings(settings_file)
    connect()  # fail now, not at the first delivery, when the org is unreachable
    app = create_receiver(connect, settings, token)
    server = wsgi.Server((host, port), app, numthreads=4, server_name="callsim-webhooks")
    try:
        server.prepare()
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e}") from None
    # Ctrl-C and SIGTERM stop the server from another thread: its loop then returns.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: threading.Thread(target=server.stop, daemon=True).start())
    try:
        click.echo(f"Receiving Aircall webhooks on http://{host}:{server.bind_addr[1]}/webhooks/aircall "
                   "(Ctrl-C to stop)")
        sys.stdout.flush()
        server.serve()
    finally:
        server.stop()


@main.command("docs")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Directory of behaviour.md and behaviour.html.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when DIR/behaviour.md or behaviour.html differs from what "
                   "would be generated.")
@click.option("--scenarios", "scenarios_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Scenario library for the rule coverage table (default: ./scenarios).")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The logging rules, as docs/rules.md (default: the copy inside the package).")
def docs_command(out_dir, check, scenarios_dir, rules_file):
    """Write behaviour.md and behaviour.html: tables built by running the logging core against a fake org.

    Every table is a matrix of generated scenarios replayed through the real core; each cell is
    read back from the org. With --check, exit 0 when the file is current and 1 (printing a
    short diff) when it is stale.
    """
    import time

    from . import docs as behaviour
    from .html import render_behaviour
    from .rules import RulesError, read_rules

    started = time.perf_counter()
    try:
        read_rules(rules_file)
        tables = behaviour.build_tables(scenarios_dir=scenarios_dir or Path("scenarios"),
                                        rules_file=rules_file,
                                        progress=lambda line: click.echo(line, err=True))
    except (RulesError, behaviour.DocsError) as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    outputs = [(out_dir / behaviour.REPORT_NAME, behaviour.render(tables)),
               (out_dir / behaviour.HTML_NAME, render_behaviour(tables, behaviour.INTRO))]
    elapsed = f"{time.perf_counter() - started:.1f} s"
    if check:
        stale = [(path, diff) for path, text in outputs
                 if (diff := behaviour.stale_diff(path, text)) is not None]
        if not stale:
            click.echo(f"{' and '.join(str(p) for p, _ in outputs)} are up to date ({elapsed})", err=True)
            return
        for path, diff in stale:
            click.echo(f"{path} is stale: run `callsim docs --out {out_dir}` and commit it", err=True)
            click.echo(diff)
        sys.exit(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in outputs:
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path} ({elapsed})", err=True)

if __name__ == "__main__":
    main()
