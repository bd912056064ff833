#!/usr/bin/env bash
# eng/update-public-api.sh - keep PublicAPI.*.txt true: a public symbol the PublicApiAnalyzers report as
# undeclared (RS0016) is added to PublicAPI.Unshipped.txt; a declared one that is gone (RS0017) is removed.
# Every change to the public surface then shows up in review as a change to those files.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in src/EventIO/EventIO.csproj src/EventIO.Servers/EventIO.Servers.csproj src/EventIO.Hosting/EventIO.Hosting.csproj; do
  dir=$(dirname "$project")
  out=$(dotnet build "$project" --no-incremental -v quiet 2>&1 || true)
  { grep -o "$dir/[^(]*([0-9,]*): error RS0017: Symbol '[^']*'" <<<"$out" || true; } | sed "s/.*error RS0017: Symbol '//; s/'\$//" | sort -u \
    | while IFS= read -r gone; do
        for f in "$dir/PublicAPI.Shipped.txt" "$dir/PublicAPI.Unshipped.txt"; do
          grep -vxF -- "$gone" "$f" > "$f.tmp" || true
          mv "$f.tmp" "$f"
        done
      done
  { grep -o "$dir/[^(]*([0-9,]*): error RS0016: Symbol '[^']*'" <<<"$out" || true; } | sed "s/.*error RS0016: Symbol '//; s/'\$//" | sort -u \
    >> "$dir/PublicAPI.Unshipped.txt"
done
git diff --stat -- 'src/*/PublicAPI.*.txt' || true
