#!/usr/bin/env bash
# Regenerates the checked-in shell completions and man page from the CLI definition.
# A test fails when they drift (tests/it/generated.rs), so run this after changing flags.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked
bin=target/debug/azobo
mkdir -p completions man
"$bin" completions bash > completions/azobo.bash
"$bin" completions zsh > completions/_azobo
"$bin" completions fish > completions/azobo.fish
"$bin" completions powershell > completions/_azobo.ps1
"$bin" completions elvish > completions/azobo.elv
"$bin" man > man/azobo.1
echo "regenerated completions/ and man/azobo.1"
