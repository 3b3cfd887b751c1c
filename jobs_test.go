package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
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
	// The example organisation binds nobody: every unit's reminders are
	// one message, grouped by unit, for the office to pass on (issue 11).
	for _, want := range []string{"=== 发送给 提醒转达频道", "【整改提醒·请督查室转达】13 个单位未配置频道或成员", "【市水利局（2 项）】",
		"共性7 节点1 2021-09-30 剩余 7 天", "（试运行）截至 2021-09-23：", "：1 条消息；未写入、未发送。"} {
		if !strings.Contains(out, want) {
			t.Errorf("remind --dry-run lacks %q:\n%.2000s", want, out)
		}
	}
	if n := strings.Count(out, "=== 发送给"); n != 1 {
		t.Errorf("remind --dry-run shows %d messages; want 1", n)
	}
	// The database is first seeded as of --at: nothing has been silent
	// for 30 days yet.
	if strings.Contains(out, "未报送进展") {
		t.Errorf("the first pass on a fresh database nudges:\n%.2000s", out)
	}
	again, _, err := runCLI(t, env, "remind", "--at", "2021-09-23", "--dry-run")
	if err != nil || again != out {
		t.Errorf("a second dry run differs (it must have written something): %v", err)
	}
	// Without --dry-run: sent (to stdout, no Slack) and recorded once.
	out, _, err = runCLI(t, env, "remind", "--at", "2021-09-23")
	if err != nil || !strings.Contains(out, "新排入 1 条提醒；本次发送 1 条（含此前未发出的），失败 0 条") {
		t.Fatalf("remind = %v:\n%.500s", err, out)
	}
	out, _, err = runCLI(t, env, "remind", "--at", "2021-09-23")
	if err != nil || !strings.Contains(out, "新排入 0 条提醒；本次发送 0 条") {
		t.Errorf("second remind the same day = %v:\n%.500s", err, out)
	}
}

// TestRemindSimulation: `remind --from --to --dry-run [--json]` previews
// the scheduler's passes day by day (issue 11): one JSON object per
// message, on working days in the range only, nothing written.
func TestRemindSimulation(t *testing.T) {
	env := map[string]string{"TASKBOT_DB": filepath.Join(t.TempDir(), "s.db"), "TASKBOT_CHANNEL": "C_OFFICE"}
	args := []string{"remind", "--from", "2021-09-20", "--to", "2021-10-12", "--dry-run", "--json"}
	out, _, err := runCLI(t, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	type recipient struct{ Kind, Name string }
	days, reminders := map[string]bool{}, map[string]bool{}
	for _, l := range lines {
		var m struct {
			Date  string    `json:"date"`
			To    recipient `json:"to"`
			Type  string    `json:"type"`
			Tasks []string  `json:"tasks"`
			Text  string    `json:"text"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		d, err := storage.ParseDate(m.Date)
		if err != nil || d.Before(storage.NewDate(2021, 9, 20)) || storage.NewDate(2021, 10, 12).Before(d) || !(bot.ChinaCalendar{}).Working(d) {
			t.Errorf("a message dated %q; want a working day in the range", m.Date)
		}
		if !slices.Contains([]string{"ahead", "due", "overdue", "escalation", "nudge", "digest"}, m.Type) ||
			!slices.Contains([]string{"unit", "user", "channel"}, m.To.Kind) || m.Text == "" || m.Tasks == nil {
			t.Errorf("message %+v; want a type, a recipient kind, tasks and text", m)
		}
		days[m.Date] = true
		if m.Type != "digest" {
			if reminders[m.Date] {
				t.Errorf("%s: two reminder messages; the example organisation binds nobody: want one, in the office's channel", m.Date)
			}
			reminders[m.Date] = true
			if m.To != (recipient{"channel", "C_OFFICE"}) {
				t.Errorf("%s: a %s message to %+v; want the office's channel", m.Date, m.Type, m.To)
			}
		}
	}
	var got []string
	for d := range reminders {
		got = append(got, d)
	}
	slices.Sort(got)
	// 09-22: the first working day after Mid-Autumn catches up on the
	// 09-30 milestones' 30-day step; then 7, 3, 1, 0 days ahead; the
	// weekly overdue lists on 10-08 (Monday 10-04 was a holiday) and 10-11.
	want := []string{"2021-09-22", "2021-09-23", "2021-09-27", "2021-09-29", "2021-09-30", "2021-10-08", "2021-10-11"}
	if !slices.Equal(got, want) {
		t.Errorf("days with reminders %v; want %v", got, want)
	}
	again, _, err := runCLI(t, env, args...)
	if err != nil || again != out {
		t.Errorf("a second simulation differs (the first must have written something): %v", err)
	}
	out, _, err = runCLI(t, env, "remind", "--from", "2021-09-20", "--to", "2021-10-12", "--dry-run")
	if err != nil || !strings.Contains(out, "合计 "+strconv.Itoa(len(lines))+" 条消息，"+strconv.Itoa(len(days))+" 个发送日") {
		t.Errorf("remind --from --to --dry-run = %v:\n%s", err, out)
	}
	if _, _, err := runCLI(t, env, "remind", "--from", "2021-09-20", "--to", "2021-10-12"); !errors.As(err, new(usageError)) {
		t.Errorf("a simulation without --dry-run = %v; want a usage error", err)
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
