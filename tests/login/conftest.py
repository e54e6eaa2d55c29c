"""A fake org served over HTTPS, standing in for a real one: reached through plain
simple-salesforce (no transport adapter of the fake's), by a login URL or an instance URL."""
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_salesforce import Org
from fake_salesforce.server import FakeServer
from fake_salesforce.tls import make_self_signed

DATA = Path(__file__).resolve().parents[1] / "data"

# The org's admin and connected app (test files repeat them).
USERNAME, PASSWORD, SECURITY_TOKEN, CLIENT_ID = "ops@acme.example", "s3cret", "TOKEN42", "acme-app"


@pytest.fixture(scope="session")
def jwt_key(tmp_path_factory):
    """(private key file, public key PEM) of the connected app."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("jwt") / "server.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return path, public


@pytest.fixture
def tls_org(tmp_path, jwt_key):
    """A started HTTPS server; ``.url`` is ``https://localhost:PORT``, ``.certfile`` its CA. It
    has a custom object, Site__c, to mirror."""
    cert, key = make_self_signed(tmp_path / "tls")
    org = Org(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN,
              jwt_certificates={CLIENT_ID: jwt_key[1]}, schema_files=(str(DATA / "import_schema.yaml"),))
    with FakeServer(org, certfile=cert, keyfile=key) as server:
        yield server
