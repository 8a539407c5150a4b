//! The dev tenant's directory: its id, the two app registrations, the users and what each user
//! may see in ARM. Built in, or read from a `--state` JSON file so ids stay stable across runs.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest as _;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The built-in tenant id: fixed, so a `config.toml` pointing at the dev tenant keeps working.
pub const DEFAULT_TENANT_ID: &str = "7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10";
/// The built-in CLI (public client) application id.
pub const DEFAULT_CLI_CLIENT_ID: &str = "3c9d2b1e-6f4a-4e7b-8c2d-5a1f0e9b7d34";
/// The built-in API (confidential client) application id.
pub const DEFAULT_API_CLIENT_ID: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

/// The subject of the federated credential registered on the API app (workload identity): a
/// token from the tenant's own issuer with this `sub` and audience `api://AzureADTokenExchange`
/// authenticates the API app.
pub const FEDERATED_SUBJECT: &str = "system:serviceaccount:azobo:serve-api";

/// A subscription state ARM reports.
const STATES: [&str; 5] = ["Enabled", "Warned", "PastDue", "Disabled", "Deleted"];

/// The seed, as a `--state` file spells it. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// The tenant's GUID.
    pub tenant_id: Option<Uuid>,
    /// The tenant's verified domain, also accepted in authority URLs.
    pub domain: Option<String>,
    /// The CLI app's client id.
    pub cli_client_id: Option<Uuid>,
    /// The API app's client id.
    pub api_client_id: Option<Uuid>,
    /// The API app's client secret; random when absent.
    pub api_client_secret: Option<String>,
    /// `accessTokenAcceptedVersion` of the API app: 1 or 2.
    pub api_token_version: Option<u8>,
    /// The users; the built-in four when absent.
    pub users: Option<Vec<SeedUser>>,
}

/// One user as the state file spells it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// The sign-in name (UPN).
    pub username: String,
    /// The display name.
    pub name: Option<String>,
    /// The object id; derived from the username when absent.
    pub oid: Option<Uuid>,
    /// Whether ARM requires MFA (a Conditional Access policy) for this user.
    #[serde(default)]
    pub mfa_required: bool,
    /// Whether the user holds a directory role that may register apps and grant admin consent
    /// through Graph (Application Administrator); true when absent.
    #[serde(default)]
    pub admin: Option<bool>,
    /// A count of generated subscriptions, or an explicit list.
    #[serde(default)]
    pub subscriptions: SeedSubscriptions,
}

/// A user's subscriptions: a number to generate, or explicit ones.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SeedSubscriptions {
    /// Generate this many.
    Count(usize),
    /// Exactly these.
    List(Vec<SeedSubscription>),
}

impl Default for SeedSubscriptions {
    fn default() -> Self {
        Self::Count(0)
    }
}

/// One explicit subscription.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSubscription {
    /// `displayName`.
    pub display_name: String,
    /// `state`; `Enabled` when absent.
    pub state: Option<String>,
    /// `subscriptionId`; derived when absent.
    pub subscription_id: Option<Uuid>,
}

/// A user of the dev tenant, resolved.
#[derive(Debug, Clone)]
pub struct User {
    /// UPN, e.g. `alice@contoso.example`.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Object id.
    pub oid: Uuid,
    /// ARM demands MFA from this user (changeable through the control API).
    pub mfa_required: bool,
    /// May register apps and grant admin consent through Graph.
    pub admin: bool,
    /// ARM subscription objects, exactly as ARM shapes them.
    pub subscriptions: Vec<Value>,
}

/// The resolved directory.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Tenant GUID.
    pub tenant_id: Uuid,
    /// Verified domain.
    pub domain: String,
    /// CLI (public client) app id.
    pub cli_client_id: Uuid,
    /// API (confidential client) app id.
    pub api_client_id: Uuid,
    /// API client secret.
    pub api_client_secret: String,
    /// The API's `accessTokenAcceptedVersion`.
    pub api_token_version: u8,
    /// Users in seed order.
    pub users: Vec<User>,
    /// Application registrations: the two seeded apps first, then Microsoft's first-party
    /// public clients, then apps created through Graph.
    pub apps: Vec<App>,
    /// Service principals (enterprise applications), Microsoft's resources among them.
    pub service_principals: Vec<ServicePrincipal>,
    /// Delegated permission grants (`oauth2PermissionGrants`): who consented to what.
    pub consents: Vec<PermissionGrant>,
}

pub use crate::well_known::{
    ARM_APP_ID, ARM_USER_IMPERSONATION_ID, AZURE_CLI_APP_ID, GRAPH_APP_ID, GRAPH_CLI_TOOLS_APP_ID,
};

