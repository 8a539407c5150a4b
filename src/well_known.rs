//! Identifiers that are the same in every Entra tenant: Microsoft's first-party applications and
//! the permissions azobo's apps use. The dev tenant seeds them; `azobo setup` refers to them.

/// Azure Resource Manager's application id.
pub const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
/// The id of ARM's delegated `user_impersonation` permission.
pub const ARM_USER_IMPERSONATION_ID: &str = "41094075-9dad-400e-a0bd-54e686782033";
/// Microsoft Graph's application id.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Microsoft Graph Command Line Tools: the public client `Connect-MgGraph` signs in with.
pub const GRAPH_CLI_TOOLS_APP_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
/// The Azure CLI's public client.
pub const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// The longest access-token lifetime believed from the identity platform: 28 hours, Entra's
/// longest (with Continuous Access Evaluation). A longer `expires_in` is taken as this.
pub const MAX_ACCESS_TOKEN_LIFETIME_SECS: u64 = 28 * 3600;
/// The delegated permission azobo's API app exposes.
pub const API_SCOPE_NAME: &str = "access_as_user";
