"""MSAL for Python, Microsoft's own client library, judges the azobo dev tenant.

Run by `cargo test` (tests/it/msal.rs) against `azobo dev-tenant --tls`: the tenant's startup JSON
arrives in AZOBO_DEV_TENANT and its CA in REQUESTS_CA_BUNDLE. Each check prints PASS or FAIL; the
last line is the plain 'N passed, N failed' summary and the exit code is 1 when any check failed.
"""

import hashlib
import json
import os
import threading
import time
import urllib.parse

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from devtenant import AUTHORITY, INFO, USERS, check, claims_of, control, finish, request_log

API_SCOPE = INFO["api_scope"]
ARM_SCOPE = "https://management.azure.com/user_impersonation"
REDIRECT = "http://localhost:53117"


def public_app():
    return msal.PublicClientApplication(
        INFO["cli_client_id"], authority=AUTHORITY, instance_discovery=False
    )


def api_app(credential=None):
    return msal.ConfidentialClientApplication(
        INFO["api_client_id"],
        client_credential=credential or INFO["api_client_secret"],
        authority=AUTHORITY,
        instance_discovery=False,
    )


def sign_in(app, user, scopes=(API_SCOPE,)):
    """Auth code + PKCE the way a desktop app does it, with the browser replaced by requests."""
    control("auto-approve", {"username": USERS[user]["username"]})
    flow = app.initiate_auth_code_flow(list(scopes), redirect_uri=REDIRECT)
    assert "code_challenge=" in flow["auth_uri"] and "code_challenge_method=S256" in flow["auth_uri"]
    r = requests.get(flow["auth_uri"], allow_redirects=False, timeout=10)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    location = r.headers["Location"]
    assert location.startswith(REDIRECT + "/?"), location
    auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    return flow, auth_response, result


STATE = {}