/// A service principal: an app's presence in this tenant, what grants point at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// Object id.
    pub id: Uuid,
    /// The application it stands for.
    pub app_id: Uuid,
    /// Its display name.
    pub display_name: String,
    /// Delegated permissions its app exposes: (id, value).
    pub scopes: Vec<(Uuid, String)>,
}

/// An `oauth2PermissionGrant`: consent for a client to call a resource with these scopes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PermissionGrant {
    /// Object id (opaque in Graph).
    pub id: String,
    /// The client's service principal (object id).
    pub client_id: Uuid,
    /// `AllPrincipals` (admin consent) or `Principal` (one user's).
    pub consent_type: String,
    /// The user, for `Principal`.
    pub principal_id: Option<Uuid>,
    /// The resource's service principal (object id).
    pub resource_id: Uuid,
    /// Space-separated permission values.
    pub scope: String,
}

/// An application registration, as the sign-in and token endpoints see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// The application (client) id.
    pub app_id: Uuid,
    /// Its object id in Graph.
    pub object_id: Uuid,
    /// Registered in Microsoft's tenant (a first-party client): not listed by Graph here.
    pub first_party: bool,
    /// The Graph representation (without secrets), for apps Graph lists.
    pub graph: Value,
    /// Its display name.
    pub display_name: String,
    /// A public client: no credential, loopback redirects and device code.
    pub public_client: bool,
    /// Redirect URIs of the public client platform.
    pub redirect_uris: Vec<String>,
    /// App ID URIs (`api://…`) its API is known by.
    pub identifier_uris: Vec<String>,
    /// The delegated permissions its API exposes (enabled ones).
    pub scopes: Vec<String>,
    /// The access token version its API asks for (`requestedAccessTokenVersion`).
    pub token_version: u8,
    /// SHA-256 digests of its client secrets.
    pub secret_digests: Vec<[u8; 32]>,
    /// Its certificate credentials (`keyCredentials`), for `client_assertion`.
    pub certificates: Vec<CertificateCredential>,
}

/// A certificate uploaded to an app's `keyCredentials`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateCredential {
    /// base64url SHA-1 thumbprint (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 thumbprint (`x5t#S256`).
    pub x5t_s256: String,
    /// The certificate as PEM, whose public key checks the assertion.
    pub pem: String,
}

impl CertificateCredential {
    /// Reads a certificate (DER); `None` when it holds no RSA public key.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let body: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            body.join("\n")
        );
        jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).ok()?;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Some(Self {
            x5t: url.encode(<sha1::Sha1 as sha1::Digest>::digest(der)),
            x5t_s256: url.encode(sha2::Sha256::digest(der)),
            pem,
        })
    }
}

impl App {
    /// An app from its Graph representation (`graph` gets `id`, `appId` and `displayName`).
    pub fn seeded(tenant_id: Uuid, app_id: Uuid, name: &str, mut graph: Value) -> Self {
        let object_id = Uuid::new_v5(&tenant_id, format!("app:{app_id}").as_bytes());
        if let Some(o) = graph.as_object_mut() {
            o.insert("id".into(), json!(object_id.to_string()));
            o.insert("appId".into(), json!(app_id.to_string()));
            o.insert("displayName".into(), json!(name));
        }
        let mut app = Self {
            app_id,
            object_id,
            first_party: false,
            graph: Value::Null,
            display_name: name.to_owned(),
            public_client: false,
            redirect_uris: Vec::new(),
            identifier_uris: Vec::new(),
            scopes: Vec::new(),
            token_version: 1,
            secret_digests: Vec::new(),
            certificates: Vec::new(),
        };
        app.set_graph(graph);
        app
    }

