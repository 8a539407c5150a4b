"""A scripted browser for tests: follows the sign-in URL (the last argument) through the dev
tenant's auto-approve redirect to azobo's loopback listener, as a real browser would.

SCRIPTED_BROWSER_LOG, when set, names a file that gets the URL opened (for assertions)."""

import os
import sys
import urllib.error
import urllib.request

url = sys.argv[-1]
log = os.environ.get("SCRIPTED_BROWSER_LOG")
if log:
    with open(log, "a", encoding="utf-8") as f:
        f.write(url + "\n")
try:
    with urllib.request.urlopen(url, timeout=30) as resp:
        resp.read()
except urllib.error.HTTPError as e:
    # An error page (e.g. a refused sign-in) is still a page the browser showed.
    e.read()
