package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/storage"
)

// runCLI runs taskbot with args and env on a fresh database in dir.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRemindDryRunWritesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	env := map[string]string{"TASKBOT_DB": db}
	out, _, err := runCLI(t, env, "remind", "--at", "2021-09-23", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"=== 发送给 市水利局", "共性7 节点1 2021-09-30 剩余 7 天", "（试运行）截至 2021-09-23：5 个提醒节点"} {
		if !strings.Contains(out, want) {
			t.Errorf("remind --dry-run lacks %q:\n%.2000s", want, out)
		}
	}
	again, _, err := runCLI(t, env, "remind", "--at", "2021-09-23", "--dry-run")
	if err != nil || again != out {
		t.Errorf("a second dry run differs (it must have written something): %v", err)
	}
	// Without --dry-run: sent (to stdout, no Slack) and recorded once.
	out, _, err = runCLI(t, env, "remind", "--at", "2021-09-23")
	if err != nil || !strings.Contains(out, "新排入 17 条提醒；本次发送 17 条，失败 0 条") {
		t.Fatalf("remind = %v:\n%.500s", err, out)
	}
	out, _, err = runCLI(t, env, "remind", "--at", "2021-09-23")
	if err != nil || !strings.Contains(out, "新排入 0 条提醒；本次发送 0 条") {
		t.Errorf("second remind the same day = %v:\n%.500s", err, out)
	}
}

func TestDigestCLI(t *testing.T) {
	env := map[string]string{"TASKBOT_DB": filepath.Join(t.TempDir(), "d.db")}
	out, _, err := runCLI(t, env, "digest", "--at", "2021-10-08")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "digest.golden", []byte(out))
	out, _, err = runCLI(t, env, "digest", "--at", "2021-10-08", "--post")
	if err != nil || !strings.Contains(out, "=== 发送给 日报频道") {
		t.Errorf("digest --post = %v:\n%.300s", err, out)
	}
	out, _, err = runCLI(t, env, "digest", "--at", "2021-10-08", "--post")
	if err != nil || !strings.Contains(out, "不再重复发送") {
		t.Errorf("second digest --post the same day = %v:\n%.300s", err, out)
	}
	// National Day: no digest, and the command says why.
	out, _, err = runCLI(t, env, "digest", "--at", "2021-10-02", "--post")
	if err != nil || !strings.Contains(out, "2021-10-02 不是工作日") || strings.Contains(out, "=== 发送给") {
		t.Errorf("digest --post on a day off = %v:\n%.300s; want only the note that it is not a working day", err, out)
	}
}

func TestServeValidatesAtStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SLACK_SIGNING_SECRET": "s", "TASKBOT_HTTP_ADDR": "127.0.0.1:0", "TASKBOT_REMIND_CRON": "61 9 * * *"}, "TASKBOT_REMIND_CRON"},
		{map[string]string{"SLACK_SIGNING_SECRET": "s", "TASKBOT_HTTP_ADDR": "127.0.0.1:0", "TASKBOT_DIGEST_CRON": "daily"}, "TASKBOT_DIGEST_CRON"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxp-personal-SECRET"}, "SLACK_BOT_TOKEN"},
		{map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"},
	} {
		tt.env["TASKBOT_DB"] = db
		_, _, err := runCLI(t, tt.env, "serve")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve with %v = %v; want an error naming %s", tt.env, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
}

// TestRemindLeavesOtherNotices: a thread post queued by serve is still
// queued after `taskbot remind` runs without Slack (it prints and records
// only what its own pass queued).
func TestRemindLeavesOtherNotices(t *testing.T) {
	db := filepath.Join(t.TempDir(), "n.db")
	env := map[string]string{"TASKBOT_DB": db}
	if _, _, err := runCLI(t, env, "remind", "--at", "2021-09-22", "--dry-run"); err != nil { // create and seed
		t.Fatal(err)
	}
	store, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	b := bot.New(store, nil)
	if _, err := b.QueueNotices(context.Background(), []bot.Notice{{Thread: &bot.ThreadRef{TaskID: 6, TaskCode: "共性6"}, Reply: bot.Reply{Title: "进展"}}}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	out, _, err := runCLI(t, env, "remind", "--at", "2021-09-23")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "【共性6】") || strings.Contains(out, "进展\n") && strings.Contains(out, "共性6 跟踪线程") {
		t.Errorf("remind printed serve's thread post:\n%.500s", out)
	}
	store, err = storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if n, _ := store.CountPendingOutbox(context.Background()); n != 1 {
		t.Errorf("%d messages pending after remind; want 1 (serve's thread post)", n)
	}
}
