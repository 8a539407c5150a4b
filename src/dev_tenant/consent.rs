//! Consent per (client, resource, permission), as Entra models it: a delegated permission is
//! usable when it needs no consent (Graph's `User.Read`; a Microsoft first-party client's
//! preauthorized resources; an API's `preAuthorizedApplications`), or an `oauth2PermissionGrant`
//! holds it — an administrator's (`AllPrincipals`) or the user's own (`Principal`).
//!
//! Interactive sign-in asks the user for what is missing and records their grant; grants without
//! interaction (authorization code, refresh token, device code, On-Behalf-Of) answer AADSTS65001.

use uuid::Uuid;

use super::errors::AadError;
use super::scopes::{Resource, ScopeRequest};
use super::seed::{
    ARM_APP_ID, AZURE_CLI_APP_ID, Directory, GRAPH_APP_ID, GRAPH_CLI_TOOLS_APP_ID, PermissionGrant,
    ServicePrincipal,
};

/// The application id of a resource.
pub(crate) fn resource_app_id(resource: Resource) -> String {
    match resource {
        Resource::Arm => ARM_APP_ID.to_owned(),
        Resource::Graph => GRAPH_APP_ID.to_owned(),
        Resource::App(id) => id.to_string(),
    }
}

/// What every tenant lets any app use without asking: signing in and reading one's profile.
fn baseline(resource_app: &str, permission: &str) -> bool {
    resource_app.eq_ignore_ascii_case(GRAPH_APP_ID) && permission.eq_ignore_ascii_case("User.Read")
}

/// Microsoft's first-party clients are preauthorized for Microsoft's resources in every tenant:
/// the Azure CLI for ARM and Graph, Graph Command Line Tools for Graph.
fn first_party(client: &str, resource_app: &str) -> bool {
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    (is(client, AZURE_CLI_APP_ID)
        && (is(resource_app, ARM_APP_ID) || is(resource_app, GRAPH_APP_ID)))
        || (is(client, GRAPH_CLI_TOOLS_APP_ID) && is(resource_app, GRAPH_APP_ID))
}

/// The resource app lists the client in `api.preAuthorizedApplications` for this permission.
fn preauthorized_by_api(
    dir: &Directory,
    client: &str,
    resource_app: &str,
    permission: &str,
) -> bool {
    let Some(app) = dir.app(resource_app) else {
        return false;
    };
    let Some(id) = app.graph["api"]["oauth2PermissionScopes"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["value"].as_str() == Some(permission)))
        .and_then(|s| s["id"].as_str())
    else {
        return false;
    };
    app.graph["api"]["preAuthorizedApplications"]
        .as_array()
        .is_some_and(|list| {
            list.iter().any(|p| {
                p["appId"]
                    .as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case(client))
                    && ["delegatedPermissionIds", "permissionIds"].iter().any(|k| {
                        p[*k].as_array().is_some_and(|ids| {
                            ids.iter()
                                .any(|i| i.as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
                        })
                    })
            })
        })
}

/// True when `client` may use `permission` of `resource_app` for the user `oid`.
pub(crate) fn allowed(
    dir: &Directory,
    client: &str,
    resource_app: &str,
    permission: &str,
    oid: &str,
) -> bool {
    baseline(resource_app, permission)
        || first_party(client, resource_app)
        || preauthorized_by_api(dir, client, resource_app, permission)
        || dir.consented(client, resource_app, permission, oid)
}

/// The permissions of `scopes` the user `oid` has not granted `client`. A `.default` request
/// is narrowed to what is granted (Entra's static consent); when nothing is, all the resource
/// exposes is what consent is needed for.
pub(crate) fn missing(
    dir: &Directory,
    client: &str,
    scopes: &mut ScopeRequest,
    oid: &str,
) -> Vec<String> {
    let resource_app = resource_app_id(scopes.resource);
    let ok = |p: &String| allowed(dir, client, &resource_app, p, oid);
    if scopes.default {
        let exposed = scopes.resource.permissions(dir);
        let granted: Vec<String> = exposed.iter().filter(|p| ok(p)).cloned().collect();
        if granted.is_empty() {
            return exposed;
        }
        scopes.permissions = granted;
        return Vec::new();
    }
    scopes
        .permissions
        .iter()
        .filter(|p| !ok(p))
        .cloned()
        .collect()
}