@check("auth code + PKCE via initiate_auth_code_flow / acquire_token_by_auth_code_flow")
def _():
    app = public_app()
    flow, auth_response, result = sign_in(app, "alice")
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == USERS["alice"]["username"]
    assert result["id_token_claims"]["oid"] == USERS["alice"]["oid"]
    # MSAL sends the SHA-256 of its nonce and checks the id_token carries it back.
    assert result["id_token_claims"]["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()
    at = claims_of(result["access_token"])
    assert at["aud"] == INFO["api_client_id"] and at["ver"] == "2.0", at
    assert at["scp"] == "access_as_user" and at["azp"] == INFO["cli_client_id"], at
    assert at["iss"] == f"{INFO['base_url']}/{INFO['tenant_id']}/v2.0", at
    assert "refresh_token" in result
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [USERS["alice"]["username"]], accounts
    assert accounts[0]["home_account_id"] == f"{USERS['alice']['oid']}.{INFO['tenant_id']}"
    STATE.update(app=app, flow=flow, auth_response=auth_response, alice_at=result["access_token"])


@check("a reused authorization code is rejected with invalid_grant")
def _():
    second = public_app()
    result = second.acquire_token_by_auth_code_flow(dict(STATE["flow"]), STATE["auth_response"])
    assert result.get("error") == "invalid_grant", result
    assert 54005 in result.get("error_codes", []), result


@check("acquire_token_silent serves the cached token while it is fresh")
def _():
    app = STATE["app"]
    result = app.acquire_token_silent([API_SCOPE], account=app.get_accounts()[0])
    assert result and result["access_token"] == STATE["alice_at"], result
    assert result.get("token_source") == "cache", result.get("token_source")


@check("acquire_token_silent refreshes after expiry (rotating refresh token)")
def _():
    control("token-lifetime", {"seconds": 2})
    try:
        app = public_app()
        _, _, first = sign_in(app, "bob")
        assert "access_token" in first, first
        time.sleep(3)
        before = len([e for e in request_log() if e.get("grant_type") == "refresh_token"])
        result = app.acquire_token_silent([API_SCOPE], account=app.get_accounts()[0])
        assert result and "access_token" in result, result
        assert result["access_token"] != first["access_token"]
        assert result.get("token_source") == "identity_provider", result.get("token_source")
        refreshes = [e for e in request_log() if e.get("grant_type") == "refresh_token"]
        assert len(refreshes) == before + 1 and refreshes[-1]["status"] == 200, refreshes
        assert result.get("refresh_token") and result["refresh_token"] != first["refresh_token"]
    finally:
        control("token-lifetime", {"seconds": None})


@check("device code: pending until approved, then tokens")
def _():
    app = public_app()
    flow = app.initiate_device_flow(scopes=[API_SCOPE])
    assert "user_code" in flow and flow["verification_uri"].endswith("/devicelogin"), flow
    assert flow["user_code"] in flow["message"]
    out = {}
    poller = threading.Thread(target=lambda: out.update(app.acquire_token_by_device_flow(flow)))
    poller.start()
    time.sleep(1.5)
    control("device/approve", {"user_code": flow["user_code"], "username": USERS["carol"]["username"]})
    poller.join(timeout=30)
    assert not poller.is_alive()
    assert "access_token" in out, out
    assert out["id_token_claims"]["preferred_username"] == USERS["carol"]["username"]
    pending = [e for e in request_log() if (e.get("error") or "").startswith("authorization_pending")]
    assert pending, "the poller never saw authorization_pending"


@check("device code: a declined request stops polling with an error")
def _():
    app = public_app()
    flow = app.initiate_device_flow(scopes=[API_SCOPE])
    control("device/decline", {"user_code": flow["user_code"]})
    result = app.acquire_token_by_device_flow(flow)
    assert result.get("error") == "authorization_declined", result


@check("acquire_token_on_behalf_of with a client secret, and ARM accepts the result")
def _():
    result = api_app().acquire_token_on_behalf_of(STATE["alice_at"], [ARM_SCOPE])
    assert "access_token" in result, result
    arm = claims_of(result["access_token"])
    assert arm["aud"] == "https://management.azure.com" and arm["ver"] == "1.0", arm
    assert arm["oid"] == USERS["alice"]["oid"] and arm["appid"] == INFO["api_client_id"], arm
    r = requests.get(
        f"{INFO['arm_url']}/subscriptions",
        params={"api-version": "2022-12-01"},
        headers={"Authorization": f"Bearer {result['access_token']}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["value"]) == USERS["alice"]["subscriptions"], r.json()


@check("acquire_token_on_behalf_of with a certificate (client_assertion, PS256 + x5t#S256)")
def _():
    with open(INFO["api_client_certificate"], "rb") as f:
        cert_pem = f.read()
    with open(INFO["api_client_key"], "rb") as f:
        key_pem = f.read()
    app = api_app({"private_key": key_pem.decode(), "public_certificate": cert_pem.decode()})
    result = app.acquire_token_on_behalf_of(STATE["alice_at"], [ARM_SCOPE])
    assert "access_token" in result, result
    assert claims_of(result["access_token"])["appidacr"] == "2"


@check("acquire_token_on_behalf_of with a SHA-1 thumbprint (client_assertion, RS256 + x5t)")
def _():
    with open(INFO["api_client_certificate"], "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(INFO["api_client_key"], "rb") as f:
        key_pem = f.read()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Entra's legacy x5t
    result = api_app({"private_key": key_pem.decode(), "thumbprint": thumbprint}).acquire_token_on_behalf_of(
        STATE["alice_at"], [ARM_SCOPE]
    )
    assert "access_token" in result, result


@check("OBO for an MFA-required user returns invalid_grant with suberror and claims")
def _():
    app = public_app()
    _, _, dave = sign_in(app, "dave")
    assert "access_token" in dave, dave
    result = api_app().acquire_token_on_behalf_of(dave["access_token"], [ARM_SCOPE])
    assert result.get("error") == "invalid_grant", result
    assert 50076 in result["error_codes"] and result.get("suberror") == "basic_action", result
    assert "capolids" in json.loads(result["claims"])["access_token"], result


@check("acquire_token_for_client gets an app-only token without scp")
def _():
    result = api_app().acquire_token_for_client(["https://management.azure.com/.default"])
    assert "access_token" in result, result
    c = claims_of(result["access_token"])
    assert c["idtyp"] == "app" and "scp" not in c and c["appid"] == INFO["api_client_id"], c


@check("a wrong client secret is refused with invalid_client (AADSTS7000215)")
def _():
    result = api_app("not-the-secret-at-all").acquire_token_for_client(
        ["https://management.azure.com/.default"]
    )
    assert result.get("error") == "invalid_client" and 7000215 in result["error_codes"], result


GRAPH_CLI_TOOLS = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
ARM_APP = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
GRAPH = INFO["graph_url"] + "/v1.0"


@check("apps registered through the dev tenant's Graph sign in and do OBO with MSAL at once")
def _():
    # An administrator signs in to Graph with Microsoft Graph Command Line Tools, as
    # Connect-MgGraph does, and registers an API app and a CLI app.
    tools = msal.PublicClientApplication(GRAPH_CLI_TOOLS, authority=AUTHORITY, instance_discovery=False)
    _, _, admin = sign_in(tools, "alice", scopes=(
        "https://graph.microsoft.com/Application.ReadWrite.All",
        "https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All",
    ))
    assert "access_token" in admin, admin
    graph = requests.Session()
    graph.headers["Authorization"] = "Bearer " + admin["access_token"]

    def call(method, path, body=None):
        r = graph.request(method, f"{GRAPH}/{path}", json=body, timeout=10)
        assert r.status_code in (200, 201, 204), (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    api = call("POST", "applications", {
        "displayName": "msal-api",
        "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": [{
            "id": "5a0b8f3e-7c1d-4e2f-9a8b-6c5d4e3f2a1b", "value": "access_as_user", "type": "User",
            "isEnabled": True, "adminConsentDisplayName": "Access", "adminConsentDescription": "Access"}]},
    })
    call("PATCH", f"applications/{api['id']}", {"identifierUris": [f"api://{api['appId']}"]})
    secret = call("POST", f"applications/{api['id']}/addPassword", {"passwordCredential": {"displayName": "msal"}})["secretText"]
    cli = call("POST", "applications", {
        "displayName": "msal-cli", "isFallbackPublicClient": True,
        "publicClient": {"redirectUris": ["http://localhost"]},
    })
    api_sp = call("POST", "servicePrincipals", {"appId": api["appId"]})
    arm_sp = call("GET", f"servicePrincipals?$filter=appId eq '{ARM_APP}'")["value"][0]
    call("POST", "oauth2PermissionGrants", {
        "clientId": api_sp["id"], "consentType": "AllPrincipals",
        "resourceId": arm_sp["id"], "scope": "user_impersonation"})

    # MSAL, knowing nothing of how the apps came to be, signs a user in and exchanges the token.
    public = msal.PublicClientApplication(cli["appId"], authority=AUTHORITY, instance_discovery=False)
    _, _, user = sign_in(public, "bob", scopes=(f"api://{api['appId']}/access_as_user",))
    assert "access_token" in user, user
    assert claims_of(user["access_token"])["aud"] == api["appId"]
    confidential = msal.ConfidentialClientApplication(
        api["appId"], client_credential=secret, authority=AUTHORITY, instance_discovery=False)
    obo = confidential.acquire_token_on_behalf_of(user["access_token"], [ARM_SCOPE])
    assert "access_token" in obo, obo
    r = requests.get(f"{INFO['arm_url']}/subscriptions?api-version=2022-12-01",
                     headers={"Authorization": "Bearer " + obo["access_token"]}, timeout=10)
    assert r.status_code == 200 and r.json()["count"]["value"] == 250, (r.status_code, r.text[:200])


@check("MSAL signs in with the CLI app `azobo setup` registered and does OBO with its API app's secret")
def _():
    setup = json.loads(os.environ["AZOBO_SETUP_REPORT"])
    registered = setup["registered"]
    with open(setup["secretFile"], encoding="utf-8") as f:
        secret = f.read().strip()
    public = msal.PublicClientApplication(registered["cli"]["appId"], authority=AUTHORITY, instance_discovery=False)
    _, _, user = sign_in(public, "alice", scopes=(registered["apiScope"],))
    assert "access_token" in user, user
    at = claims_of(user["access_token"])
    assert at["aud"] == registered["api"]["appId"] and at["ver"] == "2.0", at
    confidential = msal.ConfidentialClientApplication(
        registered["api"]["appId"], client_credential=secret, authority=AUTHORITY, instance_discovery=False)
    obo = confidential.acquire_token_on_behalf_of(user["access_token"], [ARM_SCOPE])
    assert "access_token" in obo, obo
    assert claims_of(obo["access_token"])["appid"] == registered["api"]["appId"]


finish(f"msal {msal.__version__}")
