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
])
def test_no_import_crosses_the_arrows(package, forbidden):
    # The core's own modules import each other as simulator.core.*: that is not a crossing.
    found = [c for c in crossings(package, forbidden) if " imports simulator.core" not in c]
    assert found == []