/// AADSTS65001 as the token endpoint answers it: nobody consented to this client using the
/// resource, and the request allows no interaction.
pub(crate) fn required_error(dir: &Directory, client: &str) -> AadError {
    let name = dir
        .app(client)
        .map(|a| a.display_name.clone())
        .unwrap_or_default();
    let mut e = AadError::new(
        "invalid_grant",
        65_001,
        format!(
            "The user or administrator has not consented to use the application with ID '{client}' named '{name}'. Send an interactive authorization request for this user and resource."
        ),
    );
    e.suberror = Some("consent_required");
    e
}

/// Checks a grant without interaction: `Err` is AADSTS65001.
pub(crate) fn require(
    dir: &Directory,
    client: &str,
    scopes: &mut ScopeRequest,
    oid: &str,
) -> Result<(), AadError> {
    if missing(dir, client, scopes, oid).is_empty() {
        Ok(())
    } else {
        Err(required_error(dir, client))
    }
}

/// The service principal of `app_id`, created (as consent does in Entra) when the app is
/// registered here but has none yet.
fn principal_of(dir: &mut Directory, app_id: &str) -> Option<ServicePrincipal> {
    if let Some(sp) = dir.service_principal_of(app_id) {
        return Some(sp.clone());
    }
    let sp = dir.app(app_id)?.service_principal(dir.tenant_id);
    dir.service_principals.push(sp.clone());
    Some(sp)
}

/// Records consent for `client` to use `permissions` of `resource_app`: the user's own when
/// `principal` is given, an administrator's for everyone otherwise. An existing grant for the
/// same pair and principal is widened, as Graph keeps one per pair. Returns false when a party
/// is unknown.
pub(crate) fn grant(
    dir: &mut Directory,
    client: &str,
    resource_app: &str,
    permissions: &[String],
    principal: Option<Uuid>,
) -> bool {
    let (Some(c), Some(r)) = (principal_of(dir, client), principal_of(dir, resource_app)) else {
        return false;
    };
    let consent_type = if principal.is_some() {
        "Principal"
    } else {
        "AllPrincipals"
    };
    let existing = dir.consents.iter_mut().find(|g| {
        g.client_id == c.id
            && g.resource_id == r.id
            && g.consent_type == consent_type
            && g.principal_id == principal
    });
    match existing {
        Some(g) => {
            for p in permissions {
                if !g
                    .scope
                    .split_ascii_whitespace()
                    .any(|s| s.eq_ignore_ascii_case(p))
                {
                    format!("{} {p}", g.scope).trim().clone_into(&mut g.scope);
                }
            }
        }
        None => dir.consents.push(PermissionGrant {
            id: Uuid::new_v4().simple().to_string(),
            client_id: c.id,
            consent_type: consent_type.to_owned(),
            principal_id: principal,
            resource_id: r.id,
            scope: permissions.join(" "),
        }),
    }
    true
}

/// Withdraws `permissions` of `resource_app` from `client`'s grants: only the user's own when
/// `principal` is given, every grant (admin and users') otherwise. Grants left empty go.
/// Returns how many grants changed.
pub(crate) fn revoke(
    dir: &mut Directory,
    client: &str,
    resource_app: &str,
    permissions: &[String],
    principal: Option<Uuid>,
) -> usize {
    let (Some(c), Some(r)) = (
        dir.service_principal_of(client).map(|s| s.id),
        dir.service_principal_of(resource_app).map(|s| s.id),
    ) else {
        return 0;
    };
    let mut changed = 0;
    for g in dir.consents.iter_mut().filter(|g| {
        g.client_id == c
            && g.resource_id == r
            && (principal.is_none() || g.principal_id == principal)
    }) {
        let kept: Vec<&str> = g
            .scope
            .split_ascii_whitespace()
            .filter(|s| !permissions.iter().any(|p| p.eq_ignore_ascii_case(s)))
            .collect();
        let kept = kept.join(" ");
        if kept != g.scope {
            g.scope = kept;
            changed += 1;
        }
    }
    dir.consents.retain(|g| !g.scope.trim().is_empty());
    changed
}

