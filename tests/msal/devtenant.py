"""What every Python check against the azobo dev tenant shares: the tenant's startup JSON (from
AZOBO_DEV_TENANT), its control endpoints, the check registry and the closing summary line.

The scripts beside this file import it; it is not run on its own.
"""

import base64
import json
import os
import sys
import traceback

import requests

INFO = json.loads(os.environ["AZOBO_DEV_TENANT"])
AUTHORITY = INFO["authority"]
CONTROL = INFO["control_url"]
USERS = {u["username"].split("@")[0]: u for u in INFO["users"]}

results = []


def check(name):
    """Runs the decorated function at once as the check `name`, recording PASS or FAIL."""

    def wrap(fn):
        try:
            fn()
            results.append((name, True))
            print(f"PASS {name}", flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, not raised
            results.append((name, False))
            print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
        return fn

    return wrap


def control(path, body=None):
    r = requests.post(f"{CONTROL}/{path}", json=body or {}, timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def request_log():
    return requests.get(f"{CONTROL}/requests", timeout=10).json()["requests"]


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def finish(label):
    """Prints the plain 'N passed, N failed' line the Rust test reads, and exits 1 on a failure."""
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{label}: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
