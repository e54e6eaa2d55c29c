"""Web pages of the fake org: home, object homes, record pages with the Activity timeline, calls.

The pages read the org through the same ``Org`` methods and query engine as the REST API
(describe, SOQL, SOSL), so they always show the org as it is now; nothing is cached. They take a
login (any user of the org, by username and password; a session cookie) unless the app was
created with ``pages_open=True`` (``fake-salesforce serve --pages-open``).

Where the fake differs from Salesforce: pages are plain server-rendered HTML (no Lightning, no
JavaScript), read-only, and show one fixed layout per object built from describe.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from .. import errors
from . import activity
from .records import (
    Column,
    cell,
    display_name,
    format_value,
    list_columns,
    list_path,
    names_of,
    quote,
    record_path,
    shown_fields,
    sosl_term,
)

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/_pages/static")
SESSION_COOKIE = "fake_sf_sid"
PAGE_SIZE = 25
TIMELINE_PAGE = 10
RELATED_ROWS = 10
PAGES_OPEN = "FAKE_SF_PAGES_OPEN"
_PUBLIC = {"pages.login", "pages.static", "pages.frontdoor"}


def _org():
    return current_app.config["ORG"]


@bp.app_template_global()
def record_url(sobject: str | None, record_id: str | None) -> str | None:
    return record_path(sobject, record_id) if sobject and record_id else None


@bp.before_request
def _login_required():
    o = _org()
    if request.endpoint in _PUBLIC:
        return None
    if current_app.config.get(PAGES_OPEN):
        g.user_id = o.admin_id
        return None
    try:
        g.user_id = o.session_user(request.cookies.get(SESSION_COOKIE))
    except errors.SalesforceError:
        return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def _never_cached(response: Response) -> Response:
    # Every page shows the org as it is now: a reset or another org must never be shown stale.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'")
    return response


@bp.errorhandler(errors.SalesforceError)
def _salesforce_error(e: errors.SalesforceError):
    return _error_page(e.status, e.error_code, e.message)


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    return _error_page(e.code or 400, e.name, e.description or "")


def _error_page(status: int, code: str, message: str):
    return render_template("pages/error.html", status=status, code=code, message=message), status


def _query_args() -> dict[str, str]:
    """The query string's parameters, less any that would clash with the path's own."""
    return {k: v for k, v in request.args.items() if k not in (request.view_args or {})}


def _local_target(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.home")


# -- login ---------------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    o = _org()
    target = _local_target(request.values.get("next"))
    failed = False
    if request.method == "POST":
        user_id = o.authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user_id is not None:
            return _signed_in(o.open_session(user_id), target)
        failed = True
    return render_template("pages/login.html", target=target, failed=failed,
                           username=request.form.get("username", "")), (401 if failed else 200)


@bp.get("/secur/frontdoor.jsp")
def frontdoor():
    """Salesforce's front door: an API session id (``sid``) opens the pages as that user."""
    o = _org()
    token = request.args.get("sid", "")
    o.session_user(token)  # INVALID_SESSION_ID when unknown or expired
    return _signed_in(token, _local_target(request.args.get("retURL")))


def _signed_in(token: str, target: str) -> Response:
    response = redirect(target)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", path="/")
    return response


