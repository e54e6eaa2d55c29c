"""The README's "Against a real org" commands, run as written against the fake over HTTPS:
only the placeholders (the org's address, token, consumer key, key file) are replaced, and
--verify names the fake's certificate. Any request beyond loopback goes to a dead proxy."""
import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import requests
import yaml

from sflogin import login

USERNAME, PASSWORD, SECURITY_TOKEN, CLIENT_ID = "ops@acme.example", "s3cret", "TOKEN42", "acme-app"  # conftest's org
ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split("## Against a real org", 1)[1].split("\n## ", 1)[0]


def commands() -> list[list[str]]:
    """The section's commands but parity mode's (tests/simulator/test_parity.py runs those)."""
    found = [shlex.split(line) for block in re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S)
             for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return [words for words in found if not _is_parity(words)]


def _is_parity(words: list[str]) -> bool:   # as tests/test_readme.py::is_parity
    return ("--org" in words or words[:2] in (["callsim", "diff"], ["callsim", "cleanup"])
            or any(w.startswith("recordings/") for w in words))


def serve(words, cwd, env) -> str:
    """Start a server command, read its URL, check the mirrored object is there, stop it."""
    proc = subprocess.Popen(words + ["--port", "0", "--quiet"], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output = ""
        for line in proc.stdout:
            output += line
            if line.startswith("Press Ctrl-C"):
                break
        url = re.search(r"https://localhost:\d+", output).group(0)
        cert = re.search(r"TLS certificate: (\S+)", output).group(1)
        sf = login(username="admin@example.com", password="password", domain=url, verify=cert, env={})
        assert sf.Site__c.describe()["recordTypeInfos"][0]["developerName"] == "Warehouse"
        assert requests.get(url + "/_fake/", verify=cert).status_code == 404
        return output
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)


def test_readme_real_org_commands_run(tls_org, jwt_key, tmp_path):
    sf = login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN, domain=tls_org.url,
               verify=tls_org.certfile, env={})
    contact = sf.Contact.create({"LastName": "Martin", "Phone": "+33612345678"})["id"]
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    (tmp_path / "describes").mkdir()
    for name in ("Account", "Contact", "Site__c"):  # as `sf sobject describe --json` prints them
        (tmp_path / "describes" / f"{name}.json").write_text(json.dumps(
            {"status": 0, "result": getattr(sf, name).describe(), "warnings": []}))
    placeholders = {"SF_DOMAIN=test": f"SF_DOMAIN={tls_org.url}", "acme": tls_org.url, "test": tls_org.url,
                    "https://acme.my.salesforce.com": tls_org.url, "00DXX0000000001!AQ4AQExample": sf.session_id,
                    "3MVG9ExampleConsumerKey": CLIENT_ID, "server.key": str(jwt_key[0])}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SF_")}
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="localhost,127.0.0.1")
    ran = set()
    for words in commands():
        words = [placeholders.get(w, w) for w in words]
        if words[0] == "export":
            env.update(w.split("=", 1) for w in words[1:])
            continue
        if words[:2] == ["fake-salesforce", "serve"]:
            serve(words, tmp_path, env)
            ran.add("serve")
            continue
        (tmp_path / "org-schema.yaml").unlink(missing_ok=True)
        verify = ["--verify", tls_org.certfile] if "describes/" not in words else []
        done = subprocess.run(words + verify, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (words, done.stdout, done.stderr)
        if words[:2] == ["callsim", "log"]:
            assert f'"id": "{contact}"' in done.stdout, done.stdout
            ran.add("log")
        else:
            objects = yaml.safe_load((tmp_path / "org-schema.yaml").read_text())["objects"]
            assert objects["Site__c"]["record_types"][0]["developer_name"] == "Warehouse", objects
            assert "not modelled" not in done.stderr, done.stderr
            ran.add("import")
    assert ran == {"log", "import", "serve"}
