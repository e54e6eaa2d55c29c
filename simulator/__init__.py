"""callsim: the scenario runner, reports and behaviour docs around the logging core."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("callsim")   # the distribution's version, from pyproject.toml
except PackageNotFoundError:          # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
