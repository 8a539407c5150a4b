#!/usr/bin/env bash
# Regenerates the checked-in shell completion scripts and man pages from the CLI definition.
# A test fails when they drift (tests/it/generated.rs), so run this after changing flags or commands.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked
bin="${CARGO_TARGET_DIR:-target}/debug/azobo"
mkdir -p completions man
"$bin" completions bash > completions/azobo.bash
"$bin" completions zsh > completions/_azobo
"$bin" completions fish > completions/azobo.fish
"$bin" completions powershell > completions/_azobo.ps1
"$bin" completions elvish > completions/azobo.elv
# Every page anew, so the page of a removed command does not linger.
rm -f man/*.1
"$bin" man --dir man > /dev/null
echo "regenerated completions/ and man/ ($(ls man | wc -l) pages)"
