#!/usr/bin/env bash
# The Azure CLI (`az`, from PyPI) against `azobo dev-tenant --tls`, as a user would run it:
#   az cloud register (endpoint discovery ON, from the dev tenant's /arm/metadata/endpoints),
#   az cloud set, az login --use-device-code WITHOUT --tenant (the code approved through
#   /_dev/device/approve), az account list --all (bob: 250), az account get-access-token.
# Too slow for CI (installing azure-cli takes minutes); run by hand, it prints each step's time.
#
# Environment: AZ_VENV (default ~/.cache/azobo/interop-az-venv; reused when az is there),
# AZOBO_BIN (default: built with cargo into CARGO_TARGET_DIR or ./target), AZ_USER (bob).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${AZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/azobo/interop-az-venv}"
user="${AZ_USER:-bob@contoso.example}"
work="$(mktemp -d)"
tenant_pid=""
cleanup() {
  [[ -n "$tenant_pid" ]] && kill "$tenant_pid" 2>/dev/null && wait "$tenant_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

t0=$SECONDS
step() { printf '\n== [%4ss] %s\n' "$((SECONDS - t0))" "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "Azure CLI in $venv"
if [[ ! -x "$venv/bin/az" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check azure-cli
fi
az() { "$venv/bin/az" "$@"; }
step "$(az version --query '"azure-cli"' -o tsv | sed 's/^/azure-cli /')"

step "azobo"
if [[ -z "${AZOBO_BIN:-}" ]]; then
  cargo build --quiet --bin azobo
  AZOBO_BIN="${CARGO_TARGET_DIR:-target}/debug/azobo"
fi

step "azobo dev-tenant --tls"
"$AZOBO_BIN" dev-tenant --tls --listen 127.0.0.1:0 --device-code-interval 1 \
  > "$work/tenant.json" 2> "$work/tenant.err" &
tenant_pid=$!
for _ in $(seq 100); do [[ -s "$work/tenant.json" ]] && break; sleep 0.1; done
[[ -s "$work/tenant.json" ]] || fail "the dev tenant did not start: $(cat "$work/tenant.err")"
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/tenant.json" "$1"; }
arm_url="$(field arm_url)"; control="$(field control_url)"; tenant_id="$(field tenant_id)"
echo "ARM at $arm_url, tenant $tenant_id" >&2

# A private az configuration; the dev tenant's CA for every HTTPS call az (requests) makes.
export AZURE_CONFIG_DIR="$work/az" REQUESTS_CA_BUNDLE="$(field ca_file)"
export AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_SURVEY_MESSAGE=false AZURE_CORE_NO_COLOR=true
# MSAL's instance discovery asks login.microsoftonline.com, which knows no loopback authority;
# az's own switch for private clouds (Azure Stack) turns it off.
az config set core.instance_discovery=false --only-show-errors

step "az cloud register -n AzoboDev --endpoint-resource-manager $arm_url (endpoint discovery on)"
az cloud register -n AzoboDev --endpoint-resource-manager "$arm_url" --only-show-errors
az cloud show -n AzoboDev --query '{activeDirectory: endpoints.activeDirectory, resourceManager: endpoints.resourceManager, audience: endpoints.activeDirectoryResourceId, graph: endpoints.microsoftGraphResourceId}' -o json
az cloud set -n AzoboDev --only-show-errors

step "az login --use-device-code (no --tenant), approved as $user through /_dev/device/approve"
az login --use-device-code --only-show-errors -o none 2> "$work/login.err" &
login_pid=$!
code=""
for _ in $(seq 300); do
  code="$(grep -o 'enter the code [A-Z0-9]*' "$work/login.err" | awk '{print $4}' || true)"
  [[ -n "$code" ]] && break
  kill -0 "$login_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$code" ]] || { cat "$work/login.err" >&2; fail "az login printed no device code"; }
echo "device code $code" >&2
curl -fsS --cacert "$REQUESTS_CA_BUNDLE" -H 'Content-Type: application/json' \
  "$control/device/approve" -d "{\"user_code\":\"$code\",\"username\":\"$user\"}" >&2; echo >&2
wait "$login_pid" || { cat "$work/login.err" >&2; fail "az login failed"; }
grep -v 'enter the code' "$work/login.err" >&2 || true

step "az account list --all"
count="$(az account list --all --query 'length(@)' -o tsv)"
echo "subscriptions: $count" >&2
az account show --query '{name: name, tenantId: tenantId, user: user.name, cloud: environmentName}' -o json
if [[ "$user" == bob@contoso.example && "$count" != 250 ]]; then fail "expected 250, got $count"; fi

step "az account get-access-token"
az account get-access-token --query '{tokenType: tokenType, expiresOn: expiresOn, tenant: tenant, subscription: subscription}' -o json
token="$(az account get-access-token --query accessToken -o tsv)"
python3 - "$token" <<'EOF'
import base64, json, sys
p = sys.argv[1].split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
print(json.dumps({k: c.get(k) for k in ("aud", "iss", "appid", "scp", "upn", "ver")}), file=sys.stderr)
EOF

step "done: az works against the dev tenant"
