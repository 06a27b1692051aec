#!/usr/bin/env bash
# Copy the screenshots that docs/real-path.md shows from the last run of the UI click-through
# (test/e2e/ui-browser-real-taskcluster.registry.test.ts writes every step to the git-ignored
# test-artifacts/ui/) into docs/img/, palette-reduced with pngquant when it is installed (about a
# third of the size; Debian package pngquant), else as they are:
#   TC_PROMOTE_UI_TEST=1 npx vitest run test/e2e/ui-browser-real-taskcluster.registry.test.ts
#   bash scripts/ui-screenshots-to-docs.sh
# It refuses (exit 2, nothing copied) when a picture the how-to needs is missing, so that the
# pictures in docs/ all come from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
shots=test-artifacts/ui
# <the test's file name> <the name in docs/img>
pictures=(
  "02-credentials.png ui-02-credentials.png"
  "04-task-group.png ui-04-task-group.png"
  "05-actions-menu.png ui-05-actions-menu.png"
  "06-action-dialog.png ui-06-action-dialog.png"
  "07-form-filled.png ui-07-form-filled.png"
  "08-action-task.png ui-08-action-task.png"
  "03-after-task-group-done.png ui-09-task-group-done.png"
  "04-after-promote-task.png ui-10-promote-task.png"
  "07-denied-refused.png ui-denied-refused.png"
  "04-pull-request-actions-menu.png ui-pull-request-actions-menu.png"
  "09-pull-request-refused.png ui-pull-request-refused.png"
  "07-bad-input-refused.png ui-bad-input-refused.png"
)
missing=()
for pair in "${pictures[@]}"; do
  [ -f "$shots/${pair%% *}" ] || missing+=("$shots/${pair%% *}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "missing screenshots (run the UI test first: TC_PROMOTE_UI_TEST=1 npx vitest run test/e2e/ui-browser-real-taskcluster.registry.test.ts): ${missing[*]}" >&2
  exit 2
fi
mkdir -p docs/img
for pair in "${pictures[@]}"; do
  from="$shots/${pair%% *}" to="docs/img/${pair#* }"
  if command -v pngquant >/dev/null 2>&1; then
    pngquant --force --quality 60-95 --output "$to" -- "$from"
  else
    cp -- "$from" "$to"
  fi
  echo "$to ($(stat -c %s "$to") bytes)"
done