@bp.post("/logout")
def logout():
    _org().sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    response = redirect(url_for("pages.login"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- home ----------------------------------------------------------------------------------------
@bp.get("/")
def home():
    o = _org()
    counts = o.counts()
    objects = [(obj, counts.get(obj.name, 0)) for obj in o.schema]
    latest = o.query(f"SELECT {', '.join(activity.TASK_FIELDS)} FROM Task "
                     "ORDER BY CreatedDate DESC, Id DESC LIMIT 10")["records"]
    today = o.clock.now().date()
    return render_template("pages/home.html", objects=objects,
                           latest=[activity.entry(r, today) for r in latest], org=o)


# -- object home -----------------------------------------------------------------------------------
def _object(sobject: str):
    obj = _org().schema.get(sobject)
    if obj is None:
        raise errors.NotFound(f"No object named '{sobject}' in this org")
    return obj


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise errors.InvalidParameterValue(f"page must be a positive whole number, not {raw!r}")
    return int(raw)


def _sort(columns: list[Column]) -> tuple[Column, bool]:
    name = request.args.get("sort")
    descending = request.args.get("dir", "desc" if name is None else "asc") == "desc"
    if request.args.get("dir") not in (None, "asc", "desc"):
        raise errors.InvalidParameterValue("dir must be asc or desc")
    if name is None:
        return columns[-1], True
    for column in columns:
        if column.name == name:
            return column, descending
    raise errors.InvalidParameterValue(f"cannot sort by {name!r}: sort by one of the list's columns "
                                       f"({', '.join(c.name for c in columns)})")


@bp.get("/lightning/o/<sobject>/list")
def object_home(sobject: str):
    """A searchable, sortable, paged list of one object's records.

    The search box goes through SOSL like the API's search: a number is found in PHONE FIELDS
    on its digits, however it is formatted; words in NAME FIELDS.
    """
    o = _org()
    obj = _object(sobject)
    if obj.name != sobject:
        return redirect(url_for("pages.object_home", sobject=obj.name, **_query_args()))
    columns = list_columns(o, obj)
    sort, descending = _sort(columns)
    page = _page_number()
    search = request.args.get("q", "").strip()
    select = _select(columns, obj)
    order = f"{sort.name} {'DESC' if descending else 'ASC'} NULLS LAST, Id {'DESC' if descending else 'ASC'}"
    offset = (page - 1) * PAGE_SIZE
    total = None
    if search:
        term, scope = sosl_term(search)
        rows = o.search(f"FIND {{{term}}} IN {scope} FIELDS RETURNING {obj.name}({select} "
                        f"ORDER BY {order} LIMIT {PAGE_SIZE + 1} OFFSET {offset})")["searchRecords"]
    else:
        rows = o.query(f"SELECT {select} FROM {obj.name} ORDER BY {order} "
                       f"LIMIT {PAGE_SIZE + 1} OFFSET {offset}")["records"]
        total = o.query(f"SELECT COUNT() FROM {obj.name}")["totalSize"]
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    table = [(_row_link(obj, r), [cell(o, c, r) for c in columns]) for r in rows]
    return render_template("pages/list.html", obj=obj, columns=columns, rows=table, sort=sort,
                           descending=descending, page=page, has_next=has_next, total=total,
                           search=search, scope=scope if search else None)


def _person_field(obj) -> list[str]:
    return ["IsPersonAccount", "AccountId"] if obj.name == "Contact" else []


def _row_link(obj, row: dict) -> str:
    # A person account's Contact opens as its Account, as in Salesforce.
    if obj.name == "Contact" and row.get("IsPersonAccount") and row.get("AccountId"):
        return record_path("Account", row["AccountId"])
    return record_path(obj.name, row["Id"])


# -- record page ---------------------------------------------------------------------------------
@bp.get("/lightning/r/<sobject>/<record_id>/view")
def record_page(sobject: str, record_id: str):
    """A record's fields (from describe), its related lists and its Activity timeline.

    ``?next=N`` / ``?past=N`` show more of each timeline section, as "View More" does.
    """
    o = _org()
    obj = _object(sobject)
    actual = o.object_for_id(record_id)
    if actual is not None and (actual.name != obj.name or obj.name != sobject):
        return redirect(url_for("pages.record_page", sobject=actual.name, record_id=record_id,
                                **_query_args()))
    record = o.get(obj.name, record_id)
    if obj.name == "Contact" and record.get("IsPersonAccount") and record.get("AccountId"):
        return redirect(record_path("Account", record["AccountId"]))
    detail, system = shown_fields(obj, record)
    names = names_of(o, [record.get(f.name) for f in [*detail, *system] if f.type == "reference"])
    fields = [(f, format_value(o, f, record.get(f.name), names)) for f in detail]
    system_fields = [(f, format_value(o, f, record.get(f.name), names)) for f in system]
    timeline = None
    if "Task" in (c.child for c in obj.children.values()) or obj.name == "Account":
        today = o.clock.now().date()
        timeline = activity.record_timeline(o, obj.name, record, today,
                                            next_limit=_more("next"), past_limit=_more("past"))
    return render_template("pages/record.html", obj=obj, record=record,
                           name=display_name(obj, record), fields=fields,
                           system_fields=system_fields, related=_related_lists(o, obj, record),
                           timeline=timeline, person=bool(record.get("IsPersonAccount")),
                           more_url=_more_url, page_link=_link)


def _link(record_id: str | None) -> str | None:
    obj = _org().object_for_id(record_id) if record_id else None
    return record_path(obj.name, record_id) if obj else None


@bp.get("/lightning/r/<record_id>/view")
def record_by_id(record_id: str):
    """The short record URL (no object name), as Salesforce accepts it."""
    url = _link(record_id)
    if url is None:
        raise errors.NotFound(f"No record with id '{record_id}' in this org")
    return redirect(url)


def _more(section: str) -> int:
    raw = request.args.get(section, str(TIMELINE_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise errors.InvalidParameterValue(f"{section} must be a number of entries from 1 to 10000, "
                                     f"not {raw!r}")
    return int(raw)


def _more_url(section: str, shown: int) -> str:
    args = _query_args()
    args[section] = str(shown + TIMELINE_PAGE)
    return url_for("pages.record_page", **request.view_args, **args) + f"#{section}"


def _related_lists(o, obj, record: dict) -> list[dict]:
    """Each child relationship's most recent rows and size.

    A person account shows as one record, as in Salesforce: the lists of its person Contact
    (Cases, contact roles) are merged into its own, and it lists no Contacts or child Accounts.
    """
    lists: dict[str, tuple[str, object, list[str]]] = {}   # child object -> (name, child, conditions)
    parents = [(obj, record["Id"])]
    person_contact = record.get("PersonContactId") if record.get("IsPersonAccount") else None
    if person_contact:
        parents.append((o.schema.get("Contact"), person_contact))
    for parent, parent_id in parents:
        for rel in parent.children.values():
            child = o.schema.get(rel.child)
            if child is None or rel.child in ("Task", "Event"):
                continue  # activities are on the Activity panel
            if person_contact and (rel.child == "Contact" or rel.name == "ChildAccounts"):
                continue
            key = rel.child if person_contact else rel.name
            name, _, conditions = lists.setdefault(key, (rel.name, child, []))
            conditions.append(f"{rel.field} = {quote(parent_id)}")
    out = []
    for name, child, conditions in lists.values():
        exclude = conditions[0].split(" ", 1)[0] if len(conditions) == 1 else None
        columns = list_columns(o, child, exclude=exclude)
        select = _select(columns, child)
        where = " OR ".join(conditions)
        rows = o.query(f"SELECT {select} FROM {child.name} WHERE {where} "
                       f"ORDER BY LastModifiedDate DESC, Id DESC LIMIT {RELATED_ROWS}")["records"]
        total = (len(rows) if len(rows) < RELATED_ROWS else
                 o.query(f"SELECT COUNT() FROM {child.name} WHERE {where}")["totalSize"])
        out.append({"name": name, "label": child.label_plural, "total": total, "columns": columns,
                    "rows": [(_row_link(child, r), [cell(o, c, r) for c in columns]) for r in rows]})
    return out


def _select(columns: list[Column], obj) -> str:
    """The SOQL field list of a table: Id, each column, the id behind each reference column."""
    names = ["Id"]
    for c in columns:
        names.append(c.name)
        if "." in c.name:
            names.append(c.field.name)
    return ", ".join(dict.fromkeys([*names, *_person_field(obj)]))


# -- calls ---------------------------------------------------------------------------------------
@bp.get("/lightning/calls")
def calls():
    """Tasks that record a call (a CallObject), newest first, filterable by call type and result.

    Where the fake differs: Salesforce has no such page (its closest is a Task list view filtered
    on call fields).
    """
    o = _org()
    task = o.schema.get("Task")
    call_types = task.fields["CallType"].picklist
    call_type = request.args.get("type", "")
    if call_type and call_type not in call_types:
        raise errors.InvalidParameterValue(f"type must be one of {', '.join(call_types)}, not {call_type!r}")
    results = [r["CallDisposition"] for r in o.query(
        "SELECT CallDisposition FROM Task WHERE CallObject != null AND CallDisposition != null "
        "GROUP BY CallDisposition ORDER BY CallDisposition")["records"]]
    result = request.args.get("result", "")
    status = request.args.get("status", "")
    if status not in ("", "open", "closed"):
        raise errors.InvalidParameterValue(f"status must be open or closed, not {status!r}")
    page = _page_number()
    where = ["CallObject != null"]
    if call_type:
        where.append(f"CallType = {quote(call_type)}")
    if result:
        where.append(f"CallDisposition = {quote(result)}")
    if status:
        where.append(f"IsClosed = {'true' if status == 'closed' else 'false'}")
    condition = " AND ".join(where)
    rows = o.query(f"SELECT {', '.join(activity.TASK_FIELDS)} FROM Task WHERE {condition} "
                   f"ORDER BY CreatedDate DESC, Id DESC LIMIT {PAGE_SIZE} "
                   f"OFFSET {(page - 1) * PAGE_SIZE}")["records"]
    total = o.query(f"SELECT COUNT() FROM Task WHERE {condition}")["totalSize"]
    today = o.clock.now().date()
    entries = [activity.entry(r, today) for r in rows]
    kinds = names_of(o, [i for e in entries for i in ((e.who or (None,))[0], (e.what or (None,))[0])])
    return render_template("pages/calls.html", entries=entries, kinds=kinds, call_types=call_types,
                           results=results, call_type=call_type, result=result, status=status,
                           page=page, total=total, has_next=page * PAGE_SIZE < total)


@bp.app_template_global()
def object_list_url(sobject: str) -> str:
    return list_path(sobject)


NAV_OBJECTS = ("Account", "Contact", "Lead", "Case", "Opportunity", "Task")


@bp.app_template_global()
def nav_objects() -> list[tuple[str, str]]:
    schema = _org().schema
    return [(o.name, o.label_plural) for o in map(schema.get, NAV_OBJECTS) if o is not None]
