"""The logging core: Aircall webhook deliveries logged into Salesforce as the rules say.

It is handed a ``simple_salesforce.Salesforce`` and uses only what a real org offers.
"""
from .api import RetryPolicy, sosl_escape
from .errors import CoreError, InvalidEvent, SalesforceUnavailable, SalesforceWriteError, SettingsError
from .events import CallEvent, IgnoredEvent, MessageEvent, parse_webhook
from .files import log_file, read_deliveries
from .logger import CallLogger, log_event
from .outcome import Outcome, RecordRef
from .settings import Action, CallType, LogOnRelated, Settings, UnknownNumber

__all__ = [
    "Action", "CallEvent", "CallLogger", "CallType", "CoreError", "IgnoredEvent", "InvalidEvent", "LogOnRelated",
    "MessageEvent", "Outcome", "RecordRef", "RetryPolicy", "SalesforceUnavailable",
    "SalesforceWriteError", "Settings", "SettingsError", "UnknownNumber", "log_event", "log_file",
    "parse_webhook", "read_deliveries", "sosl_escape",
]
