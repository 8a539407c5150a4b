"""azure-identity, the ARM SDK and MSAL's instance discovery judge the azobo dev tenant.

Run by `cargo test` (tests/it/msal.rs) against `azobo dev-tenant --tls`: the tenant's startup JSON
arrives in AZOBO_DEV_TENANT and its CA in REQUESTS_CA_BUNDLE; AZURE_AUTHORITY_HOST names the
dev tenant, as the README tells users to set it. Each check prints PASS or FAIL; the last line is
'N passed, N failed' and the exit code is 1 when any check failed.
"""

import os
import threading
import time
import urllib.parse

import azure.identity
import msal
import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential, OnBehalfOfCredential
from azure.mgmt.subscription import SubscriptionClient

from devtenant import AUTHORITY, INFO, USERS, check, claims_of, control, finish, request_log

BASE = INFO["base_url"]
TENANT = INFO["tenant_id"]
DISCOVERY = f"{BASE}/common/discovery/instance"
ARM_DEFAULT = "https://management.azure.com/.default"
AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
REDIRECT = "http://localhost:53118"

assert os.environ.get("AZURE_AUTHORITY_HOST") == BASE, "the test sets AZURE_AUTHORITY_HOST"


def mark():
    """The sequence number the next logged request gets."""
    log = request_log()
    return log[-1]["seq"] + 1 if log else 0


def paths_since(seq):
    return [e["path"] for e in request_log() if e["seq"] >= seq]


def sign_in(app, user, scopes):
    """Auth code + PKCE with the browser replaced by requests (auto-approve picks the user)."""
    control("auto-approve", {"username": USERS[user]["username"]})
    flow = app.initiate_auth_code_flow(list(scopes), redirect_uri=REDIRECT)
    r = requests.get(flow["auth_uri"], allow_redirects=False, timeout=10)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    query = urllib.parse.urlparse(r.headers["Location"]).query
    return app.acquire_token_by_auth_code_flow(flow, dict(urllib.parse.parse_qsl(query)))


class DiscoveryAtTheDevTenant(RequestsTransport):
    """azure-identity has no setting for MSAL's instance-discovery URL (only on or off): this
    transport sends the discovery call MSAL addresses to login.microsoftonline.com to the dev
    tenant instead, and everything else where it was going."""

    def send(self, request, **kwargs):
        prefix = "https://login.microsoftonline.com/common/discovery/instance"
        if request.url.startswith(prefix):
            request.url = DISCOVERY + request.url[len(prefix):]
        return super().send(request, **kwargs)


STATE = {}


@check("MSAL with instance_discovery=<dev tenant>: discovery, then auth code + PKCE, then the cache")
def _():
    before = mark()
    app = msal.PublicClientApplication(INFO["cli_client_id"], authority=AUTHORITY, instance_discovery=DISCOVERY)
    result = sign_in(app, "alice", [INFO["api_scope"]])
    assert "access_token" in result, result
    paths = paths_since(before)
    assert "/common/discovery/instance" in paths, paths
    assert f"/{TENANT}/v2.0/.well-known/openid-configuration" in paths, paths
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [USERS["alice"]["username"]], accounts
    silent = app.acquire_token_silent([INFO["api_scope"]], account=accounts[0])
    assert silent and silent["access_token"] == result["access_token"], silent


@check("the README's MSAL recipe: client credentials with instance_discovery=<dev tenant>")
def _():
    app = msal.ConfidentialClientApplication(
        INFO["api_client_id"], client_credential=INFO["api_client_secret"], authority=AUTHORITY,
        instance_discovery=BASE + "/common/discovery/instance")
    result = app.acquire_token_for_client(["https://management.azure.com/.default"])
    assert result.get("token_type") == "Bearer", result


@check("MSAL with instance_discovery=<dev tenant> refuses an authority on another host (invalid_instance)")
def _():
    port = urllib.parse.urlparse(BASE).port
    try:
        msal.ConfidentialClientApplication(
            INFO["api_client_id"], client_credential=INFO["api_client_secret"],
            authority=f"https://localhost:{port}/{TENANT}", instance_discovery=DISCOVERY)
    except ValueError as e:
        assert "invalid_instance" in str(e), e
    else:
        raise AssertionError("an unknown instance was accepted")


