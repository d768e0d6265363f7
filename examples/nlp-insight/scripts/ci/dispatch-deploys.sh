#!/usr/bin/env bash
# Starts every deploy workflow of this repository (.github/workflows/deploy-<cloud>.yml) for the
# image CI just pushed and signed, on the same ref: a tag's deploy runs as that tag, and the GitHub
# environments' deployment rules (prod: v* tags only) see the tag. (Runs started with GITHUB_TOKEN
# do not trigger workflows, except workflow_dispatch: that is why this uses `gh workflow run`.)
#
# First waits for the golden path of the same commit (golden-path.yml) and starts nothing if it did
# not pass. Needs GH_TOKEN (actions: write), DIGEST, and the GITHUB_* variables of a workflow run.
set -euo pipefail
: "${DIGEST:?DIGEST (sha256:...) is required}" "${GITHUB_SHA:?}" "${GITHUB_REF_NAME:?}"

case "$DIGEST" in
  sha256:*) ;;
  *) echo "DIGEST must be sha256:<hex>, got '$DIGEST'" >&2; exit 1 ;;
esac

shopt -s nullglob
deploys=(.github/workflows/deploy-*.yml)
if [ ${#deploys[@]} -eq 0 ]; then
  echo "No deploy workflow in .github/workflows: nothing to start."
  exit 0
fi

if [ -f .github/workflows/golden-path.yml ]; then
  deadline=$(($(date +%s) + ${GOLDEN_PATH_WAIT_SECONDS:-3600}))
  while :; do
    run=$(gh run list --workflow golden-path.yml --commit "$GITHUB_SHA" --event push --limit 1 \
      --json status,conclusion,url --jq '.[0] | select(.) | "\(.status) \(.conclusion) \(.url)"')
    read -r status conclusion url <<<"${run:-none none none}"
    if [ "$status" = completed ]; then
      if [ "$conclusion" != success ]; then
        echo "The golden path of $GITHUB_SHA ended '$conclusion' ($url): no deploy started." >&2
        exit 1
      fi
      echo "Golden path passed: $url"
      break
    fi
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "No finished golden path run for $GITHUB_SHA in time (last seen: ${status})." >&2
      exit 1
    fi
    echo "Waiting for the golden path of $GITHUB_SHA (${status})..."
    sleep 30
  done
fi

for workflow in "${deploys[@]}"; do
  name=$(basename "$workflow")
  echo "Starting $name on $GITHUB_REF_NAME for $DIGEST"
  gh workflow run "$name" --ref "$GITHUB_REF_NAME" -f digest="$DIGEST"
  echo "- started \`$name\` on \`$GITHUB_REF_NAME\` for \`$DIGEST\`" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
done
