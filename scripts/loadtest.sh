#!/usr/bin/env bash
# Load test: build taskbot, serve Slack's HTTP endpoints on loopback with a
# test signing secret and a temp database, and beside it the floor: a no-op
# server that only verifies signatures (PORT+1). Fire signed "/task 6"
# requests from a third process at both, alternately, and print requests/s,
# latency and taskbot ÷ floor; stop everything.
#
#   scripts/loadtest.sh [-d 5s] [-c 32] [-rounds 2]   (flags go to the load generator)
#   PORT=8089 scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

port="${PORT:-8089}"
tmp="$(mktemp -d)"
server_pid=""
noop_pid=""
cleanup() {
	for pid in "$server_pid" "$noop_pid"; do
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			wait "$pid" || true
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/taskbot" .
go build -o "$tmp/loadtest" ./scripts/loadtest
secret="loadtest-secret-$RANDOM$RANDOM"

# Only the signing secret: no tokens, no calls to Slack.
env -u SLACK_BOT_TOKEN -u SLACK_APP_TOKEN -u SLACK_API_URL \
	SLACK_SIGNING_SECRET="$secret" TASKBOT_DB="$tmp/taskbot.db" \
	"$tmp/taskbot" serve --http "127.0.0.1:$port" 2>"$tmp/server.log" &
server_pid=$!
"$tmp/loadtest" -serve-noop "127.0.0.1:$((port + 1))" -secret "$secret" 2>"$tmp/noop.log" &
noop_pid=$!

for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
	if ! kill -0 "$server_pid" 2>/dev/null; then cat "$tmp/server.log" >&2; exit 1; fi
	sleep 0.1
done

"$tmp/loadtest" -url "http://127.0.0.1:$port/slack/commands" -floor "http://127.0.0.1:$((port + 1))/" \
	-secret "$secret" -d 5s "$@"

# Memory of the taskbot process under the load (issue 15: RSS < 60 MB).
awk '/^VmHWM|^VmRSS/ {printf "taskbot %s %.1f MB\n", $1, $2/1024}' "/proc/$server_pid/status" 2>/dev/null || true

echo "server warnings/errors:"
grep -E 'level=(WARN|ERROR)' "$tmp/server.log" | grep -v 'SLACK_BOT_TOKEN not set' | head -5 || echo "  none"
