"""``callsim``: run scenarios, validate them, log events into an org, receive webhooks, write docs."""
from __future__ import annotations

import fnmatch
import json
import math
import signal
import sys
import threading
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

from sflogin.options import credential_options, login

from .scenario import ScenarioError, load_scenarios, scenario_files, validate_paths


class Seconds(click.FloatRange):
    """A duration in seconds: a finite number >= 0 (``nan`` and ``inf`` are refused)."""

    def __init__(self):
        super().__init__(min=0)

    def convert(self, value, param, ctx):
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return seconds


def default_paths() -> list[Path]:
    """``./scenarios``; without it, a usage error (exit 2) saying what to pass."""
    local = Path("scenarios")
    if not local.is_dir():
        raise click.UsageError(
            f"no PATHS given and no ./scenarios directory in {Path.cwd()}: pass scenario files or "
            "directories, e.g. `callsim run path/to/scenarios`")
    return [local]


class OrgUnreachable(click.ClickException):
    """The org (a URL given on the command line) does not answer: exit 3."""

    exit_code = 3


IN_PROCESS = "in-process"


def org_options(func):
    """The org to write to: a fake (--fake URL, or bare --fake for one in this process), or a
    real org logged into with the usual credentials (options or SF_* variables, see sflogin)."""
    @click.option("--fake", "--url", "fake", is_flag=False, flag_value=IN_PROCESS, default=None,
                  metavar="[URL]", help="Log into a fake org: the URL that `fake-salesforce serve` "
                  "prints, or no URL for a new in-process one. Without --fake: a real org.")
    @credential_options
    @wraps(func)
    def wrapper(*args, fake, credentials, verify, **kwargs):
        if fake is None:
            return func(*args, connect=lambda: login(credentials, verify), **kwargs)
        return func(*args, connect=_fake_connector(fake, credentials, verify), **kwargs)

    return wrapper


def _fake_connector(fake: str, credentials: dict, verify):
    """connect() for a fake org: its SOAP login, through fake_salesforce.connect's transport.
    The SF_* variables (a real org's) are not read."""
    import fake_salesforce
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    for name in ("domain", "access_token", "instance_url", "client_id", "jwt_key_file"):
        if credentials[name] is not None:
            raise click.BadParameter(f"is for a real org; a fake is logged into with --username and "
                                     f"--password (or their defaults)", param_hint=f"--{name.replace('_', '-')}")
    from fake_salesforce.org import DEFAULT_PASSWORD, DEFAULT_USERNAME

    username = credentials["username"] or DEFAULT_USERNAME
    password = credentials["password"] or DEFAULT_PASSWORD
    token = credentials["security_token"] or ""
    target = fake_salesforce.Org() if fake == IN_PROCESS else fake
    where = "the in-process fake org" if fake == IN_PROCESS else fake

    def connect():
        try:
            return fake_salesforce.connect(target, username, password, token, verify=verify)
        except SalesforceAuthenticationFailed as e:
            raise click.ClickException(f"login to {where} failed: {e}") from None
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--fake") from None
        except OSError as e:
            raise OrgUnreachable(f"cannot reach {where}: {_reason(e)}") from None

    return connect


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


EXIT_CODES = """\b
Exit status:
  0  every scenario passed
  1  a scenario failed: an expectation was not met, or it could not be run;
     with --org real, the login was refused
  2  bad usage: a bad option, an invalid scenario file, no scenario selected,
     or --server holding records without --reset-ok; with --org real,
     credentials missing or contradicting each other
  3  the org at --server cannot be reached, or stops answering during the run
     (with --org real: the org the credentials log into)
  4  the --integration TARGET cannot be used: module or attribute not
     found, not callable, or its URL does not answer
  130  interrupted (Ctrl-C); with --org real, after deleting what the run created"""


class BadIntegration(click.ClickException):
    """--integration names something that cannot be used: exit 4."""

    exit_code = 4


