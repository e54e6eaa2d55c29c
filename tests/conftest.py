from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def fake_sf_options():
    """Every test org also has the custom fields of tests/data/custom_schema.yaml."""
    return {"schema_files": (str(DATA / "custom_schema.yaml"),)}
