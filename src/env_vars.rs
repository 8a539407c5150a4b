//! Every environment variable azobo reads, declared once so help text, config resolution and
//! tests agree on the names.

/// Names another configuration file.
pub const AZOBO_CONFIG: &str = "AZOBO_CONFIG";
/// Selects the profile (`default` otherwise).
pub const AZOBO_PROFILE: &str = "AZOBO_PROFILE";
/// Overrides the profile's `cloud`.
pub const AZOBO_CLOUD: &str = "AZOBO_CLOUD";
/// Overrides the profile's `authority`.
pub const AZOBO_AUTHORITY: &str = "AZOBO_AUTHORITY";
/// Overrides the profile's `arm_url`.
pub const AZOBO_ARM_URL: &str = "AZOBO_ARM_URL";
/// Overrides the profile's `tenant`.
pub const AZOBO_TENANT: &str = "AZOBO_TENANT";
/// Overrides the profile's `client_id`.
pub const AZOBO_CLIENT_ID: &str = "AZOBO_CLIENT_ID";
/// Overrides the profile's `api_scope`.
pub const AZOBO_API_SCOPE: &str = "AZOBO_API_SCOPE";
/// Overrides the profile's `api_url`.
pub const AZOBO_API_URL: &str = "AZOBO_API_URL";
/// Extra PEM bundle of trusted roots, added to the system store.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// Disables colour when set to anything.
pub const NO_COLOR: &str = "NO_COLOR";
/// The terminal width tables wrap to, when set (over what the terminal reports).
pub const COLUMNS: &str = "COLUMNS";
/// `0` turns colour off (as gh and the CLICOLOR convention).
pub const CLICOLOR: &str = "CLICOLOR";
/// Anything but `0` turns colour on even off a terminal (over `NO_COLOR`, as gh).
pub const CLICOLOR_FORCE: &str = "CLICOLOR_FORCE";
/// `dumb` turns colour off.
pub const TERM: &str = "TERM";
/// Set by CI systems; azobo then never waits for a person.
pub const CI: &str = "CI";
/// The log filter for `-v` output (tracing's `EnvFilter` syntax).
pub const AZOBO_LOG: &str = "AZOBO_LOG";
/// `api` (or `1`, `true`, `all`) does what `--debug` does: a stderr line per HTTP call.
pub const AZOBO_DEBUG: &str = "AZOBO_DEBUG";

/// The variables that configure a profile, in the order `azobo config` shows them.
pub const PROFILE_VARS: [&str; 7] = [
    AZOBO_CLOUD,
    AZOBO_AUTHORITY,
    AZOBO_ARM_URL,
    AZOBO_TENANT,
    AZOBO_CLIENT_ID,
    AZOBO_API_SCOPE,
    AZOBO_API_URL,
];

/// The API bearer token to use instead of a session (CI); no keyring, no refresh, no browser.
pub const AZOBO_TOKEN: &str = "AZOBO_TOKEN";
/// `keyring` (default) or `file` (plaintext, mode 0600, warned about on every use).
pub const AZOBO_TOKEN_STORE: &str = "AZOBO_TOKEN_STORE";
/// Which OS keyring to use: `auto` (default), `secret-service` or `keyutils` (Linux).
pub const AZOBO_KEYRING: &str = "AZOBO_KEYRING";
/// A command that opens a URL (the URL is its last argument); explicit intent, honoured even in
/// non-interactive runs.
pub const AZOBO_BROWSER: &str = "AZOBO_BROWSER";
/// The conventional browser command, honoured in interactive runs.
pub const BROWSER: &str = "BROWSER";

/// The proxy variables azobo honours, each in the lowercase curl reads and the uppercase many
/// tools set: the proxy for `http://` URLs, for `https://` URLs, for both, and the exclusions.
/// Loopback is excluded whatever they say.
pub const PROXY_VARIABLES: [[&str; 2]; 4] = [
    ["http_proxy", "HTTP_PROXY"],
    ["https_proxy", "HTTPS_PROXY"],
    ["all_proxy", "ALL_PROXY"],
    ["no_proxy", "NO_PROXY"],
];