@main.command(short_help="Replay scenarios and compare with expectations.", epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-k", "pattern", metavar="PATTERN",
              help="Only scenarios whose name or file matches (substring, or a glob with * ?).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write report.md, report.json and index.html into this directory.")
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown", "json"]), default="terminal",
              show_default=True, help="Output format on standard output.")
@click.option("--server", metavar="URL", help="Run against a `fake-salesforce serve` at URL instead of "
              "an in-process org. Its org is RESET (every record deleted) before each scenario and "
              "once more at the end.")
@click.option("--reset-ok", is_flag=True, help="Let --server reset an org that holds records "
              "(without it, callsim refuses to delete them).")
@click.option("--keep-last", is_flag=True, help="Leave the last scenario's records in the --server org "
              "(no reset at the end), to look at them in its web pages.")
@click.option("--integration", "integration_target", default="builtin", show_default=True,
              metavar="TARGET", help="What to test: builtin (the logging core), module:function (a "
              "Python callable (sf, webhook), or a class with handle, from the current directory), or "
              "http://host:port/path (a running service sent each webhook as Aircall does).")
@click.option("--quiet-period", type=Seconds(), default=0.5, show_default=True,
              metavar="SECONDS", help="With an http TARGET: the org counts as settled after this long "
              "without an API request.")
