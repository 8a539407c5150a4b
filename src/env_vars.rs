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
