"""A local Salesforce org that unmodified Salesforce clients talk to as to a real one."""
from importlib.metadata import PackageNotFoundError, version

from .app import create_app
from .client import connect, make_session
from .org import Org, OrgConfig

try:
    __version__ = version("callsim")   # the distribution's version, from pyproject.toml
except PackageNotFoundError:          # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["Org", "OrgConfig", "__version__", "connect", "create_app", "make_session"]
