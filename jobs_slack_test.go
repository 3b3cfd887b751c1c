package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack/slacktest"

	"taskbot/storage"
)

// TestRemindThroughSlack429: Slack answers the first chat.postMessage with
// 429 and Retry-After; the pass waits, and every reminder is delivered
// exactly once to the right channel.
func TestRemindThroughSlack429(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	var posted []string // channel + text
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
				return
			}
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			posted = append(posted, r.FormValue("channel")+"|"+r.FormValue("text"))
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1632370000.%06d"}`, r.FormValue("channel"), calls)
		})
	})
	go srv.Start()
	defer srv.Stop()

	dir := t.TempDir()
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte("units:\n  - name: 市水利局\n    channel: C_WATER\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TASKBOT_DB": filepath.Join(dir, "s.db"), "TASKBOT_CONFIG": org, "TASKBOT_DIGEST_CHANNEL": "C_DUCHA",
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": srv.GetAPIURL(),
	}
	out, _, err := runCLI(t, env, "remind", "--at", "2021-09-23")
	if err != nil {
		t.Fatalf("remind = %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	water := 0
	for _, p := range posted {
		seen[p]++
		if strings.HasPrefix(p, "C_WATER|") && strings.Contains(p, "共性7 节点1") {
			water++
		}
	}
	for p, n := range seen {
		if n > 1 {
			t.Errorf("posted %d times: %.80s", n, p)
		}
	}
	if water != 1 {
		t.Errorf("市水利局's channel got task 7's reminder %d times; want once", water)
	}
	if calls != len(posted)+1 {
		t.Errorf("%d calls for %d posts; want exactly one extra (the 429)", calls, len(posted))
	}
	if !strings.Contains(out, "失败 0 条") {
		t.Errorf("remind output: %s", out)
	}
	// Nothing left to send, nothing sent again.
	before := len(posted)
	mu.Unlock()
	out, _, err = runCLI(t, env, "remind", "--at", "2021-09-23")
	mu.Lock()
	if err != nil || len(posted) != before {
		t.Errorf("second pass: %v, %d new posts; want none\n%s", err, len(posted)-before, out)
	}
}

// TestSendFailuresExplained: Slack refuses every post. remind and
// digest --post fail with a Chinese message saying the messages stay queued
// for the next send, and the failure is an outcome code, not an internal
// error.
func TestSendFailuresExplained(t *testing.T) {
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
		})
	})
	go srv.Start()
	defer srv.Stop()
	env := map[string]string{
		"TASKBOT_DB": filepath.Join(t.TempDir(), "f.db"), "TASKBOT_DIGEST_CHANNEL": "C_DUCHA",
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": srv.GetAPIURL(),
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"remind", "--at", "2021-09-23"}, "条提醒发送失败，仍在队列中"},
		{[]string{"digest", "--at", "2021-10-08", "--post"}, "日报发送失败，仍在队列中"},
	} {
		_, _, err := runCLI(t, env, tt.args...)
		if err == nil || !strings.Contains(explain(err), tt.want) {
			t.Errorf("run(%q) = %v; want an error saying %q", tt.args, err, tt.want)
		}
		if code := storage.ErrorCode(err); code == storage.EINTERNAL || code == "" {
			t.Errorf("run(%q) error code %q; want a coded, non-internal error", tt.args, code)
		}
	}
}
