//! Scope strings: which resource a request is for, which of its permissions, and the OIDC
//! scopes beside them. Entra allows one resource per request (AADSTS28000).

use uuid::Uuid;

use super::errors::AadError;
use super::seed::Directory;

/// Azure Resource Manager's resource identifier. ARM's URL may differ (the dev tenant serves it
/// locally); its identifier in scopes never does.
pub(crate) const ARM_RESOURCE: &str = "https://management.azure.com";
const ARM_LEGACY_RESOURCE: &str = "https://management.core.windows.net";
const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Microsoft Graph's app id, the audience of its tokens (those of OIDC-only requests too).
pub(crate) use super::seed::GRAPH_APP_ID;

/// A resource the dev tenant issues tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    /// A registered app's web API (the seeded API app, or one created later), by client id.
    App(Uuid),
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph (the default resource of an OIDC-only request).
    Graph,
}

impl Resource {
    /// The delegated permissions of a Microsoft resource, from its service principal.
    fn exposed_by(dir: &Directory, app_id: &str) -> Vec<String> {
        dir.service_principal_of(app_id)
            .map(|sp| sp.scopes.iter().map(|(_, v)| v.clone()).collect())
            .unwrap_or_default()
    }

    /// The delegated permissions the resource exposes.
    pub(crate) fn permissions(self, dir: &Directory) -> Vec<String> {
        match self {
            Resource::App(id) => dir
                .app(&id.to_string())
                .map(|a| a.scopes.clone())
                .unwrap_or_default(),
            Resource::Arm => Self::exposed_by(dir, super::seed::ARM_APP_ID),
            Resource::Graph => Self::exposed_by(dir, GRAPH_APP_ID),
        }
    }
}

/// A parsed `scope` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScopeRequest {
    /// The resource the token is for.
    pub(crate) resource: Resource,
    /// The permissions asked for (all exposed ones for `.default`).
    pub(crate) permissions: Vec<String>,
    /// The request used `{resource}/.default`.
    pub(crate) default: bool,
    /// `openid` was asked for: an id_token comes back.
    pub(crate) openid: bool,
    /// `offline_access` was asked for: a refresh token comes back.
    pub(crate) offline_access: bool,
    /// `email` was asked for.
    pub(crate) email: bool,
    /// The ARM resource prefix as the client spelled it (affects `aud`).
    pub(crate) arm_prefix: &'static str,
}

impl ScopeRequest {
    /// The `scope` field of the token response.
    pub(crate) fn granted(&self, dir: &Directory) -> String {
        let prefix = match self.resource {
            Resource::App(id) => dir.app(&id.to_string()).map_or_else(
                || format!("api://{id}/"),
                |a| format!("{}/", a.resource_uri()),
            ),
            Resource::Arm => format!("{}/", self.arm_prefix),
            Resource::Graph => String::new(),
        };
        let mut out: Vec<String> = self
            .permissions
            .iter()
            .map(|p| format!("{prefix}{p}"))
            .collect();
        if self.default {
            out.push(format!("{prefix}.default"));
        }
        if self.resource == Resource::Graph {
            out.extend(["profile", "openid"].map(str::to_owned));
            if self.email {
                out.push("email".to_owned());
            }
        }
        out.join(" ")
    }

    /// The `scp` claim: the permission names, space-separated.
    pub(crate) fn scp(&self) -> String {
        self.permissions.join(" ")
    }

    /// The `aud` claim for a token of this resource.
    pub(crate) fn audience(&self, dir: &Directory, version: u8) -> String {
        match (self.resource, version) {
            (Resource::App(id), 2) => id.to_string(),
            (Resource::App(id), _) => dir
                .app(&id.to_string())
                .map_or_else(|| format!("api://{id}"), super::seed::App::resource_uri),
            (Resource::Arm, _) => self.arm_prefix.to_owned(),
            (Resource::Graph, _) => GRAPH_APP_ID.to_owned(),
        }
    }
}

/// Splits `resource/permission`, recognising the dev tenant's resources.
fn split(dir: &Directory, scope: &str) -> Result<(Resource, &'static str, String), AadError> {
    let lower = scope.to_ascii_lowercase();
    let strip = |prefix: &str| -> Option<String> {
        lower.starts_with(&prefix.to_ascii_lowercase()).then(|| {
            // v1 resources are often written with a trailing slash, giving `//`.
            scope[prefix.len()..].trim_start_matches('/').to_owned()
        })
    };
    // A registered API (an app with an App ID URI): by that URI, or by its bare client id.
    for app in dir.apps.iter().filter(|a| !a.identifier_uris.is_empty()) {
        let names = app
            .identifier_uris
            .iter()
            .cloned()
            .chain([app.app_id.to_string()]);
        for name in names {
            if let Some(p) = strip(&format!("{}/", name.trim_end_matches('/'))) {
                return Ok((Resource::App(app.app_id), "", p));
            }
        }
    }
    for prefix in [ARM_RESOURCE, ARM_LEGACY_RESOURCE] {
        if let Some(p) = strip(&format!("{prefix}/")) {
            let spelled = if prefix == ARM_RESOURCE {
                ARM_RESOURCE
            } else {
                ARM_LEGACY_RESOURCE
            };
            return Ok((Resource::Arm, spelled, p));
        }
    }
    if let Some(p) = strip(&format!("{GRAPH_RESOURCE}/")) {
        return Ok((Resource::Graph, "", p));
    }
    if scope.contains("://") || scope.contains('/') {
        let resource = scope.rsplit_once('/').map_or(scope, |(r, _)| r);
        return Err(AadError::new(
            "invalid_resource",
            500_011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                dir.tenant_id
            ),
        ));
    }
    Ok((Resource::Graph, "", scope.to_owned()))
}