/// The admin consent the built-in tenant starts with, as `azobo setup` leaves a real tenant:
/// the CLI app for the API's `access_as_user`, the API for ARM's `user_impersonation`; and the
/// CLI app for ARM too, so `azobo token --scope …/user_impersonation` works here as the README
/// shows it.
pub(crate) fn seeded(dir: &mut Directory) {
    let (cli, api) = (dir.cli_client_id.to_string(), dir.api_client_id.to_string());
    let api_scopes = dir.app(&api).map(|a| a.scopes.clone()).unwrap_or_default();
    let arm = vec!["user_impersonation".to_owned()];
    grant(dir, &cli, &api, &api_scopes, None);
    grant(dir, &api, ARM_APP_ID, &arm, None);
    grant(dir, &cli, ARM_APP_ID, &arm, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev_tenant::scopes;
    use crate::dev_tenant::seed::SeedFile;

    fn dir() -> Directory {
        SeedFile::default()
            .resolve(std::path::Path::new("-"))
            .unwrap()
    }

    #[test]
    fn seeded_grants_first_party_clients_and_the_baseline_need_no_consent() {
        let d = dir();
        let alice = d.users[0].oid.to_string();
        let cli = d.cli_client_id.to_string();
        let api = d.api_client_id.to_string();
        let mut s = scopes::parse(&d, &format!("api://{api}/access_as_user")).unwrap();
        assert!(missing(&d, &cli, &mut s, &alice).is_empty());
        let mut s = scopes::parse(&d, "https://management.azure.com/user_impersonation").unwrap();
        assert!(missing(&d, &api, &mut s, &alice).is_empty());
        assert!(missing(&d, AZURE_CLI_APP_ID, &mut s, &alice).is_empty());
        // Graph Command Line Tools is not preauthorized for ARM.
        assert_eq!(
            missing(&d, GRAPH_CLI_TOOLS_APP_ID, &mut s, &alice),
            ["user_impersonation"]
        );
        let mut s =
            scopes::parse(&d, "https://graph.microsoft.com/Application.ReadWrite.All").unwrap();
        assert!(missing(&d, GRAPH_CLI_TOOLS_APP_ID, &mut s, &alice).is_empty());
        assert!(!missing(&d, &cli, &mut s, &alice).is_empty());
        let mut s = scopes::parse(&d, "openid profile").unwrap();
        assert!(missing(&d, &cli, &mut s, &alice).is_empty());
    }

    #[test]
    fn a_users_grant_is_theirs_alone_and_revoke_withdraws_it() {
        let mut d = dir();
        let (alice, bob) = (d.users[0].oid, d.users[1].oid.to_string());
        let perm = vec!["user_impersonation".to_owned()];
        let client = GRAPH_CLI_TOOLS_APP_ID;
        assert!(grant(&mut d, client, ARM_APP_ID, &perm, Some(alice)));
        assert!(allowed(
            &d,
            client,
            ARM_APP_ID,
            "user_impersonation",
            &alice.to_string()
        ));
        assert!(!allowed(&d, client, ARM_APP_ID, "user_impersonation", &bob));
        assert_eq!(revoke(&mut d, client, ARM_APP_ID, &perm, None), 1);
        assert!(!allowed(
            &d,
            client,
            ARM_APP_ID,
            "user_impersonation",
            &alice.to_string()
        ));
    }

    #[test]
    fn dot_default_is_narrowed_to_what_is_granted() {
        let d = dir();
        let alice = d.users[0].oid.to_string();
        let mut s = scopes::parse(&d, "https://graph.microsoft.com/.default").unwrap();
        assert!(missing(&d, GRAPH_CLI_TOOLS_APP_ID, &mut s, &alice).is_empty());
        assert!(
            s.permissions
                .contains(&"Application.ReadWrite.All".to_owned())
        );
        let mut s = scopes::parse(&d, "https://graph.microsoft.com/.default").unwrap();
        assert!(missing(&d, &d.cli_client_id.to_string(), &mut s, &alice).is_empty());
        assert_eq!(s.permissions, ["User.Read"]);
    }
}
