# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_azobo_global_optspecs
    string join \n profile= config= o/output= json query= debug v/verbose q/quiet h/help V/version
end

function __fish_azobo_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_azobo_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_azobo_using_subcommand
    set -l cmd (__fish_azobo_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c azobo -n "__fish_azobo_needs_command" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_needs_command" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_needs_command" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_needs_command" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_needs_command" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_needs_command" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_needs_command" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_needs_command" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_needs_command" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "demo" -d 'Try azobo end to end on this machine, without an Azure tenant'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "setup" -d 'Register the API and CLI apps in your tenant through Microsoft Graph, write the profile'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "login" -d 'Sign in (browser + PKCE, or device code) and keep the session in the OS keyring'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "subscriptions" -d 'List your Azure subscriptions through the API (table, JSON or TSV)'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "status" -d 'Show who is signed in, where, and until when (exit 3 when signed out)'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "token" -d 'Print an access token for the API, refreshing it if needed (never signs in)'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "logout" -d 'Sign out: remove the session\'s secrets and metadata'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "serve-api" -d 'Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "dev-tenant" -d 'Run a local Entra ID + Azure Resource Manager emulator'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "config" -d 'Show the resolved configuration and where each value comes from'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, powershell, elvish)'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "man" -d 'Print the man page'
complete -c azobo -n "__fish_azobo_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand demo" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l auto -d 'Sign the demo user in without a browser'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l keep-running -d 'Keep the dev tenant and the API running (until Ctrl-C) and print how to use them'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l env -d 'Write the `export AZOBO_…` lines to stdout, alone (for a file to source), not to stderr'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand demo" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l tenant -d 'Tenant to register the apps in (GUID or domain) [default: the profile\'s]' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l name -d 'Prefix of the apps\' names and of the marker setup finds them by' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l api-url -d 'The API\'s base URL to write into the profile [default: the profile\'s]' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l graph-url -d 'Microsoft Graph\'s base URL [env: AZOBO_GRAPH_URL] [default: the cloud\'s]' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l bootstrap-client-id -d 'Public client to sign in to Graph with [default: Microsoft Graph Command Line Tools]' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l secret-years -d 'Years the API\'s client secret stays valid (1 or 2)' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l certificate -d 'Register this certificate (PEM) on the API app instead of a client secret' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l certificate-key -d 'The certificate\'s private key (PEM), for serve-api [default: in the certificate file]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l timeout -d 'Seconds to wait for the browser sign-in (1 to 3600)' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand setup" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l device-code -d 'Sign in with the device code flow'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l no-browser -d 'Print the sign-in URL instead of opening a browser'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l dry-run -d 'Print the Graph requests setup would send, and change nothing'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l cleanup -d 'Delete the apps, service principals and grants setup created, and the secret file'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand setup" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand login" -l scope -d 'Another scope to request as well (repeatable)' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l tenant -d 'Tenant to sign in to (GUID, domain, organizations, common)' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l login-hint -d 'Account to pre-select instead of asking which one to use' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l claims -d 'Claims challenge (JSON) to satisfy, as sent by an API that needs more (e.g. MFA)' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l claims-b64 -d 'The same claims challenge as base64url (what azobo\'s hints print: safe to paste)' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l port -d 'Loopback port for the redirect [default: a free one]' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l timeout -d 'Seconds to wait for the browser sign-in (1 to 3600)' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand login" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand login" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand login" -l no-browser -d 'Print the sign-in URL instead of opening a browser (still waits for the redirect)'
complete -c azobo -n "__fish_azobo_using_subcommand login" -l device-code -d 'Use the device code flow: sign in on any other device'
complete -c azobo -n "__fish_azobo_using_subcommand login" -l insecure-storage -d 'Keep tokens in a plaintext 0600 file instead of the OS keyring [env: AZOBO_TOKEN_STORE=file]'
complete -c azobo -n "__fish_azobo_using_subcommand login" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand login" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand login" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand login" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand login" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand login" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l api-url -d 'The API\'s base URL [default: the profile\'s api_url]' -r
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l state -d 'Only subscriptions in this state (any case)' -r -f -a "Enabled\t''
Warned\t''
PastDue\t''
Disabled\t''
Deleted\t''"
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l api-timeout -d 'Give up on the API after this long, retries included' -r
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l max-response-mib -d 'Refuse an answer from the API larger than this' -r
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l device-code -d 'If the API asks for a new sign-in (MFA), use the device code flow for it'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand subscriptions" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand status" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand status" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand status" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand status" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand status" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand status" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand status" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand status" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand status" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand status" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand token" -l scope -d 'Scope to get a token for [default: the profile\'s api_scope]' -r
complete -c azobo -n "__fish_azobo_using_subcommand token" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand token" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand token" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand token" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand token" -l force-refresh -d 'Refresh even when the cached token is still fresh'
complete -c azobo -n "__fish_azobo_using_subcommand token" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand token" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand token" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand token" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand token" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand token" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand logout" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand logout" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand logout" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand logout" -l all -d 'Remove the sessions of every profile'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand logout" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l listen -d 'Address to listen on' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l cloud -d 'National cloud: AzureCloud, AzureUSGovernment, AzureChinaCloud' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l authority -d 'Identity platform base URL (overrides the cloud\'s)' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l tenant -d 'The API\'s tenant (GUID or domain; organizations/common with --allowed-tenants)' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l client-id -d 'The API app registration\'s client id' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l audience -d 'Accepted audience (repeatable) [default: CLIENT_ID and api://CLIENT_ID]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l required-scope -d 'Delegated scope every token must carry [default: access_as_user]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l allowed-tenants -d 'Tenants whose users may call, comma-separated, or * [default: the API\'s own tenant]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l token-versions -d 'Accepted token versions: 1, 2 or 1,2 [default: 1,2]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l arm-url -d 'Azure Resource Manager base URL (overrides the cloud\'s)' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l arm-api-version -d 'ARM api-version for GET /subscriptions [default: 2022-12-01]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l jwks-refetch-floor -d 'Least seconds between key refetches an unknown `kid` triggers (1 to 300) [default: 30]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l arm-scope -d 'Scope requested On-Behalf-Of the user [default: the cloud\'s ARM user_impersonation]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l client-secret-file -d 'File holding the client secret (or set AZOBO_API_CLIENT_SECRET)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l client-certificate -d 'PEM with the app\'s certificate (and its key, unless --client-certificate-key)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l client-certificate-key -d 'PEM with the certificate\'s RSA private key' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l tls-cert -d 'Serve HTTPS with this certificate chain (PEM)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l tls-key -d 'The TLS private key (PEM)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l log-format -d 'Access log format' -r -f -a "human\t'One human-readable line per request'
json\t'One JSON object per line'"
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l metrics-listen -d 'Serve /metrics on this address instead (an internal listener; the public one then has none)' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l max-connections -d 'Connections served at once' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l max-connections-per-peer -d 'Connections one peer address may hold [default: a quarter of --max-connections; behind a load balancer, raise it to --max-connections]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l token-cache -d 'Shared token cache: memory (this process only) or redis://HOST:PORT[/DB], rediss:// for TLS [default: memory]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l cache-key-file -d 'File with the shared cache\'s keys, base64, one per line: the first encrypts, the others only decrypt (or set AZOBO_API_CACHE_KEY)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c azobo -n "__fish_azobo_using_subcommand serve-api" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l listen -d 'Loopback address to listen on; port 0 picks a free port (with --state-dir: the port the previous run had)' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l state -d 'JSON file with the tenant, app ids, secret and users to use instead of the built-in ones' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l auto-approve -d 'Sign this user in at once on /authorize instead of showing the account picker' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l page-size -d 'Subscriptions per ARM page (nextLink paging beyond it)' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l token-lifetime -d 'Fixed access-token lifetime, at most a day [default: 60-90 minutes, randomised as Entra ID does]' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l device-code-interval -d 'Seconds a device-code client must wait between polls' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l api-token-version -d 'The API app\'s accessTokenAcceptedVersion (1 or 2) [default: 2]' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l runtime-dir -d 'Directory for the CA and the API\'s certificate, created 0700 [default: the state directory, else a temporary one removed on exit]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l state-dir -d 'Keep signing keys, users\' refresh tokens, apps and grants made through Graph, and the listening address across restarts in DIR (created 0700)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l max-connections -d 'Connections served at once; more wait in the kernel\'s backlog' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l tls -d 'Serve HTTPS with a freshly generated local CA (its PEM path is printed as `ca_file`)'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l control-token -d 'Require `Authorization: Bearer <control_token>` on /_dev/ (a random token, announced in the startup line)'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand dev-tenant" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -f -a "show" -d 'Print the profile after merging the file, AZOBO_* variables and defaults'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -f -a "path" -d 'Print the path of the configuration file azobo reads'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -f -a "set" -d 'Set one key of the profile in the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -f -a "unset" -d 'Remove one key from the profile in the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -f -a "init" -d 'Write a new profile into the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand config; and not __fish_seen_subcommand_from show path set unset init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l from-dev-tenant -d 'Take the authority, tenant, client id, API scope and ARM URL from the JSON line `azobo dev-tenant` prints (a file, or - for standard input)' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l cloud -d 'National cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l authority -d 'Identity platform base URL (e.g. a dev tenant\'s)' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l arm-url -d 'Azure Resource Manager base URL' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l tenant -d 'Tenant GUID or domain' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l client-id -d 'The CLI app\'s client id' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l api-scope -d 'The API\'s delegated scope' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l api-url -d 'The API\'s base URL' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l force -d 'Replace the profile if the file has it already'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the profile after merging the file, AZOBO_* variables and defaults'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the path of the configuration file azobo reads'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set one key of the profile in the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove one key from the profile in the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a new profile into the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c azobo -n "__fish_azobo_using_subcommand completions" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand completions" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand completions" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand completions" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand completions" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand completions" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand completions" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand completions" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand completions" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand man" -l profile -d 'Profile to use [env: AZOBO_PROFILE] [default: default]' -r
complete -c azobo -n "__fish_azobo_using_subcommand man" -l config -d 'Configuration file to read [env: AZOBO_CONFIG]' -r -F
complete -c azobo -n "__fish_azobo_using_subcommand man" -s o -l output -d 'Output format for data on stdout: table, json, yaml, tsv or none' -r -f -a "table\t''
json\t''
yaml\t''
tsv\t''
none\t''"
complete -c azobo -n "__fish_azobo_using_subcommand man" -l query -d 'JMESPath query on the command\'s JSON document, as in `az`' -r
complete -c azobo -n "__fish_azobo_using_subcommand man" -l json -d 'Shorthand for `--output json`'
complete -c azobo -n "__fish_azobo_using_subcommand man" -l debug -d 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
complete -c azobo -n "__fish_azobo_using_subcommand man" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c azobo -n "__fish_azobo_using_subcommand man" -s q -l quiet -d 'Only errors on stderr'
complete -c azobo -n "__fish_azobo_using_subcommand man" -s h -l help -d 'Print help'
complete -c azobo -n "__fish_azobo_using_subcommand man" -s V -l version -d 'Print version'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "demo" -d 'Try azobo end to end on this machine, without an Azure tenant'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "setup" -d 'Register the API and CLI apps in your tenant through Microsoft Graph, write the profile'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "login" -d 'Sign in (browser + PKCE, or device code) and keep the session in the OS keyring'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "subscriptions" -d 'List your Azure subscriptions through the API (table, JSON or TSV)'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "status" -d 'Show who is signed in, where, and until when (exit 3 when signed out)'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "token" -d 'Print an access token for the API, refreshing it if needed (never signs in)'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "logout" -d 'Sign out: remove the session\'s secrets and metadata'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "serve-api" -d 'Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "dev-tenant" -d 'Run a local Entra ID + Azure Resource Manager emulator'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "config" -d 'Show the resolved configuration and where each value comes from'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, powershell, elvish)'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "man" -d 'Print the man page'
complete -c azobo -n "__fish_azobo_using_subcommand help; and not __fish_seen_subcommand_from demo setup login subscriptions status token logout serve-api dev-tenant config completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c azobo -n "__fish_azobo_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the profile after merging the file, AZOBO_* variables and defaults'
complete -c azobo -n "__fish_azobo_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the path of the configuration file azobo reads'
complete -c azobo -n "__fish_azobo_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set one key of the profile in the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove one key from the profile in the configuration file'
complete -c azobo -n "__fish_azobo_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "init" -d 'Write a new profile into the configuration file'
