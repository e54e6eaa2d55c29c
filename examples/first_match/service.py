"""``first_match.log_call`` as a web service receiving Aircall webhooks (werkzeug).

It finds the org in the handshake file ``callsim run`` writes before each scenario
(``callsim-org.json`` in the current directory, or the path in ``CALLSIM_HANDSHAKE``) and reads
it again for every webhook, since each scenario starts a fresh org with a new session.

    python service.py 8099   # then, from the same directory:
    callsim run ../../scenarios --integration http://127.0.0.1:8099/aircall
"""
import json
import os
import sys
from pathlib import Path

import requests
from simple_salesforce import Salesforce
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from first_match import log_call


def connect() -> tuple[Salesforce, str]:
    """A client on the org the handshake names, and the token webhooks must carry."""
    org = json.loads(Path(os.environ.get("CALLSIM_HANDSHAKE", "callsim-org.json")).read_text())
    session = requests.Session()
    if org.get("ca_file"):
        session.verify = org["ca_file"]
        session.trust_env = False  # else requests prefers REQUESTS_CA_BUNDLE over session.verify
    sf = Salesforce(instance_url=org["instance_url"], session_id=org["access_token"],
                    version=org.get("api_version", "59.0"), session=session)
    return sf, org["webhook_token"]


@Request.application
def app(request: Request) -> Response:
    if request.method != "POST":
        return Response("POST Aircall webhooks here\n", status=405)
    webhook = request.get_json(silent=True)
    if not isinstance(webhook, dict):
        return Response("expected a JSON object\n", status=400)
    sf, token = connect()
    if webhook.get("token") != token:
        return Response("bad token\n", status=403)
    log_call(sf, webhook)
    return Response("ok\n")


def serve(port: int = 0):
    """A server on 127.0.0.1 (any free port by default); call ``serve_forever()`` on it."""
    return make_server("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    server = serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8099)
    print(f"receiving Aircall webhooks at http://127.0.0.1:{server.server_port}/aircall", flush=True)
    server.serve_forever()