@click.option("--org-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="With an http TARGET: the port the org listens on (0: any free port).")
@click.option("--handshake", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("callsim-org.json"), show_default=True,
              help="With an http TARGET: where to write the org's URL, an access token, its "
              "certificate and the webhook token, as JSON, before each scenario.")
@click.option("-n", "--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Replay scenarios in this many processes, each with its own in-process org "
              "(the builtin integration only).")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write what the org showed (each scenario's timelines, Tasks and created records) "
              "as JSON into this directory, one file per scenario, for `callsim diff`.")
@click.option("--org", "org_kind", type=click.Choice(["fake", "real"]), default="fake", show_default=True,
              help="real: parity mode, the scenarios against the org the credentials log into, set "
              "up through the standard REST API only; every record a scenario creates is deleted "
              "after it (see README, Against a real org).")
@click.option("--write-gap", type=Seconds(), default=1.0, show_default=True,
              metavar="SECONDS", envvar="CALLSIM_WRITE_GAP", show_envvar=True,
              help="With --org real: the time between the run's writes, so that their order shows in "
              "LastModifiedDate (Salesforce keeps it to the second).")
@click.option("-v", "--verbose", is_flag=True, help="Show the tables of passing scenarios too.")
@credential_options
def run(paths, pattern, report_dir, fmt, server, reset_ok, keep_last, integration_target, quiet_period,
        org_port, handshake, workers, record_dir, org_kind, write_gap, verbose, credentials, verify):
    """Replay scenarios through the logging core and compare with expectations.

    PATHS are scenario files or directories (default: ./scenarios). The credential options
    (or SF_* variables) are for --org real.
    """
    from .report import render, write_reports
    from .runner import Runner

    if org_kind == "real":
        for given, hint in ((server, "--server"), (workers > 1, "-n/--workers"), (keep_last, "--keep-last"),
                            (reset_ok, "--reset-ok")):
            if given:
                raise click.BadParameter("does not go with --org real (parity mode runs on the org "
                                         "the credentials log into, one scenario at a time, and "
                                         "resets nothing)", param_hint=hint)
    else:
        named = [f"--{k.replace('_', '-')}" for k, v in credentials.items() if v is not None]
        if named or verify is not True:
            raise click.BadParameter("is for --org real (a real org's credentials)",
                                     param_hint=(named or ["--verify"])[0])

    if workers > 1 and server:
        raise click.BadParameter("runs scenarios in parallel, each process on its own in-process org; "
                                 "a --server org is one org that every scenario resets, so scenarios "
                                 "cannot share it (drop -n or --server)", param_hint="-n/--workers")
    if workers > 1 and integration_target != "builtin":
        raise click.BadParameter("runs the builtin logging core in parallel processes; another "
                                 "--integration is one target the scenarios would share (drop -n)",
                                 param_hint="-n/--workers")
    for given, hint in ((keep_last, "--keep-last"), (reset_ok, "--reset-ok")):
        if given and not server:
            raise click.BadParameter("only means something with --server", param_hint=hint)
    if workers > 1 and record_dir:
        raise click.BadParameter("records from one process (drop -n)", param_hint="--record")
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
        sys.exit(2)
    _make_dir(report_dir, "--report")
    _make_dir(record_dir, "--record")
    integration = _integration(integration_target, quiet=quiet_period, handshake=handshake)
    if org_kind == "real":
        _run_parity(scenarios, integration, credentials, verify, write_gap=write_gap, fmt=fmt,
                    verbose=verbose, report_dir=report_dir, record_dir=record_dir)
    runner = _runner(Runner, server, integration=integration, port=org_port)
    runner.recording = bool(record_dir)
    if integration.needs_server:
        click.echo(f"org at {runner.target}; the service finds it in {handshake}", err=True)
    if server and not reset_ok:
        _refuse_to_wipe(runner, server)

    show_progress = fmt == "terminal" and sys.stderr.isatty() or len(scenarios) >= 20

    def progress(n, total, result):
        if show_progress:
            mark = "." if result.passed else "F"
            click.echo(mark, nl=False, err=True)
            if n == total or n % 60 == 0:
                click.echo(f" {n}/{total}", err=True)

    try:
        if workers > 1 and len(scenarios) > 1:
            from .runner import run_parallel

            results = run_parallel(scenarios, min(workers, len(scenarios)), progress)
        else:
            results = runner.run_all(scenarios, progress)
    finally:
        runner.close()
    answering = _after_run(runner, server, reset=not keep_last) if server else True
    click.echo(render(results, fmt, verbose=verbose))
    if report_dir:
        with _writing("--report"):
            for path in write_reports(results, report_dir, server):
                click.echo(f"wrote {path}", err=True)
    if record_dir:
        from .recording import write_recording

        with _writing("--record"):
            paths = write_recording(results, record_dir)
        click.echo(f"recorded {_plural(len(paths), 'scenario')} in {record_dir}", err=True)
    if not answering:
        raise OrgUnreachable(f"the org at {server} stopped answering during the run")
    sys.exit(0 if all(r.passed for r in results) else 1)


def _run_parity(scenarios, integration, credentials, verify, *, write_gap, fmt, verbose, report_dir,
                record_dir):
    """``callsim run --org real``: parity mode (simulator.parity); exits."""
    from .parity import ParityRunner, skip_reason
    from .report import render, write_reports

    if integration.needs_server:
        raise click.BadParameter("an http TARGET does not go with --org real yet (parity mode "
                                 "runs builtin or module:function)", param_hint="--integration")
    sf = login(credentials, verify)
    runner = ParityRunner(sf, integration=integration, write_gap=write_gap)
    click.echo(f"parity mode on {sf.sf_instance}: records created by this run carry "
               f"{runner.tag} and are deleted after each scenario", err=True)
    leftovers = sum(len(ids) for ids in runner.sweep_tagged().values())
    if leftovers:
        click.echo(f"warning: the org holds {_plural(leftovers, 'record')} tagged by an earlier "
                   "callsim run (`callsim cleanup` deletes them); they may change what scenarios match",
                   err=True)
    skipped = [(sc, reason) for sc in scenarios if (reason := skip_reason(sc))]
    for sc, reason in skipped:
        click.echo(f"skipped: {sc.name} ({sc.path}): {reason}", err=True)
    to_run = [sc for sc in scenarios if not skip_reason(sc)]
    runner.recording = bool(record_dir)
    results = []

    def progress(n, total, result):
        results.append(result)
        click.echo("." if result.passed else "F", nl=n == total, err=True)

    try:
        runner.run_all(to_run, progress)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted after {_plural(len(results), 'scenario')}; "
                   f"{_parity_footer(runner)}", err=True)
        sys.exit(130)
    except OSError as e:
        raise OrgUnreachable(f"the org at {sf.sf_instance} stopped answering: {_reason(e)}") from None
    click.echo(render(results, fmt, verbose=verbose))
    if report_dir:
        with _writing("--report"):
            for path in write_reports(results, report_dir):
                click.echo(f"wrote {path}", err=True)
    if record_dir:
        from .recording import write_recording

        with _writing("--record"):
            paths = write_recording(results, record_dir, [(sc, f"skipped in parity mode: {why}")
                                                          for sc, why in skipped])
        click.echo(f"recorded {_plural(len(paths), 'scenario')} in {record_dir}", err=True)
    click.echo(_parity_footer(runner), err=True)
    sys.exit(0 if all(r.passed for r in results) else 1)