@check("MSAL device code for the Azure CLI's client id (organizations), and ARM lists its tenants")
def _():
    app = msal.PublicClientApplication(AZURE_CLI, authority=f"{BASE}/organizations", instance_discovery=DISCOVERY)
    flow = app.initiate_device_flow(scopes=["https://management.core.windows.net//.default"])
    assert "user_code" in flow, flow
    out = {}
    poller = threading.Thread(target=lambda: out.update(app.acquire_token_by_device_flow(flow)))
    poller.start()
    time.sleep(1.5)
    control("device/approve", {"user_code": flow["user_code"], "username": USERS["bob"]["username"]})
    poller.join(timeout=30)
    assert "access_token" in out, out
    at = claims_of(out["access_token"])
    assert at["appid"] == AZURE_CLI and at["scp"] == "user_impersonation", at
    assert at["iss"] == f"https://sts.windows.net/{TENANT}/" and at["ver"] == "1.0", at
    r = requests.get(f"{INFO['arm_url']}/tenants", params={"api-version": "2022-12-01"},
                     headers={"Authorization": "Bearer " + out["access_token"]}, timeout=10)
    assert r.status_code == 200, r.text
    assert [t["tenantId"] for t in r.json()["value"]] == [TENANT], r.json()


@check("azure-identity ClientSecretCredential (AZURE_AUTHORITY_HOST, instance discovery off)")
def _():
    cred = ClientSecretCredential(TENANT, INFO["api_client_id"], INFO["api_client_secret"],
                                  disable_instance_discovery=True)
    token = cred.get_token(ARM_DEFAULT)
    c = claims_of(token.token)
    assert c["idtyp"] == "app" and c["appid"] == INFO["api_client_id"], c
    assert token.expires_on > time.time() + 600, token.expires_on


@check("azure-identity ClientSecretCredential with MSAL's instance discovery answered by the dev tenant")
def _():
    before = mark()
    cred = ClientSecretCredential(TENANT, INFO["api_client_id"], INFO["api_client_secret"],
                                  transport=DiscoveryAtTheDevTenant())
    token = cred.get_token(ARM_DEFAULT)
    assert claims_of(token.token)["aud"] == "https://management.azure.com", claims_of(token.token)
    assert "/common/discovery/instance" in paths_since(before), paths_since(before)


@check("azure-identity OnBehalfOfCredential: bob's API token becomes an ARM token")
def _():
    public = msal.PublicClientApplication(INFO["cli_client_id"], authority=AUTHORITY, instance_discovery=DISCOVERY)
    user = sign_in(public, "bob", [INFO["api_scope"]])
    assert "access_token" in user, user
    cred = OnBehalfOfCredential(TENANT, INFO["api_client_id"], client_secret=INFO["api_client_secret"],
                                user_assertion=user["access_token"], disable_instance_discovery=True)
    token = cred.get_token(ARM_DEFAULT)
    c = claims_of(token.token)
    assert c["oid"] == USERS["bob"]["oid"] and c["appid"] == INFO["api_client_id"], c
    assert c["scp"] == "user_impersonation" and c["iss"] == f"https://sts.windows.net/{TENANT}/", c
    STATE["obo"] = cred


@check("azure-mgmt-subscription: SubscriptionClient lists bob's 250 subscriptions over pages, and his tenant")
def _():
    before = mark()
    client = SubscriptionClient(STATE["obo"], base_url=INFO["arm_url"], credential_scopes=[ARM_DEFAULT])
    subs = list(client.subscriptions.list())
    assert len(subs) == USERS["bob"]["subscriptions"] == 250, len(subs)
    assert len({s.subscription_id for s in subs}) == 250
    pages = [p for p in paths_since(before) if p == "/arm/subscriptions"]
    assert len(pages) >= 3, pages
    tenants = list(client.tenants.list())
    assert [t.tenant_id for t in tenants] == [TENANT], tenants
    assert tenants[0].id == f"/tenants/{TENANT}", tenants[0].id


finish(f"azure-identity {azure.identity.__version__}, msal {msal.__version__}")
