"""The arrows between the parts point one way: simulator -> core, simulator -> fake, never back."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports(package: str):
    """(module file, imported module name) for every import in a package."""
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield path, node.module


def crossings(package: str, forbidden: tuple[str, ...]):
    return [f"{path.relative_to(ROOT)} imports {name}"
            for path, name in imports(package)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize("package, forbidden", [
    ("simulator/core", ("fake_salesforce", "simulator")),
    ("fake_salesforce", ("simulator",)),
    ("sflogin", ("fake_salesforce", "simulator")),  # real-org login, shared by both commands
])
def test_no_import_crosses_the_arrows(package, forbidden):
    # The core's own modules import each other as simulator.core.*: that is not a crossing.
    found = [c for c in crossings(package, forbidden) if " imports simulator.core" not in c]
    assert found == []



def private_uses(source: str, where: str = "<source>"):
    """``x._name`` attributes and ``getattr(x, "_name")`` calls (dunders aside)."""
    def private(name):
        return name.startswith("_") and not name.startswith("__")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and private(node.attr):
            yield f"{where}:{node.lineno} uses .{node.attr}"
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and private(node.args[1].value)):
            yield f"{where}:{node.lineno} uses {node.func.id}(..., {node.args[1].value!r})"


def test_http_layer_uses_only_the_public_org():
    # The blueprints (REST API and web pages) parse, call the Org's public methods, and
    # serialize: nothing private on the org (or on anything else) is reached from them.
    found = [use for package in ("api", "pages")
             for path in sorted((ROOT / "fake_salesforce" / package).rglob("*.py"))
             for use in private_uses(path.read_text(), str(path.relative_to(ROOT)))]
    assert found == []


@pytest.mark.parametrize("source, found", [
    ("org()._create(obj, {}, uid, True)", 1),
    ("o = org()\nwith o.store._depth: pass", 1),
    ("getattr(org(), '_query_cursors')", 1),
    ("org().create('Contact', {})\nrequest.__class__", 0),
])
def test_the_private_use_check_sees_private_names(source, found):
    assert len(list(private_uses(source))) == found


def module_graph(*packages: str) -> dict[str, set[str]]:
    """Module -> the project modules it imports, at the top or inside a function."""
    modules = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules[".".join(parts)] = (path, is_package)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(resolve(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[:len(here.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:  # `from pkg import module` imports the module
                    targets.add(resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in modules
                                else resolve(base))
        graph[name] = {t for t in targets if t and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    # Counting imports made inside functions too: a lazy import hides a circle, it does not remove it.
    assert cycles(module_graph("fake_salesforce", "simulator", "sflogin")) == []


def test_the_circle_check_finds_circles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_error_code_has_its_own_class():
    from fake_salesforce import errors

    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.SalesforceError) and c is not errors.SalesforceError]
    by_code = {}
    for c in classes:
        if not any(issubclass(c, other) for other in classes if other is not c):  # subclasses share
            by_code.setdefault(c.error_code, []).append(c.__name__)
    assert {code: names for code, names in by_code.items() if len(names) > 1} == {}
    # ... and the fake raises those classes, never the generic one with a code of its own.
    generic = [f"{path.relative_to(ROOT)}:{node.lineno}"
               for path in sorted((ROOT / "fake_salesforce").rglob("*.py")) if path.name != "errors.py"
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
               and getattr(node.func, "attr", getattr(node.func, "id", None)) == "SalesforceError"]
    assert generic == []


def test_the_org_does_not_branch_on_object_names():
    # Per-object behaviour is schema data or a module of fake_salesforce/behaviours/, not an
    # `if obj.name == "Account"` in the org.
    import yaml

    names = set(yaml.safe_load((ROOT / "fake_salesforce/schema/standard.yaml").read_text())["objects"])
    tree = ast.parse((ROOT / "fake_salesforce/org.py").read_text())
    found = [f"org.py:{node.lineno}" for node in ast.walk(tree) if isinstance(node, ast.Compare)
             for part in [node.left, *node.comparators]
             if isinstance(part, ast.Constant) and part.value in names
             or isinstance(part, ast.Tuple | ast.Set | ast.List)
             and any(isinstance(e, ast.Constant) and e.value in names for e in part.elts)]
    assert found == []


def test_field_types_are_listed_in_one_module():
    # A set, tuple or list of several field type names anywhere but fieldtypes.py is a second
    # definition of what the types are (names that are also common words are left out).
    from fake_salesforce.fieldtypes import TYPES

    distinct = set(TYPES) - {"id", "email", "url", "phone", "string", "date", "boolean"}
    found = []
    for path in sorted((ROOT / "fake_salesforce").rglob("*.py")):
        if path.name == "fieldtypes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Set | ast.Tuple | ast.List):
                names = {e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in distinct}
                if len(names) > 1:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(names)}")
    assert found == []
