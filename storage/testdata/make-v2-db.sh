#!/usr/bin/env bash
# Writes storage/testdata/v2.db with the schema and data of taskbot before
# several lists (commit fd3af69): the story of make-v1-db.sh (entries,
# decisions, bindings, reminders), which that version keeps as per-unit
# shares confirmed, reported and open. Run from the repository's root.
set -euo pipefail
exec "$(dirname "$0")/make-v1-db.sh" "${1:?taskbot binary built from commit fd3af69}" v2.db