/// Microsoft Graph's base URL for `azobo setup` (the cloud's by default).
pub const AZOBO_GRAPH_URL: &str = "AZOBO_GRAPH_URL";

/// serve-api's client secret (never a flag, so it stays out of `ps`).
pub const AZOBO_API_CLIENT_SECRET: &str = "AZOBO_API_CLIENT_SECRET";
/// serve-api's shared-cache keys, base64, comma-separated (never a flag).
pub const AZOBO_API_CACHE_KEY: &str = "AZOBO_API_CACHE_KEY";
/// A federated token file (workload identity) serve-api presents instead of a secret.
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// Who reads a variable, so each man page lists the ones that matter to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The commands a user types (`login`, `subscriptions`, …).
    Client,
    /// `serve-api`.
    Server,
    /// Both.
    Both,
}

/// A variable as the man pages' ENVIRONMENT section describes it.
#[derive(Debug, Clone, Copy)]
pub struct Documented {
    /// The name (for the proxies, both spellings).
    pub name: &'static str,
    /// Who reads it.
    pub reader: Reader,
    /// What it does, one or two sentences.
    pub meaning: &'static str,
}

/// Every variable azobo reads, except serve-api's `AZOBO_API_*` twins of its flags (the man page
/// documents those from the flags themselves). A test holds this list to the constants above.
pub const DOCUMENTED: &[Documented] = &[
    doc(
        AZOBO_CONFIG,
        Reader::Both,
        "The configuration file to read, as --config.",
    ),
    doc(
        AZOBO_PROFILE,
        Reader::Client,
        "The profile to use, as --profile (default: default).",
    ),
    doc(
        AZOBO_CLOUD,
        Reader::Client,
        "Overrides the profile's cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud.",
    ),
    doc(
        AZOBO_AUTHORITY,
        Reader::Client,
        "Overrides the profile's authority (the identity platform's base URL).",
    ),
    doc(
        AZOBO_ARM_URL,
        Reader::Client,
        "Overrides the profile's arm_url (Azure Resource Manager's base URL).",
    ),
    doc(
        AZOBO_TENANT,
        Reader::Client,
        "Overrides the profile's tenant (GUID, verified domain, organizations or common).",
    ),
    doc(
        AZOBO_CLIENT_ID,
        Reader::Client,
        "Overrides the profile's client_id (the CLI app registration).",
    ),
    doc(
        AZOBO_API_SCOPE,
        Reader::Client,
        "Overrides the profile's api_scope (the API's delegated scope).",
    ),
    doc(
        AZOBO_API_URL,
        Reader::Client,
        "Overrides the profile's api_url (where the protected API listens).",
    ),
    doc(
        AZOBO_TOKEN,
        Reader::Client,
        "An API bearer token to use instead of a session (CI): no keyring, no refresh, no browser; login and logout refuse while it is set.",
    ),
    doc(
        AZOBO_TOKEN_STORE,
        Reader::Client,
        "keyring (default) or file: a plaintext file (mode 0600), warned about on every use, as --insecure-storage.",
    ),
    doc(
        AZOBO_KEYRING,
        Reader::Client,
        "Which OS keyring holds the session key: auto (default), secret-service or keyutils (Linux).",
    ),
    doc(
        AZOBO_BROWSER,
        Reader::Client,
        "A command that opens a URL (the URL is its last argument); honoured even in non-interactive runs.",
    ),
    doc(
        BROWSER,
        Reader::Client,
        "The conventional browser command, honoured in interactive runs (AZOBO_BROWSER wins).",
    ),
    doc(
        AZOBO_GRAPH_URL,
        Reader::Client,
        "Microsoft Graph's base URL for azobo setup (the cloud's by default).",
    ),
    doc(
        AZOBO_LOG,
        Reader::Both,
        "The log filter for diagnostics on stderr (tracing's EnvFilter syntax, e.g. azobo=debug); wins over -v and -q.",
    ),
    doc(
        AZOBO_DEBUG,
        Reader::Client,
        "api (or 1, true, all) writes a stderr line per HTTP call, as --debug: method, URL without query values, status, time, correlation id.",
    ),
    doc(
        AZOBO_API_CLIENT_SECRET,
        Reader::Server,
        "The API app's client secret (or use --client-secret-file, a certificate, or a federated token).",
    ),
    doc(
        AZOBO_API_CACHE_KEY,
        Reader::Server,
        "The shared token cache's keys, base64, comma-separated: the first encrypts, the others only decrypt (or --cache-key-file).",
    ),
    doc(
        AZURE_FEDERATED_TOKEN_FILE,
        Reader::Server,
        "A federated token file (workload identity) the API presents as its credential instead of a secret.",
    ),
    doc(
        CI,
        Reader::Client,
        "Set by CI systems (anything but false or 0): the run is not interactive, and azobo never waits for a person.",
    ),
    doc(NO_COLOR, Reader::Both, "Set to anything: no colour."),
    doc(CLICOLOR, Reader::Client, "0: no colour."),
    doc(
        CLICOLOR_FORCE,
        Reader::Client,
        "Anything but 0: colour even when stdout is not a terminal (wins over NO_COLOR).",
    ),
    doc(TERM, Reader::Client, "dumb: no colour."),
    doc(
        COLUMNS,
        Reader::Client,
        "The width tables wrap to (over what the terminal reports).",
    ),
    doc(
        SSL_CERT_FILE,
        Reader::Both,
        "A PEM bundle of extra trusted root certificates, added to the system store.",
    ),
    doc(
        "HTTPS_PROXY, https_proxy",
        Reader::Both,
        "The proxy for https:// URLs.",
    ),
    doc(
        "HTTP_PROXY, http_proxy",
        Reader::Both,
        "The proxy for http:// URLs.",
    ),
    doc(
        "ALL_PROXY, all_proxy",
        Reader::Both,
        "The proxy for both, when the specific one is unset.",
    ),
    doc(
        "NO_PROXY, no_proxy",
        Reader::Both,
        "Hosts reached directly; loopback is always reached directly, whatever the proxy variables say.",
    ),
    doc(
        "DISPLAY, WAYLAND_DISPLAY",
        Reader::Client,
        "With neither set on Linux there is no browser to open: login switches to the device code flow.",
    ),
    doc(
        "SSH_CONNECTION, SSH_TTY",
        Reader::Client,
        "Over SSH without a display there is no browser to open: login switches to the device code flow.",
    ),
    doc(
        "WSL_DISTRO_NAME",
        Reader::Client,
        "Under WSL the URL is opened in Windows (wslview or PowerShell).",
    ),
];

const fn doc(name: &'static str, reader: Reader, meaning: &'static str) -> Documented {
    Documented {
        name,
        reader,
        meaning,
    }
}

#[cfg(test)]
mod tests {
    /// Every variable named by a constant in this file is in the man pages' list.
    #[test]
    fn every_declared_variable_is_documented() {
        let source = include_str!("env_vars.rs");
        let documented: Vec<&str> = super::DOCUMENTED
            .iter()
            .flat_map(|d| d.name.split(", "))
            .collect();
        let mut checked = 0;
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let Some((_, value)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let name = value.trim_end_matches("\";");
            checked += 1;
            assert!(documented.contains(&name), "{name} is not in DOCUMENTED");
        }
        assert!(checked > 20, "{checked}");
        for pair in super::PROXY_VARIABLES {
            for name in pair {
                assert!(documented.contains(&name), "{name}");
            }
        }
    }
}
