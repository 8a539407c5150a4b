"""A scripted browser for tests: follows the sign-in URL (its last argument) through the dev
tenant's auto-approve redirect to azobo's loopback listener, as a real browser would.

SCRIPTED_BROWSER_MODE changes what it does:
  follow (default)  follow the redirects
  stray             first send the listener what a browser or a neighbour might (a favicon, a
                    wrong state, a missing code, a POST), then follow
  ipv6              deliver the redirect to [::1] instead of localhost
  ignore            open nothing (the user walked away)
  fail              exit 1 at once (a broken launcher)
  pick:USER         take the account picker (a tenant without auto-approve) and choose USER,
                    whatever account the sign-in URL hints at
SCRIPTED_BROWSER_LOG, when set, names a file that gets one line per request and its status;
SCRIPTED_BROWSER_URLS one that gets each sign-in URL the browser was asked to open."""

import os
import sys
import urllib.error
import urllib.parse
import urllib.request

url = sys.argv[-1]
mode = os.environ.get("SCRIPTED_BROWSER_MODE", "follow")
log_path = os.environ.get("SCRIPTED_BROWSER_LOG")


def log(line):
    if log_path:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(u, method="GET", follow=True, data=None):
    # A browser reaches localhost directly; the tests' proxy variables are for azobo alone.
    handlers = [urllib.request.ProxyHandler({})] + ([] if follow else [NoRedirect])
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(u, method=method, data=data)
    try:
        with opener.open(req, timeout=30) as resp:
            resp.read()
            log(f"{method} {u} {resp.status}")
            return resp.status, resp.headers
    except urllib.error.HTTPError as e:
        e.read()
        log(f"{method} {u} {e.code}")
        return e.code, e.headers


urls_path = os.environ.get("SCRIPTED_BROWSER_URLS")
if urls_path:
    with open(urls_path, "a", encoding="utf-8") as f:
        f.write(url + "\n")
if mode == "fail":
    sys.exit(1)
if mode == "ignore":
    sys.exit(0)

query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
redirect = query["redirect_uri"].rstrip("/")
if mode == "stray":
    fetch(redirect + "/favicon.ico")
    fetch(redirect + "/?code=forged&state=not-the-state")
    fetch(redirect + "/?state=" + urllib.parse.quote(query["state"]))
    fetch(redirect + "/", method="POST")
if mode == "ipv6":
    status, headers = fetch(url, follow=False)
    location = headers["Location"]
    fetch(location.replace("http://localhost:", "http://[::1]:"))
    sys.exit(0)
if mode.startswith("pick:"):
    status, _ = fetch(url, follow=False)
    if status != 200:
        sys.exit(1)
    form = dict(query, username=mode[len("pick:"):])
    parsed = urllib.parse.urlparse(url)
    action = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    status, headers = fetch(action, method="POST", follow=False,
                            data=urllib.parse.urlencode(form).encode())
    if status == 302:
        fetch(headers["Location"])
    sys.exit(0)
fetch(url)