    /// Replaces the Graph representation and derives what sign-in and tokens read from it.
    pub fn set_graph(&mut self, graph: Value) {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        graph["displayName"]
            .as_str()
            .unwrap_or_default()
            .clone_into(&mut self.display_name);
        self.public_client = graph["isFallbackPublicClient"].as_bool().unwrap_or(false);
        self.redirect_uris = strings(&graph["publicClient"]["redirectUris"]);
        self.identifier_uris = strings(&graph["identifierUris"]);
        self.scopes = graph["api"]["oauth2PermissionScopes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|s| s["isEnabled"].as_bool().unwrap_or(false))
                    .filter_map(|s| s["value"].as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        self.token_version = match graph["api"]["requestedAccessTokenVersion"].as_u64() {
            Some(2) => 2,
            _ => 1,
        };
        self.graph = graph;
    }

    /// A service principal for this app, with its exposed permissions.
    pub fn service_principal(&self, tenant_id: Uuid) -> ServicePrincipal {
        ServicePrincipal {
            id: Uuid::new_v5(&tenant_id, format!("sp:{}", self.app_id).as_bytes()),
            app_id: self.app_id,
            display_name: self.display_name.clone(),
            scopes: self.graph["api"]["oauth2PermissionScopes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| {
                            Some((
                                s["id"].as_str()?.parse().ok()?,
                                s["value"].as_str()?.to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// True when `secret` is one of the app's client secrets (compared by digest).
    pub fn has_secret(&self, secret: &str) -> bool {
        let d: [u8; 32] = sha2::Sha256::digest(secret.as_bytes()).into();
        self.secret_digests.contains(&d)
    }

    /// The App ID URI tokens of version 1 carry as `aud`, and granted scopes are prefixed with.
    pub fn resource_uri(&self) -> String {
        self.identifier_uris
            .first()
            .cloned()
            .unwrap_or_else(|| format!("api://{}", self.app_id))
    }
}

impl Directory {
    /// The service principal of the app `app_id`.
    pub fn service_principal_of(&self, app_id: &str) -> Option<&ServicePrincipal> {
        self.service_principals
            .iter()
            .find(|sp| sp.app_id.to_string().eq_ignore_ascii_case(app_id))
    }

    /// True when the client app `client` may use `permission` of the resource app `resource`
    /// for the user `oid`: an admin grant (`AllPrincipals`) or that user's own.
    pub fn consented(&self, client: &str, resource: &str, permission: &str, oid: &str) -> bool {
        let (Some(c), Some(r)) = (
            self.service_principal_of(client),
            self.service_principal_of(resource),
        ) else {
            return false;
        };
        self.consents.iter().any(|g| {
            g.client_id == c.id
                && g.resource_id == r.id
                && g.scope
                    .split_ascii_whitespace()
                    .any(|s| s.eq_ignore_ascii_case(permission))
                && (g.consent_type == "AllPrincipals"
                    || g.principal_id.is_some_and(|p| p.to_string() == oid))
        })
    }

    /// Finds an app by client id, case-insensitively.
    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.app_id.to_string().eq_ignore_ascii_case(client_id))
    }

    /// Finds the app whose API a scope prefix names: an App ID URI or the bare client id.
    pub fn app_by_resource(&self, resource: &str) -> Option<&App> {
        let resource = resource.trim_end_matches('/');
        self.apps.iter().find(|a| {
            a.app_id.to_string().eq_ignore_ascii_case(resource)
                || a.identifier_uris
                    .iter()
                    .any(|u| u.trim_end_matches('/').eq_ignore_ascii_case(resource))
        })
    }

    /// Finds a user by UPN, case-insensitively, as Entra does.
    pub fn user(&self, username: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    /// Finds a user by object id.
    pub fn user_by_oid(&self, oid: &str) -> Option<&User> {
        self.users.iter().find(|u| u.oid.to_string() == oid)
    }
}

fn default_users(domain: &str) -> Vec<SeedUser> {
    let user = |local: &str, name: &str, subs: SeedSubscriptions, mfa: bool| SeedUser {
        username: format!("{local}@{domain}"),
        name: Some(name.to_owned()),
        oid: None,
        mfa_required: mfa,
        // Everyone but carol may register apps: the tenant needs a non-admin to try.
        admin: Some(local != "carol"),
        subscriptions: subs,
    };
    let listed = |items: &[(&str, &str)]| {
        SeedSubscriptions::List(
            items
                .iter()
                .map(|(n, s)| SeedSubscription {
                    display_name: (*n).to_owned(),
                    state: Some((*s).to_owned()),
                    subscription_id: None,
                })
                .collect(),
        )
    };
    vec![
        user(
            "alice",
            "Alice Smith",
            listed(&[
                ("Contoso Production", "Enabled"),
                ("Contoso Development", "Enabled"),
                ("Contoso Sandbox", "Warned"),
                ("Legacy Billing", "Disabled"),
            ]),
            false,
        ),
        user("bob", "Bob Jones", SeedSubscriptions::Count(250), false),
        user("carol", "Carol White", SeedSubscriptions::Count(0), false),
        user(
            "dave",
            "Dave Brown",
            listed(&[("Secure Workloads", "Enabled")]),
            true,
        ),
    ]
}

fn subscription(tenant_id: Uuid, id: Uuid, name: &str, state: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{id}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": id.to_string(),
        "tenantId": tenant_id.to_string(),
        "displayName": name,
        "state": state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

fn parse_uuid(s: &str) -> Uuid {
    // Only called on the compile-time constants above.
    Uuid::parse_str(s).unwrap_or(Uuid::nil())
}

impl SeedFile {
    /// Reads a `--state` file.
    pub fn read(path: &Path) -> Result<Self> {
        // The configuration file's rules: a regular file, and not a huge one.
        let text = crate::config::read_config_text(path, true)?.unwrap_or_default();
        serde_json::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            line: Some(e.line()),
            message: e.to_string(),
        })
    }

    /// Resolves the seed into a directory, generating what it leaves out.
    pub fn resolve(self, path_for_errors: &Path) -> Result<Directory> {
        let bad = |message: String| Error::Config {
            path: path_for_errors.to_path_buf(),
            line: None,
            message,
        };
        let tenant_id = self
            .tenant_id
            .unwrap_or_else(|| parse_uuid(DEFAULT_TENANT_ID));
        let domain = self
            .domain
            .unwrap_or_else(|| "contoso.example".to_owned())
            .to_ascii_lowercase();
        if domain.is_empty()
            || !domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(bad(format!("`domain`: `{domain}` is not a domain name")));
        }
        let api_token_version = self.api_token_version.unwrap_or(2);
        if !matches!(api_token_version, 1 | 2) {
            return Err(bad(format!(
                "`api_token_version`: expected 1 or 2, got {api_token_version}"
            )));
        }
        let api_client_secret = match self.api_client_secret {
            Some(s) if s.len() < 16 => {
                return Err(bad(
                    "`api_client_secret`: use at least 16 characters".to_owned()
                ));
            }
            Some(s) => s,
            None => random_secret(),
        };
        let seeds = self.users.unwrap_or_else(|| default_users(&domain));
        let mut users: Vec<User> = Vec::with_capacity(seeds.len());
        for s in seeds {
            if !s.username.contains('@') {
                return Err(bad(format!(
                    "`users`: `{}` is not a user principal name",
                    s.username
                )));
            }
            if users
                .iter()
                .any(|u| u.username.eq_ignore_ascii_case(&s.username))
            {
                return Err(bad(format!("`users`: `{}` appears twice", s.username)));
            }
            let oid = s.oid.unwrap_or_else(|| {
                Uuid::new_v5(&tenant_id, s.username.to_ascii_lowercase().as_bytes())
            });
            let local = s.username.split('@').next().unwrap_or_default().to_owned();
            let name = s.name.unwrap_or_else(|| local.clone());
            let subscriptions = match s.subscriptions {
                SeedSubscriptions::Count(n) => (0..n)
                    .map(|i| {
                        let id = Uuid::new_v5(&oid, format!("subscription-{i}").as_bytes());
                        // Mostly enabled, with every state represented once there are enough.
                        let state = if i % 10 == 9 {
                            STATES[(i / 10) % STATES.len()]
                        } else {
                            "Enabled"
                        };
                        subscription(tenant_id, id, &format!("{name} {:03}", i + 1), state)
                    })
                    .collect(),
                SeedSubscriptions::List(list) => list
                    .into_iter()
                    .enumerate()
                    .map(|(i, sub)| {
                        let id = sub.subscription_id.unwrap_or_else(|| {
                            Uuid::new_v5(&oid, format!("subscription-{i}").as_bytes())
                        });
                        subscription(
                            tenant_id,
                            id,
                            &sub.display_name,
                            sub.state.as_deref().unwrap_or("Enabled"),
                        )
                    })
                    .collect(),
            };
            users.push(User {
                username: s.username,
                name,
                oid,
                mfa_required: s.mfa_required,
                admin: s.admin.unwrap_or(true),
                subscriptions,
            });
        }
        if users.is_empty() {
            return Err(bad("`users`: the tenant needs at least one user".to_owned()));
        }
        let cli_client_id = self
            .cli_client_id
            .unwrap_or_else(|| parse_uuid(DEFAULT_CLI_CLIENT_ID));
        let api_client_id = self
            .api_client_id
            .unwrap_or_else(|| parse_uuid(DEFAULT_API_CLIENT_ID));
        let mut apps = vec![
            App::seeded(
                tenant_id,
                cli_client_id,
                "azobo CLI",
                json!({
                    "isFallbackPublicClient": true,
                    "publicClient": {"redirectUris": ["http://localhost"]},
                }),
            ),
            App::seeded(
                tenant_id,
                api_client_id,
                "azobo API",
                json!({
                    "identifierUris": [format!("api://{api_client_id}")],
                    "api": {
                        "requestedAccessTokenVersion": api_token_version,
                        "oauth2PermissionScopes": [{
                            "id": Uuid::new_v5(&api_client_id, b"access_as_user").to_string(),
                            "value": "access_as_user",
                            "type": "User",
                            "isEnabled": true,
                            "adminConsentDisplayName": "Access the azobo API as the signed-in user",
                            "adminConsentDescription": "Lets the app call the azobo API on behalf of the signed-in user.",
                        }],
                    },
                }),
            ),
        ];
        if let Some(api) = apps.get_mut(1) {
            api.secret_digests = vec![sha2::Sha256::digest(api_client_secret.as_bytes()).into()];
        }
        for (id, name) in [
            (GRAPH_CLI_TOOLS_APP_ID, "Microsoft Graph Command Line Tools"),
            (AZURE_CLI_APP_ID, "Microsoft Azure CLI"),
        ] {
            let mut app = App::seeded(
                tenant_id,
                parse_uuid(id),
                name,
                json!({
                    "isFallbackPublicClient": true,
                    "publicClient": {"redirectUris": ["http://localhost"]},
                }),
            );
            app.first_party = true;
            apps.push(app);
        }
        let mut service_principals: Vec<ServicePrincipal> = apps
            .iter()
            .map(|a| a.service_principal(tenant_id))
            .collect();
        for (id, name, scopes) in [
            (
                ARM_APP_ID,
                "Windows Azure Service Management API",
                vec![(parse_uuid(ARM_USER_IMPERSONATION_ID), "user_impersonation")],
            ),
            (
                GRAPH_APP_ID,
                "Microsoft Graph",
                vec![
                    (
                        parse_uuid("e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
                        "User.Read",
                    ),
                    (
                        parse_uuid("bdfbf15f-ee85-4955-8675-146e8e5296b5"),
                        "Application.ReadWrite.All",
                    ),
                    (
                        parse_uuid("41ce6ca6-6826-4807-84f1-1c82854f7ee5"),
                        "DelegatedPermissionGrant.ReadWrite.All",
                    ),
                ],
            ),
        ] {
            let app_id = parse_uuid(id);
            service_principals.push(ServicePrincipal {
                id: Uuid::new_v5(&tenant_id, format!("sp:{app_id}").as_bytes()),
                app_id,
                display_name: name.to_owned(),
                scopes: scopes.into_iter().map(|(i, v)| (i, v.to_owned())).collect(),
            });
        }
        let mut dir = Directory {
            tenant_id,
            domain,
            cli_client_id,
            api_client_id,
            api_client_secret,
            api_token_version,
            users,
            apps,
            service_principals,
            consents: Vec::new(),
        };
        super::consent::seeded(&mut dir);
        Ok(dir)
    }
}

/// A random secret in Entra's style: 40 URL-safe characters.
pub(crate) fn random_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 30] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_directory_has_stable_ids_and_the_four_demo_users() {
        let a = SeedFile::default().resolve(Path::new("-")).unwrap();
        let b = SeedFile::default().resolve(Path::new("-")).unwrap();
        assert_eq!(a.tenant_id.to_string(), DEFAULT_TENANT_ID);
        assert_eq!(a.users.len(), 4);
        assert_eq!(a.users[0].oid, b.users[0].oid);
        assert_ne!(
            a.api_client_secret, b.api_client_secret,
            "secret is fresh per run"
        );
        assert_eq!(
            a.user("BOB@contoso.example").unwrap().subscriptions.len(),
            250
        );
        assert!(a.user("dave@contoso.example").unwrap().mfa_required);
        let sub = &a.users[0].subscriptions[0];
        assert_eq!(sub["displayName"], "Contoso Production");
        assert_eq!(sub["tenantId"], DEFAULT_TENANT_ID);
        assert!(
            sub["id"]
                .as_str()
                .unwrap()
                .ends_with(sub["subscriptionId"].as_str().unwrap())
        );
    }

    #[test]
    fn state_file_rejects_unknown_fields_with_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(
            &p,
            "{\n  \"tenant_id\": \"7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10\",\n  \"nope\": 1\n}",
        )
        .unwrap();
        let err = SeedFile::read(&p).unwrap_err();
        assert!(err.to_string().contains(":3:"), "{err}");
    }

    #[test]
    fn duplicate_users_are_refused() {
        let u = SeedUser {
            username: "a@x.test".into(),
            name: None,
            oid: None,
            mfa_required: false,
            admin: None,
            subscriptions: SeedSubscriptions::Count(1),
        };
        let seed = SeedFile {
            users: Some(vec![u.clone(), u]),
            ..SeedFile::default()
        };
        assert!(
            seed.resolve(Path::new("s.json"))
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }
}