def _parity_footer(runner) -> str:
    lines = [f"deleted {_plural(runner.deleted, 'record')} the run created. {runner.usage.summary()}."]
    if runner.leftovers:
        lines.append(f"warning: {_plural(len(runner.leftovers), 'record')} could not be deleted:")
        lines += [f"  {line}" for line in runner.leftovers]
    return "\n".join(lines)


@contextmanager
def _writing(option: str):
    """A file of --report or --record that cannot be written (a folder in its place, a full
    disk): one usage line naming it, after the run's results were shown."""
    try:
        yield
    except OSError as e:
        raise click.BadParameter(f"cannot write {e.filename or 'into the folder'}: {e.strerror or e}",
                                 param_hint=option) from None


def _make_dir(directory: Path | None, option: str) -> None:
    if directory:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise click.BadParameter(f"cannot create {directory}: {e.strerror or e}", param_hint=option)


def _integration(target: str, **http_options):
    """The integration --integration names, checked before any scenario runs."""
    from .integrations import IntegrationError, load
    from .runner import WEBHOOK_TOKEN

    try:
        integration = load(target, token=WEBHOOK_TOKEN, **http_options)
        if integration.needs_server:
            _handshake_folder(http_options["handshake"])
            integration.check_reachable()
    except IntegrationError as e:
        raise BadIntegration(str(e)) from None
    return integration


def _handshake_folder(handshake: Path) -> None:
    """Make the folder of the handshake file now, not when the first scenario writes it."""
    try:
        Path(handshake).parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise click.BadParameter(f"cannot create the folder of {handshake}: {e.strerror or e}",
                                 param_hint="--handshake") from None


def _runner(runner_class, server: str | None, **options):
    """A Runner on the in-process org, or on the fake at ``server`` once it answers."""
    import requests

    from fake_salesforce.control import ControlError

    try:
        runner = runner_class(server, **options)
    except OSError as e:  # --org-port taken
        raise click.BadParameter(str(e), param_hint="--org-port") from None
    except ValueError as e:  # not a URL the client can use
        raise click.BadParameter(str(e), param_hint="--server") from None
    try:
        runner.control.info()
    except ValueError as e:  # requests' InvalidURL, MissingSchema...
        raise click.BadParameter(f"{server!r}: {e}", param_hint="--server") from None
    except requests.exceptions.RequestException as e:
        raise OrgUnreachable(f"cannot reach the fake org at {server}: {_reason(e)} "
                             "(is `fake-salesforce serve` running there?)") from None
    except ControlError as e:
        raise OrgUnreachable(f"{server} does not answer as a fake-salesforce server: {e}") from None
    return runner


def _reason(error: Exception) -> str:
    """The innermost cause of a connection error, e.g. "Connection refused"."""
    while error.__context__ is not None or error.args and isinstance(error.args[0], Exception):
        error = error.__context__ or error.args[0]
    return str(getattr(error, "strerror", None) or error)