/// Parses a `scope` parameter. `allow_oidc_only` is false for grants that need a resource.
pub(crate) fn parse(dir: &Directory, raw: &str) -> Result<ScopeRequest, AadError> {
    let mut req = ScopeRequest {
        resource: Resource::Graph,
        permissions: Vec::new(),
        default: false,
        openid: false,
        offline_access: false,
        email: false,
        arm_prefix: ARM_RESOURCE,
    };
    let mut resource: Option<Resource> = None;
    for scope in raw.split_ascii_whitespace() {
        match scope {
            "openid" => req.openid = true,
            "profile" => {}
            "offline_access" => req.offline_access = true,
            "email" => req.email = true,
            _ => {
                let (res, arm_prefix, perm) = split(dir, scope)?;
                if resource.is_some_and(|r| r != res) {
                    return Err(AadError::new(
                        "invalid_request",
                        28_000,
                        "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ".to_owned() + raw + " is not valid.",
                    ));
                }
                resource = Some(res);
                if res == Resource::Arm {
                    req.arm_prefix = if arm_prefix.is_empty() {
                        ARM_RESOURCE
                    } else {
                        arm_prefix
                    };
                }
                if perm == ".default" {
                    req.default = true;
                } else if let Some(known) = res
                    .permissions(dir)
                    .into_iter()
                    .find(|p| p.eq_ignore_ascii_case(&perm))
                {
                    if !req.permissions.contains(&known) {
                        req.permissions.push(known);
                    }
                } else {
                    return Err(AadError::invalid_scope(format!(
                        "The scope {scope} is not valid."
                    )));
                }
            }
        }
    }
    if req.default {
        req.permissions = match resource.unwrap_or(Resource::Graph) {
            // What every tenant has consented for Graph: signing in and reading the profile.
            Resource::Graph => vec!["User.Read".to_owned()],
            other => other.permissions(dir),
        };
    }
    req.resource = resource.unwrap_or(Resource::Graph);
    if req.resource == Resource::Graph && req.permissions.is_empty() {
        req.permissions.push("User.Read".to_owned());
    }
    if raw.split_ascii_whitespace().next().is_none() {
        return Err(AadError::missing("scope"));
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev_tenant::seed::SeedFile;

    fn dir() -> Directory {
        SeedFile::default()
            .resolve(std::path::Path::new("-"))
            .unwrap()
    }

    #[test]
    fn api_scope_with_oidc_scopes() {
        let d = dir();
        let s = parse(
            &d,
            &format!(
                "openid profile offline_access api://{}/access_as_user",
                d.api_client_id
            ),
        )
        .unwrap();
        assert_eq!(s.resource, Resource::App(d.api_client_id));
        assert!(s.openid && s.offline_access);
        assert_eq!(s.scp(), "access_as_user");
        assert_eq!(
            s.granted(&d),
            format!("api://{}/access_as_user", d.api_client_id)
        );
        assert_eq!(s.audience(&d, 2), d.api_client_id.to_string());
        assert_eq!(s.audience(&d, 1), format!("api://{}", d.api_client_id));
    }

    #[test]
    fn arm_default_and_double_slash() {
        let d = dir();
        let s = parse(&d, "https://management.core.windows.net//.default").unwrap();
        assert_eq!(s.resource, Resource::Arm);
        assert!(s.default);
        assert_eq!(s.scp(), "user_impersonation");
        assert_eq!(s.audience(&d, 1), "https://management.core.windows.net");
        let s = parse(&d, "https://management.azure.com/user_impersonation").unwrap();
        assert_eq!(
            s.granted(&d),
            "https://management.azure.com/user_impersonation"
        );
    }

    #[test]
    fn two_resources_unknown_scope_and_unknown_resource_are_refused() {
        let d = dir();
        let e = parse(
            &d,
            &format!(
                "api://{}/access_as_user https://management.azure.com/user_impersonation",
                d.api_client_id
            ),
        )
        .unwrap_err();
        assert_eq!(e.code, 28_000);
        let e = parse(&d, "https://management.azure.com/write_everything").unwrap_err();
        assert_eq!(e.error, "invalid_scope");
        let e = parse(&d, "api://nope/x").unwrap_err();
        assert_eq!(e.code, 500_011);
        assert_eq!(parse(&d, "   ").unwrap_err().code, 900_144);
    }

    #[test]
    fn oidc_only_goes_to_graph() {
        let d = dir();
        let s = parse(&d, "openid profile").unwrap();
        assert_eq!(s.resource, Resource::Graph);
        assert_eq!(s.audience(&d, 1), GRAPH_APP_ID);
    }
}
