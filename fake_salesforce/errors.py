"""Salesforce errors as classes that carry their wire status and errorCode.

One handler in ``app.py`` turns any of them into Salesforce's JSON error body:
``[{"message": ..., "errorCode": ..., "fields": [...]}]``.
"""
from __future__ import annotations


class SalesforceError(Exception):
    status = 400
    error_code = "UNKNOWN_EXCEPTION"

    def __init__(self, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = list(fields or [])

    def to_wire(self) -> list[dict]:
        body = {"message": self.message, "errorCode": self.error_code}
        if self.fields or self.status == 400:
            body["fields"] = self.fields
        return [body]

    def __repr__(self):
        return f"{type(self).__name__}({self.error_code}: {self.message})"


def _error(name: str, code: str, status: int = 400) -> type[SalesforceError]:
    return type(name, (SalesforceError,), {"error_code": code, "status": status})


RequiredFieldMissing = _error("RequiredFieldMissing", "REQUIRED_FIELD_MISSING")
InvalidField = _error("InvalidField", "INVALID_FIELD")
InvalidFieldForInsertUpdate = _error("InvalidFieldForInsertUpdate", "INVALID_FIELD_FOR_INSERT_UPDATE")
StringTooLong = _error("StringTooLong", "STRING_TOO_LONG")
InvalidEmailAddress = _error("InvalidEmailAddress", "INVALID_EMAIL_ADDRESS")
MalformedId = _error("MalformedId", "MALFORMED_ID")
InvalidCrossReferenceKey = _error("InvalidCrossReferenceKey", "INVALID_CROSS_REFERENCE_KEY")
InvalidRestrictedPicklist = _error("InvalidRestrictedPicklist", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
InvalidType = _error("InvalidType", "INVALID_TYPE")
InvalidTypeOnFieldInRecord = _error("InvalidTypeOnFieldInRecord", "INVALID_TYPE_ON_FIELD_IN_RECORD")
DuplicateValue = _error("DuplicateValue", "DUPLICATE_VALUE")
JsonParserError = _error("JsonParserError", "JSON_PARSER_ERROR")
MalformedQuery = _error("MalformedQuery", "MALFORMED_QUERY")
MalformedSearch = _error("MalformedSearch", "MALFORMED_SEARCH")
InvalidQueryLocator = _error("InvalidQueryLocator", "INVALID_QUERY_LOCATOR")
InvalidQueryFilterOperator = _error("InvalidQueryFilterOperator", "INVALID_QUERY_FILTER_OPERATOR")
CannotInsertUpdate = _error("CannotInsertUpdate", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY")
DeleteFailed = _error("DeleteFailed", "DELETE_FAILED")
InvalidOperation = _error("InvalidOperation", "INVALID_OPERATION")
FieldIntegrityException = _error("FieldIntegrityException", "FIELD_INTEGRITY_EXCEPTION")
NotFound = _error("NotFound", "NOT_FOUND", 404)
EntityIsDeleted = _error("EntityIsDeleted", "ENTITY_IS_DELETED", 404)
InvalidSessionId = _error("InvalidSessionId", "INVALID_SESSION_ID", 401)
MethodNotAllowed = _error("MethodNotAllowed", "METHOD_NOT_ALLOWED", 405)
RequestLimitExceeded = _error("RequestLimitExceeded", "REQUEST_LIMIT_EXCEEDED", 403)
CannotUpdateConvertedLead = _error("CannotUpdateConvertedLead", "CANNOT_UPDATE_CONVERTED_LEAD")
InvalidReplicationDate = _error("InvalidReplicationDate", "INVALID_REPLICATION_DATE")
NumberOutsideValidRange = _error("NumberOutsideValidRange", "NUMBER_OUTSIDE_VALID_RANGE")
ExceededIdLimit = _error("ExceededIdLimit", "EXCEEDED_ID_LIMIT")
InvalidParameterValue = _error("InvalidParameterValue", "INVALID_PARAMETER_VALUE")
ControlForbidden = _error("ControlForbidden", "INSUFFICIENT_ACCESS", 403)
UnknownException = _error("UnknownException", "UNKNOWN_EXCEPTION", 500)
UnableToLockRow = _error("UnableToLockRow", "UNABLE_TO_LOCK_ROW")
UnsupportedMediaType = _error("UnsupportedMediaType", "UNSUPPORTED_MEDIA_TYPE", 415)
# Bulk API 2.0
InvalidJob = _error("InvalidJob", "INVALIDJOB")
InvalidJobState = _error("InvalidJobState", "INVALIDJOBSTATE", 409)
InvalidBatch = _error("InvalidBatch", "INVALIDBATCH")
# The fake refuses what it does not implement, loudly, instead of answering wrongly.
NotImplementedByFake = _error("NotImplementedByFake", "FAKE_NOT_IMPLEMENTED", 501)


class AllOrNoneRolledBack(SalesforceError):
    """A valid item of an all-or-none batch, undone because another item failed."""

    error_code = "ALL_OR_NONE_OPERATION_ROLLED_BACK"

    def __init__(self, message: str = "Record rolled back because not all records were valid and "
                                      "the request was using AllOrNone header"):
        super().__init__(message)


class InvalidSessionError(InvalidSessionId):
    def __init__(self, message: str = "Session expired or invalid"):
        super().__init__(message)

    def to_wire(self) -> list[dict]:
        return [{"message": self.message, "errorCode": self.error_code}]


class MoreThanOneRecord(SalesforceError):
    """External-id get or upsert matched several records: 300 with their URLs."""

    status = 300
    error_code = "MULTIPLE_CHOICES"

    def __init__(self, urls: list[str]):
        super().__init__("More than one record found for external id field")
        self.urls = urls

    def to_wire(self):
        return self.urls