def _after_run(runner, server: str, reset: bool) -> bool:
    """Leave a fresh org, which the next run may reset without asking (unless told to keep the
    last scenario's records). False when the org no longer answers."""
    import requests

    from fake_salesforce.control import ControlError

    try:
        runner.control.reset() if reset else runner.control.info()
    except requests.exceptions.RequestException:
        return False
    except ControlError as e:
        click.echo(f"warning: could not reset the org at {server} after the run: {e}", err=True)
    return True


def _refuse_to_wipe(runner, server: str) -> None:
    held = runner.records_beyond_fresh()
    if held:
        listed = ", ".join(f"{n} {name}" for name, n in sorted(held.items()))
        click.echo(f"Error: the org at {server} holds records ({listed}); callsim run resets the org "
                   "before each scenario, which deletes them. Pass --reset-ok to go ahead.", err=True)
        sys.exit(2)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _matches(pattern: str, *texts: str) -> bool:
    glob = any(c in pattern for c in "*?[")
    for text in texts:
        if (fnmatch.fnmatch(text, pattern) if glob else pattern.lower() in text.lower()):
            return True
    return False


DIFF_EXIT_CODES = """\b
Exit status:
  0  the recordings are the same
  1  they differ (the differences are printed)
  2  bad input: a directory that is missing or holds no recording, a file
     that is not one"""


@main.command(short_help="Compare two recordings (callsim run --record).", epilog=DIFF_EXIT_CODES)
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown"]), default="terminal",
              show_default=True, help="Table format.")
def diff(a, b, fmt):
    """Compare the recordings in directories A and B, scenario by scenario.

    Prints one row per difference: the scenario, where in its recording (a timeline, a Task's
    field, a created record, a check), the value in A and the value in B.
    """
    from tabulate import tabulate

    from .recording import RecordingError, compare, load_recording

    try:
        left, right = load_recording(a), load_recording(b)
    except RecordingError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    rows = compare(left, right)
    if not rows:
        click.echo(f"no differences ({_plural(len(left), 'scenario')})")
        return
    table = tabulate(rows, headers=["scenario", "where", f"A: {a}", f"B: {b}"],
                     tablefmt="github" if fmt == "markdown" else "simple", disable_numparse=True,
                     maxcolwidths=None if fmt == "markdown" else [30, 40, 30, 30])
    scenarios = len({row[0] for row in rows})
    click.echo(table)
    click.echo(f"\n{_plural(len(rows), 'difference')} in {_plural(scenarios, 'scenario')} "
               f"(of {len(set(left) | set(right))})")
    sys.exit(1)


CLEANUP_EXIT_CODES = """\b
Exit status:
  0  every tagged record found was deleted (or there was none)
  1  the login was refused, or some records could not be deleted (listed)
  2  credentials missing or contradicting each other
  3  the org cannot be reached"""


@main.command(short_help="Delete the records parity runs left in an org.", epilog=CLEANUP_EXIT_CODES)
@credential_options
def cleanup(credentials, verify):
    """Delete every record a `callsim run --org real` tagged (callsim-...) and left in the org,
    say when it was killed before it could clean up.

    Records the integration itself created carry no tag: a run deletes them after each
    scenario, and this command cannot tell them from the org's own.
    """
    from .parity import ParityRunner

    runner = ParityRunner(login(credentials, verify))
    found = runner.sweep_tagged()
    runner.delete(found)
    listed = ", ".join(f"{len(ids)} {name}" for name, ids in sorted(found.items())) or "nothing"
    click.echo(f"found {listed}; deleted {_plural(runner.deleted, 'record')}. {runner.usage.summary()}.")
    if runner.leftovers:
        for line in runner.leftovers:
            click.echo(f"not deleted: {line}", err=True)
        sys.exit(1)


