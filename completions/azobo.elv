
use builtin;
use str;

set edit:completion:arg-completer[azobo] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'azobo'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'azobo'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand demo 'Try azobo end to end on this machine, without an Azure tenant'
            cand setup 'Register the API and CLI apps in your tenant through Microsoft Graph, write the profile'
            cand login 'Sign in (browser + PKCE, or device code) and keep the session in the OS keyring'
            cand subscriptions 'List your Azure subscriptions through the API (table, JSON or TSV)'
            cand status 'Show who is signed in, where, and until when (exit 3 when signed out)'
            cand token 'Print an access token for the API, refreshing it if needed (never signs in)'
            cand logout 'Sign out: remove the session''s secrets and metadata'
            cand serve-api 'Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)'
            cand dev-tenant 'Run a local Entra ID + Azure Resource Manager emulator'
            cand config 'Show the resolved configuration and where each value comes from'
            cand completions 'Print shell completions (bash, zsh, fish, powershell, elvish)'
            cand man 'Print the man page'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'azobo;demo'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --auto 'Sign the demo user in without a browser'
            cand --keep-running 'Keep the dev tenant and the API running (until Ctrl-C) and print how to use them'
            cand --env 'Write the `export AZOBO_…` lines to stdout, alone (for a file to source), not to stderr'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;setup'= {
            cand --tenant 'Tenant to register the apps in (GUID or domain) [default: the profile''s]'
            cand --name 'Prefix of the apps'' names and of the marker setup finds them by'
            cand --api-url 'The API''s base URL to write into the profile [default: the profile''s]'
            cand --graph-url 'Microsoft Graph''s base URL [env: AZOBO_GRAPH_URL] [default: the cloud''s]'
            cand --bootstrap-client-id 'Public client to sign in to Graph with [default: Microsoft Graph Command Line Tools]'
            cand --secret-years 'Years the API''s client secret stays valid (1 or 2)'
            cand --certificate 'Register this certificate (PEM) on the API app instead of a client secret'
            cand --certificate-key 'The certificate''s private key (PEM), for serve-api [default: in the certificate file]'
            cand --timeout 'Seconds to wait for the browser sign-in (1 to 3600)'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --device-code 'Sign in with the device code flow'
            cand --no-browser 'Print the sign-in URL instead of opening a browser'
            cand --dry-run 'Print the Graph requests setup would send, and change nothing'
            cand --cleanup 'Delete the apps, service principals and grants setup created, and the secret file'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;login'= {
            cand --scope 'Another scope to request as well (repeatable)'
            cand --tenant 'Tenant to sign in to (GUID, domain, organizations, common)'
            cand --login-hint 'Account to pre-select instead of asking which one to use'
            cand --claims 'Claims challenge (JSON) to satisfy, as sent by an API that needs more (e.g. MFA)'
            cand --claims-b64 'The same claims challenge as base64url (what azobo''s hints print: safe to paste)'
            cand --port 'Loopback port for the redirect [default: a free one]'
            cand --timeout 'Seconds to wait for the browser sign-in (1 to 3600)'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --no-browser 'Print the sign-in URL instead of opening a browser (still waits for the redirect)'
            cand --device-code 'Use the device code flow: sign in on any other device'
            cand --insecure-storage 'Keep tokens in a plaintext 0600 file instead of the OS keyring [env: AZOBO_TOKEN_STORE=file]'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;subscriptions'= {
            cand --api-url 'The API''s base URL [default: the profile''s api_url]'
            cand --state 'Only subscriptions in this state (any case)'
            cand --api-timeout 'Give up on the API after this long, retries included'
            cand --max-response-mib 'Refuse an answer from the API larger than this'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --device-code 'If the API asks for a new sign-in (MFA), use the device code flow for it'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;status'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;token'= {
            cand --scope 'Scope to get a token for [default: the profile''s api_scope]'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --force-refresh 'Refresh even when the cached token is still fresh'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;logout'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --all 'Remove the sessions of every profile'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;serve-api'= {
            cand --listen 'Address to listen on'
            cand --cloud 'National cloud: AzureCloud, AzureUSGovernment, AzureChinaCloud'
            cand --authority 'Identity platform base URL (overrides the cloud''s)'
            cand --tenant 'The API''s tenant (GUID or domain; organizations/common with --allowed-tenants)'
            cand --client-id 'The API app registration''s client id'
            cand --audience 'Accepted audience (repeatable) [default: CLIENT_ID and api://CLIENT_ID]'
            cand --required-scope 'Delegated scope every token must carry [default: access_as_user]'
            cand --allowed-tenants 'Tenants whose users may call, comma-separated, or * [default: the API''s own tenant]'
            cand --token-versions 'Accepted token versions: 1, 2 or 1,2 [default: 1,2]'
            cand --arm-url 'Azure Resource Manager base URL (overrides the cloud''s)'
            cand --arm-api-version 'ARM api-version for GET /subscriptions [default: 2022-12-01]'
            cand --jwks-refetch-floor 'Least seconds between key refetches an unknown `kid` triggers (1 to 300) [default: 30]'
            cand --arm-scope 'Scope requested On-Behalf-Of the user [default: the cloud''s ARM user_impersonation]'
            cand --client-secret-file 'File holding the client secret (or set AZOBO_API_CLIENT_SECRET)'
            cand --client-certificate 'PEM with the app''s certificate (and its key, unless --client-certificate-key)'
            cand --client-certificate-key 'PEM with the certificate''s RSA private key'
            cand --tls-cert 'Serve HTTPS with this certificate chain (PEM)'
            cand --tls-key 'The TLS private key (PEM)'
            cand --log-format 'Access log format'
            cand --metrics-listen 'Serve /metrics on this address instead (an internal listener; the public one then has none)'
            cand --max-connections 'Connections served at once'
            cand --max-connections-per-peer 'Connections one peer address may hold [default: a quarter of --max-connections; behind a load balancer, raise it to --max-connections]'
            cand --token-cache 'Shared token cache: memory (this process only) or redis://HOST:PORT[/DB], rediss:// for TLS [default: memory]'
            cand --cache-key-file 'File with the shared cache''s keys, base64, one per line: the first encrypts, the others only decrypt (or set AZOBO_API_CACHE_KEY)'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;dev-tenant'= {
            cand --listen 'Loopback address to listen on; port 0 picks a free port (with --state-dir: the port the previous run had)'
            cand --state 'JSON file with the tenant, app ids, secret and users to use instead of the built-in ones'
            cand --auto-approve 'Sign this user in at once on /authorize instead of showing the account picker'
            cand --page-size 'Subscriptions per ARM page (nextLink paging beyond it)'
            cand --token-lifetime 'Fixed access-token lifetime, at most a day [default: 60-90 minutes, randomised as Entra ID does]'
            cand --device-code-interval 'Seconds a device-code client must wait between polls'
            cand --api-token-version 'The API app''s accessTokenAcceptedVersion (1 or 2) [default: 2]'
            cand --runtime-dir 'Directory for the CA and the API''s certificate, created 0700 [default: the state directory, else a temporary one removed on exit]'
            cand --state-dir 'Keep signing keys, users'' refresh tokens, apps and grants made through Graph, and the listening address across restarts in DIR (created 0700)'
            cand --max-connections 'Connections served at once; more wait in the kernel''s backlog'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --tls 'Serve HTTPS with a freshly generated local CA (its PEM path is printed as `ca_file`)'
            cand --control-token 'Require `Authorization: Bearer <control_token>` on /_dev/ (a random token, announced in the startup line)'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;config'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Print the profile after merging the file, AZOBO_* variables and defaults'
            cand path 'Print the path of the configuration file azobo reads'
            cand set 'Set one key of the profile in the configuration file'
            cand unset 'Remove one key from the profile in the configuration file'
            cand init 'Write a new profile into the configuration file'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'azobo;config;show'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;config;path'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;config;set'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;config;unset'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;config;init'= {
            cand --from-dev-tenant 'Take the authority, tenant, client id, API scope and ARM URL from the JSON line `azobo dev-tenant` prints (a file, or - for standard input)'
            cand --cloud 'National cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud'
            cand --authority 'Identity platform base URL (e.g. a dev tenant''s)'
            cand --arm-url 'Azure Resource Manager base URL'
            cand --tenant 'Tenant GUID or domain'
            cand --client-id 'The CLI app''s client id'
            cand --api-scope 'The API''s delegated scope'
            cand --api-url 'The API''s base URL'
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --force 'Replace the profile if the file has it already'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;config;help'= {
            cand show 'Print the profile after merging the file, AZOBO_* variables and defaults'
            cand path 'Print the path of the configuration file azobo reads'
            cand set 'Set one key of the profile in the configuration file'
            cand unset 'Remove one key from the profile in the configuration file'
            cand init 'Write a new profile into the configuration file'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'azobo;config;help;show'= {
        }
        &'azobo;config;help;path'= {
        }
        &'azobo;config;help;set'= {
        }
        &'azobo;config;help;unset'= {
        }
        &'azobo;config;help;init'= {
        }
        &'azobo;config;help;help'= {
        }
        &'azobo;completions'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;man'= {
            cand --profile 'Profile to use [env: AZOBO_PROFILE] [default: default]'
            cand --config 'Configuration file to read [env: AZOBO_CONFIG]'
            cand -o 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --output 'Output format for data on stdout: table, json, yaml, tsv or none'
            cand --query 'JMESPath query on the command''s JSON document, as in `az`'
            cand --json 'Shorthand for `--output json`'
            cand --debug 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'azobo;help'= {
            cand demo 'Try azobo end to end on this machine, without an Azure tenant'
            cand setup 'Register the API and CLI apps in your tenant through Microsoft Graph, write the profile'
            cand login 'Sign in (browser + PKCE, or device code) and keep the session in the OS keyring'
            cand subscriptions 'List your Azure subscriptions through the API (table, JSON or TSV)'
            cand status 'Show who is signed in, where, and until when (exit 3 when signed out)'
            cand token 'Print an access token for the API, refreshing it if needed (never signs in)'
            cand logout 'Sign out: remove the session''s secrets and metadata'
            cand serve-api 'Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)'
            cand dev-tenant 'Run a local Entra ID + Azure Resource Manager emulator'
            cand config 'Show the resolved configuration and where each value comes from'
            cand completions 'Print shell completions (bash, zsh, fish, powershell, elvish)'
            cand man 'Print the man page'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'azobo;help;demo'= {
        }
        &'azobo;help;setup'= {
        }
        &'azobo;help;login'= {
        }
        &'azobo;help;subscriptions'= {
        }
        &'azobo;help;status'= {
        }
        &'azobo;help;token'= {
        }
        &'azobo;help;logout'= {
        }
        &'azobo;help;serve-api'= {
        }
        &'azobo;help;dev-tenant'= {
        }
        &'azobo;help;config'= {
            cand show 'Print the profile after merging the file, AZOBO_* variables and defaults'
            cand path 'Print the path of the configuration file azobo reads'
            cand set 'Set one key of the profile in the configuration file'
            cand unset 'Remove one key from the profile in the configuration file'
            cand init 'Write a new profile into the configuration file'
        }
        &'azobo;help;config;show'= {
        }
        &'azobo;help;config;path'= {
        }
        &'azobo;help;config;set'= {
        }
        &'azobo;help;config;unset'= {
        }
        &'azobo;help;config;init'= {
        }
        &'azobo;help;completions'= {
        }
        &'azobo;help;man'= {
        }
        &'azobo;help;help'= {
        }
    ]
    $completions[$command]
}
