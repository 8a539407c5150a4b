
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'azobo' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'azobo'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'azobo' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Try azobo end to end on this machine, without an Azure tenant')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Register the API and CLI apps in your tenant through Microsoft Graph, write the profile')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in (browser + PKCE, or device code) and keep the session in the OS keyring')
            [CompletionResult]::new('subscriptions', 'subscriptions', [CompletionResultType]::ParameterValue, 'List your Azure subscriptions through the API (table, JSON or TSV)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show who is signed in, where, and until when (exit 3 when signed out)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print an access token for the API, refreshing it if needed (never signs in)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Sign out: remove the session''s secrets and metadata')
            [CompletionResult]::new('serve-api', 'serve-api', [CompletionResultType]::ParameterValue, 'Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)')
            [CompletionResult]::new('dev-tenant', 'dev-tenant', [CompletionResultType]::ParameterValue, 'Run a local Entra ID + Azure Resource Manager emulator')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the resolved configuration and where each value comes from')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'azobo;demo' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--auto', '--auto', [CompletionResultType]::ParameterName, 'Sign the demo user in without a browser')
            [CompletionResult]::new('--keep-running', '--keep-running', [CompletionResultType]::ParameterName, 'Keep the dev tenant and the API running (until Ctrl-C) and print how to use them')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Write the `export AZOBO_…` lines to stdout, alone (for a file to source), not to stderr')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;setup' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant to register the apps in (GUID or domain) [default: the profile''s]')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Prefix of the apps'' names and of the marker setup finds them by')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The API''s base URL to write into the profile [default: the profile''s]')
            [CompletionResult]::new('--graph-url', '--graph-url', [CompletionResultType]::ParameterName, 'Microsoft Graph''s base URL [env: AZOBO_GRAPH_URL] [default: the cloud''s]')
            [CompletionResult]::new('--bootstrap-client-id', '--bootstrap-client-id', [CompletionResultType]::ParameterName, 'Public client to sign in to Graph with [default: Microsoft Graph Command Line Tools]')
            [CompletionResult]::new('--secret-years', '--secret-years', [CompletionResultType]::ParameterName, 'Years the API''s client secret stays valid (1 or 2)')
            [CompletionResult]::new('--certificate', '--certificate', [CompletionResultType]::ParameterName, 'Register this certificate (PEM) on the API app instead of a client secret')
            [CompletionResult]::new('--certificate-key', '--certificate-key', [CompletionResultType]::ParameterName, 'The certificate''s private key (PEM), for serve-api [default: in the certificate file]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser sign-in (1 to 3600)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'Sign in with the device code flow')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the sign-in URL instead of opening a browser')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the Graph requests setup would send, and change nothing')
            [CompletionResult]::new('--cleanup', '--cleanup', [CompletionResultType]::ParameterName, 'Delete the apps, service principals and grants setup created, and the secret file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;login' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Another scope to request as well (repeatable)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant to sign in to (GUID, domain, organizations, common)')
            [CompletionResult]::new('--login-hint', '--login-hint', [CompletionResultType]::ParameterName, 'Account to pre-select instead of asking which one to use')
            [CompletionResult]::new('--claims', '--claims', [CompletionResultType]::ParameterName, 'Claims challenge (JSON) to satisfy, as sent by an API that needs more (e.g. MFA)')
            [CompletionResult]::new('--claims-b64', '--claims-b64', [CompletionResultType]::ParameterName, 'The same claims challenge as base64url (what azobo''s hints print: safe to paste)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Loopback port for the redirect [default: a free one]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser sign-in (1 to 3600)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the sign-in URL instead of opening a browser (still waits for the redirect)')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'Use the device code flow: sign in on any other device')
            [CompletionResult]::new('--insecure-storage', '--insecure-storage', [CompletionResultType]::ParameterName, 'Keep tokens in a plaintext 0600 file instead of the OS keyring [env: AZOBO_TOKEN_STORE=file]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;subscriptions' {
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The API''s base URL [default: the profile''s api_url]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only subscriptions in this state (any case)')
            [CompletionResult]::new('--api-timeout', '--api-timeout', [CompletionResultType]::ParameterName, 'Give up on the API after this long, retries included')
            [CompletionResult]::new('--max-response-mib', '--max-response-mib', [CompletionResultType]::ParameterName, 'Refuse an answer from the API larger than this')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--device-code', '--device-code', [CompletionResultType]::ParameterName, 'If the API asks for a new sign-in (MFA), use the device code flow for it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;status' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;token' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scope to get a token for [default: the profile''s api_scope]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--force-refresh', '--force-refresh', [CompletionResultType]::ParameterName, 'Refresh even when the cached token is still fresh')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;logout' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Remove the sessions of every profile')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;serve-api' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'National cloud: AzureCloud, AzureUSGovernment, AzureChinaCloud')
            [CompletionResult]::new('--authority', '--authority', [CompletionResultType]::ParameterName, 'Identity platform base URL (overrides the cloud''s)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'The API''s tenant (GUID or domain; organizations/common with --allowed-tenants)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'The API app registration''s client id')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'Accepted audience (repeatable) [default: CLIENT_ID and api://CLIENT_ID]')
            [CompletionResult]::new('--required-scope', '--required-scope', [CompletionResultType]::ParameterName, 'Delegated scope every token must carry [default: access_as_user]')
            [CompletionResult]::new('--allowed-tenants', '--allowed-tenants', [CompletionResultType]::ParameterName, 'Tenants whose users may call, comma-separated, or * [default: the API''s own tenant]')
            [CompletionResult]::new('--token-versions', '--token-versions', [CompletionResultType]::ParameterName, 'Accepted token versions: 1, 2 or 1,2 [default: 1,2]')
            [CompletionResult]::new('--arm-url', '--arm-url', [CompletionResultType]::ParameterName, 'Azure Resource Manager base URL (overrides the cloud''s)')
            [CompletionResult]::new('--arm-api-version', '--arm-api-version', [CompletionResultType]::ParameterName, 'ARM api-version for GET /subscriptions [default: 2022-12-01]')
            [CompletionResult]::new('--jwks-refetch-floor', '--jwks-refetch-floor', [CompletionResultType]::ParameterName, 'Least seconds between key refetches an unknown `kid` triggers (1 to 300) [default: 30]')
            [CompletionResult]::new('--arm-scope', '--arm-scope', [CompletionResultType]::ParameterName, 'Scope requested On-Behalf-Of the user [default: the cloud''s ARM user_impersonation]')
            [CompletionResult]::new('--client-secret-file', '--client-secret-file', [CompletionResultType]::ParameterName, 'File holding the client secret (or set AZOBO_API_CLIENT_SECRET)')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM with the app''s certificate (and its key, unless --client-certificate-key)')
            [CompletionResult]::new('--client-certificate-key', '--client-certificate-key', [CompletionResultType]::ParameterName, 'PEM with the certificate''s RSA private key')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Serve HTTPS with this certificate chain (PEM)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The TLS private key (PEM)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Access log format')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve /metrics on this address instead (an internal listener; the public one then has none)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections served at once')
            [CompletionResult]::new('--max-connections-per-peer', '--max-connections-per-peer', [CompletionResultType]::ParameterName, 'Connections one peer address may hold [default: a quarter of --max-connections; behind a load balancer, raise it to --max-connections]')
            [CompletionResult]::new('--token-cache', '--token-cache', [CompletionResultType]::ParameterName, 'Shared token cache: memory (this process only) or redis://HOST:PORT[/DB], rediss:// for TLS [default: memory]')
            [CompletionResult]::new('--cache-key-file', '--cache-key-file', [CompletionResultType]::ParameterName, 'File with the shared cache''s keys, base64, one per line: the first encrypts, the others only decrypt (or set AZOBO_API_CACHE_KEY)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;dev-tenant' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Loopback address to listen on; port 0 picks a free port (with --state-dir: the port the previous run had)')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'JSON file with the tenant, app ids, secret and users to use instead of the built-in ones')
            [CompletionResult]::new('--auto-approve', '--auto-approve', [CompletionResultType]::ParameterName, 'Sign this user in at once on /authorize instead of showing the account picker')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Subscriptions per ARM page (nextLink paging beyond it)')
            [CompletionResult]::new('--token-lifetime', '--token-lifetime', [CompletionResultType]::ParameterName, 'Fixed access-token lifetime, at most a day [default: 60-90 minutes, randomised as Entra ID does]')
            [CompletionResult]::new('--device-code-interval', '--device-code-interval', [CompletionResultType]::ParameterName, 'Seconds a device-code client must wait between polls')
            [CompletionResult]::new('--api-token-version', '--api-token-version', [CompletionResultType]::ParameterName, 'The API app''s accessTokenAcceptedVersion (1 or 2) [default: 2]')
            [CompletionResult]::new('--runtime-dir', '--runtime-dir', [CompletionResultType]::ParameterName, 'Directory for the CA and the API''s certificate, created 0700 [default: the state directory, else a temporary one removed on exit]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Keep signing keys, users'' refresh tokens, apps and grants made through Graph, and the listening address across restarts in DIR (created 0700)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections served at once; more wait in the kernel''s backlog')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Serve HTTPS with a freshly generated local CA (its PEM path is printed as `ca_file`)')
            [CompletionResult]::new('--control-token', '--control-token', [CompletionResultType]::ParameterName, 'Require `Authorization: Bearer <control_token>` on /_dev/ (a random token, announced in the startup line)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;config' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the profile after merging the file, AZOBO_* variables and defaults')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of the configuration file azobo reads')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set one key of the profile in the configuration file')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove one key from the profile in the configuration file')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a new profile into the configuration file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'azobo;config;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;config;path' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;config;set' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;config;unset' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;config;init' {
            [CompletionResult]::new('--from-dev-tenant', '--from-dev-tenant', [CompletionResultType]::ParameterName, 'Take the authority, tenant, client id, API scope and ARM URL from the JSON line `azobo dev-tenant` prints (a file, or - for standard input)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'National cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud')
            [CompletionResult]::new('--authority', '--authority', [CompletionResultType]::ParameterName, 'Identity platform base URL (e.g. a dev tenant''s)')
            [CompletionResult]::new('--arm-url', '--arm-url', [CompletionResultType]::ParameterName, 'Azure Resource Manager base URL')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant GUID or domain')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'The CLI app''s client id')
            [CompletionResult]::new('--api-scope', '--api-scope', [CompletionResultType]::ParameterName, 'The API''s delegated scope')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'The API''s base URL')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the profile if the file has it already')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;config;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the profile after merging the file, AZOBO_* variables and defaults')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of the configuration file azobo reads')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set one key of the profile in the configuration file')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove one key from the profile in the configuration file')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a new profile into the configuration file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'azobo;config;help;show' {
            break
        }
        'azobo;config;help;path' {
            break
        }
        'azobo;config;help;set' {
            break
        }
        'azobo;config;help;unset' {
            break
        }
        'azobo;config;help;init' {
            break
        }
        'azobo;config;help;help' {
            break
        }
        'azobo;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;man' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: AZOBO_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to read [env: AZOBO_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml, tsv or none')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'JMESPath query on the command''s JSON document, as in `az`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for `--output json`')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'A stderr line per HTTP call [env: AZOBO_DEBUG=api]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'azobo;help' {
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Try azobo end to end on this machine, without an Azure tenant')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Register the API and CLI apps in your tenant through Microsoft Graph, write the profile')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in (browser + PKCE, or device code) and keep the session in the OS keyring')
            [CompletionResult]::new('subscriptions', 'subscriptions', [CompletionResultType]::ParameterValue, 'List your Azure subscriptions through the API (table, JSON or TSV)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show who is signed in, where, and until when (exit 3 when signed out)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print an access token for the API, refreshing it if needed (never signs in)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Sign out: remove the session''s secrets and metadata')
            [CompletionResult]::new('serve-api', 'serve-api', [CompletionResultType]::ParameterValue, 'Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)')
            [CompletionResult]::new('dev-tenant', 'dev-tenant', [CompletionResultType]::ParameterValue, 'Run a local Entra ID + Azure Resource Manager emulator')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the resolved configuration and where each value comes from')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'azobo;help;demo' {
            break
        }
        'azobo;help;setup' {
            break
        }
        'azobo;help;login' {
            break
        }
        'azobo;help;subscriptions' {
            break
        }
        'azobo;help;status' {
            break
        }
        'azobo;help;token' {
            break
        }
        'azobo;help;logout' {
            break
        }
        'azobo;help;serve-api' {
            break
        }
        'azobo;help;dev-tenant' {
            break
        }
        'azobo;help;config' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the profile after merging the file, AZOBO_* variables and defaults')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of the configuration file azobo reads')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set one key of the profile in the configuration file')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove one key from the profile in the configuration file')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a new profile into the configuration file')
            break
        }
        'azobo;help;config;show' {
            break
        }
        'azobo;help;config;path' {
            break
        }
        'azobo;help;config;set' {
            break
        }
        'azobo;help;config;unset' {
            break
        }
        'azobo;help;config;init' {
            break
        }
        'azobo;help;completions' {
            break
        }
        'azobo;help;man' {
            break
        }
        'azobo;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