@main.command(short_help="Check scenario files without running them.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths):
    """Check scenario files without running them (exit 2 when any is invalid)."""
    paths = list(paths) or default_paths()
    errors = validate_paths(paths)
    if errors:
        for line in errors:
            click.echo(line, err=True)
        sys.exit(2)
    count = len(scenario_files(paths))
    if not count:   # as `run` does: an empty folder is a mistake, not a pass
        click.echo(f"no scenario files (*.yaml, *.yml) in {', '.join(str(p) for p in paths)}", err=True)
        sys.exit(2)
    click.echo(f"{_plural(count, 'scenario file')} {'is' if count == 1 else 'are'} valid")


ORG_EXIT_CODES = """\b
Exit status:
  0  done (webhooks: stopped with Ctrl-C)
  1  refused: a bad event or settings file, a failed login, an org error,
     a port in use
  2  bad usage: a bad option or a missing file; credentials missing or
     contradicting each other
  3  the org cannot be reached"""


def settings_option(func):
    return click.option(
        "--settings", "settings_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Settings YAML: the keys of a scenario's settings: block (workflow actions, unknown "
             "numbers, business hours...). Defaults apply when absent.")(func)


@main.command("log", short_help="Log Aircall webhook JSON files into an org.", epilog=ORG_EXIT_CODES)
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@settings_option
@org_options
def log_command(event_file, settings_file, connect):
    """Log the Aircall webhook(s) of EVENT_FILE (one JSON object or a list) into an org.

    Prints each delivery's outcome as one line of JSON.
    """
    from .core import CoreError, log_file

    settings = _settings(settings_file)
    sf = connect()
    try:
        outcomes = log_file(sf, settings, event_file)
    except CoreError as e:
        raise click.ClickException(str(e)) from None
    for outcome in outcomes:
        click.echo(json.dumps(outcome.to_dict(), default=str))


def webhook_server(app, host: str, port: int):
    """The server ``callsim webhooks`` runs ``app`` on (cheroot), not started: enough workers,
    and a short socket timeout, that slow or stalled clients cannot starve it."""
    from cheroot import wsgi

    return wsgi.Server((host, port), app, numthreads=64, timeout=5, server_name="callsim-webhooks")


@main.command(short_help="Receive Aircall webhooks and log them into an org.", epilog=ORG_EXIT_CODES)
@settings_option
@click.option("--token", required=True, help="The Aircall webhook token every delivery must carry "
              "in its JSON body (\"token\": ...); others get 401.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@org_options
def webhooks(settings_file, token, host, port, connect):
    """Receive Aircall webhooks on POST /webhooks/aircall and log each delivery into the org.

    Prints one line per delivery (event, call id, status, outcome, time taken) until Ctrl-C.
    """
    import logging

    from .core.receiver import create_receiver
    from .core.receiver import log as delivery_log

    settings = _settings(settings_file)
    if not token.strip():
        raise click.BadParameter("must not be empty", param_hint="--token")
    if not host.strip():
        raise click.BadParameter("must not be empty (0.0.0.0 listens on every interface)", param_hint="--host")
    connect()  # fail now, not at the first delivery, when the org is unreachable
    app = create_receiver(connect, settings, token)
    server = webhook_server(app, host, port)
    try:
        server.prepare()
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {_reason(e)}") from None
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    delivery_log.addHandler(handler)
    delivery_log.setLevel(logging.INFO)
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
        delivery_log.removeHandler(handler)
        click.echo("Stopped.")


@main.command("docs", short_help="Write or check the behaviour tables (behaviour.md).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Directory of behaviour.md and behaviour.html.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when DIR/behaviour.md or behaviour.html differs from what "
                   "would be generated.")
@click.option("--scenarios", "scenarios_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
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
        if not check:  # before the tables are built: a folder that cannot be made fails at once
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise click.BadParameter(f"cannot create {out_dir}: {e.strerror or e}",
                                         param_hint="--out") from None
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
    try:
        for path, text in outputs:
            path.write_text(text, encoding="utf-8")
            click.echo(f"wrote {path} ({elapsed})", err=True)
    except OSError as e:
        raise click.BadParameter(f"cannot write into {out_dir}: {e.strerror or e}", param_hint="--out") from None

if __name__ == "__main__":
    main()
