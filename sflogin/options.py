"""The credential options of a click command, and their errors as click exceptions."""
from __future__ import annotations

from functools import wraps
from typing import Any

import click

from . import ENV_VARS, Credentials, LoginError

_HELP = {
    "username": "User to log in as (password and JWT logins).",
    "password": "Password: a password login.",
    "security_token": "Security token, appended to the password.",
    "domain": "Where to log in: login (production, the default), test (a sandbox), a My Domain "
              "name, or an https://HOST[:PORT] URL.",
    "access_token": "Access (session) token: an access-token login, with --instance-url.",
    "instance_url": "The org's instance URL, with --access-token.",
    "client_id": "Consumer key of the connected app: a JWT bearer login, with --jwt-key-file.",
    "jwt_key_file": "Private key (PEM) whose certificate the connected app holds.",
}


class _Exit(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def as_click_error(error: LoginError) -> click.ClickException:
    """``Error: ...`` and the error's exit code (2 credentials, 1 refused, 3 unreachable)."""
    return _Exit(str(error), error.exit_code)


def credential_options(func):
    """Adds --username ... --jwt-key-file and --verify; the command gets ``credentials`` (the
    options given, name -> value or None) and ``verify`` (True or a CA file)."""
    @wraps(func)
    def wrapper(*args, verify=None, **kwargs):
        given = {name: kwargs.pop(name) for name in ENV_VARS}
        return func(*args, credentials=given, verify=verify or True, **kwargs)

    wrapper = click.option("--verify", default=None, metavar="CERT", type=click.Path(exists=True),
                           help="CA certificate (file or directory) to trust for the org's "
                                "https URL (default: the system's, or REQUESTS_CA_BUNDLE).")(wrapper)
    for name in reversed(ENV_VARS):
        wrapper = click.option(f"--{name.replace('_', '-')}", name, default=None,
                               metavar=name.split("_")[-1].upper(),
                               help=f"{_HELP[name]} [env: {ENV_VARS[name]}]")(wrapper)
    return wrapper


def login(credentials: dict[str, Any], verify: Any = True, **options):
    """Log in with the options given (over the SF_* variables), or exit as the error says."""
    try:
        return Credentials.resolve(credentials).login(verify=verify, **options)
    except LoginError as e:
        raise as_click_error(e) from None
