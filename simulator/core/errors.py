"""Typed errors of the logging core.

Every failure the core reports is one of these, with a message that names what was wrong:
the event and field path of a malformed webhook, the key path of a bad setting, or the
Salesforce errorCode of a failed request.
"""
from __future__ import annotations


class CoreError(Exception):
    """Base class of every error the logging core raises."""


class InvalidEvent(CoreError, ValueError):
    """A webhook delivery is malformed or of an unsupported event; nothing was written.

    The message reads ``<event>: <field path>: <what was expected>``, for example
    ``call.ended: data.direction: expected 'inbound' or 'outbound', got 'sideways'``.
    """

    def __init__(self, message: str, *, event: str | None = None, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.event = event
        self.path = path


class SettingsError(CoreError, ValueError):
    """A setting is missing, unknown or of the wrong value; the message names its key path."""

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path


class SalesforceWriteError(CoreError):
    """Salesforce refused a request for good (validation error, 4xx, malformed query ...).

    ``error_code`` is Salesforce's errorCode (``REQUIRED_FIELD_MISSING``, ``HTTP_404`` when the
    answer carried none), ``sf_message`` its message, ``fields`` the fields it named,
    ``status`` the HTTP status (``None`` for a connection failure) and ``operation`` what the
    core was doing (``create Task``, ``search``, ...).
    """

    transient = False

    def __init__(self, operation: str, error_code: str, message: str, *,
                 status: int | None = None, fields: list[str] | None = None):
        self.operation = operation
        self.error_code = error_code
        self.sf_message = message
        self.status = status
        self.fields = list(fields or [])
        where = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        super().__init__(f"{operation}: {error_code}: {message}{where}")

    @property
    def message(self) -> str:
        return str(self)


class SalesforceUnavailable(SalesforceWriteError):
    """A transient failure (HTTP 5xx, UNABLE_TO_LOCK_ROW, dropped connection) outlasted the
    retries. Nothing is known to be half-written; delivering the event again finishes the job."""

    transient = True
