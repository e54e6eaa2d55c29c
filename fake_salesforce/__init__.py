"""A local Salesforce org that unmodified Salesforce clients talk to as to a real one."""
from .app import create_app
from .client import connect, make_session
from .org import Org, OrgConfig

__all__ = ["Org", "OrgConfig", "connect", "create_app", "make_session"]
