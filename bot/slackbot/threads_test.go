package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"taskbot/bot"
	"taskbot/storage"
)

// threadEnv is testEnv with a directory and a tracking channel.
func threadEnv(t *testing.T) *testEnv {
	e := newEnv(t)
	ctx := context.Background()
	store := e.a.Bot.Store
	if err := store.ApplyUnits(ctx, []storage.UnitSpec{{Name: "各县（市、区）", Members: []string{"长葛市", "禹州市"}}}); err != nil {
		t.Fatal(err)
	}
	err := store.ApplyPeople(ctx, storage.PeopleSpec{
		Units: []storage.UnitPeople{
			{Unit: "市城管局", Members: []storage.PersonRef{{SlackID: "U0000ZS01", Name: "张三"}}},
			{Unit: "长葛市", Members: []storage.PersonRef{{SlackID: "U0000LS01", Name: "李四"}}},
		},
		Supervisors: []storage.PersonRef{{SlackID: "U0000SUP1", Name: "王五"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.a.Notifier = NewNotifier(e.a.Poster, store, "CTRACK", nil)
	return e
}

func messageEvent(id string, msg map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": id, "event_time": 1,
		"event": msg,
	})
	return b
}

// TestThreadReplies: an entry made by command creates the task's thread
// (parent posted once, remembered) and is posted in it; replies in the
// thread are recorded with the same authorization; edits and deletions
// erase nothing.
func TestThreadReplies(t *testing.T) {
	e := threadEnv(t)
	ctx := context.Background()
	store := e.a.Bot.Store
	for _, text := range []string{"progress 6 调查已启动", "progress 6 30% 方案编制中"} {
		r := e.a.Bot.Handle(ctx, bot.Request{Text: text, User: "U0000ZS01", Now: testNow})
		if r.Error {
			t.Fatalf("Handle(%q) = %q", text, r.Title)
		}
		if err := e.a.Notifier.Deliver(ctx, r.Notices); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	}
	task, err := store.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	th, err := store.FindThread(ctx, task.ID)
	if err != nil {
		t.Fatalf("FindThread: %v", err)
	}
	posts := e.slack.recorded()
	if len(posts) != 3 || posts[0].Channel != "CTRACK" || posts[0].ThreadTS != "" {
		t.Fatalf("posts = %+v; want a parent in CTRACK then two replies", posts)
	}
	for _, p := range posts[1:] {
		if p.Channel != "CTRACK" || p.ThreadTS != th.TS {
			t.Errorf("reply posted to %s thread %q; want CTRACK thread %q", p.Channel, p.ThreadTS, th.TS)
		}
	}

	send := func(id string, msg map[string]any) {
		t.Helper()
		w := e.serve(signed("/slack/events", "application/json", messageEvent(id, msg)))
		if w.Code != http.StatusOK {
			t.Fatalf("event %s: status %d", id, w.Code)
		}
		e.a.wait()
	}
	reply := func(user, ts, text string) map[string]any {
		return map[string]any{"type": "message", "channel": "CTRACK", "channel_type": "channel", "user": user,
			"text": text, "ts": ts, "thread_ts": th.TS}
	}
	send("Ev1", reply("U0000LS01", "1772413300.000100", "60% 长葛市已完成核查 https://example.gov.cn/cg"))
	send("Ev2", reply("U0000XXX1", "1772413300.000200", "我也来报"))
	send("Ev3", map[string]any{"type": "message", "subtype": "message_changed", "channel": "CTRACK", "ts": "1772413300.000300",
		"message": map[string]any{"type": "message", "user": "U0000LS01", "text": "改了", "ts": "1772413300.000100", "thread_ts": th.TS}})
	send("Ev4", map[string]any{"type": "message", "subtype": "message_deleted", "channel": "CTRACK", "ts": "1772413300.000400",
		"deleted_ts": "1772413300.000100"})
	// Slack redelivering the same message under a new event id records nothing new.
	send("Ev5", reply("U0000LS01", "1772413300.000100", "60% 长葛市已完成核查 https://example.gov.cn/cg"))

	ps, err := store.TaskProgress(ctx, task.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("task 6 has %d entries; want 3 (two commands, one authorized reply)", len(ps))
	}
	got := ps[0]
	if got.Author != "U0000LS01" || got.UnitName != "长葛市" || got.Percent == nil || *got.Percent != 60 ||
		got.Evidence != "https://example.gov.cn/cg" || got.SlackTS != "1772413300.000100" {
		t.Errorf("thread reply recorded as %+v", got)
	}
	var eph []posted
	for _, p := range e.slack.recorded() {
		if p.Method == "chat.postEphemeral" {
			eph = append(eph, p)
		}
	}
	if len(eph) != 1 || eph[0].User != "U0000XXX1" || eph[0].ThreadTS != th.TS {
		t.Errorf("ephemeral notes = %+v; want one to U0000XXX1 in the thread", eph)
	}
}

// TestThreadPostRetried: Slack fails the thread post of a /progress; the
// entry is saved, the post stays queued, and the next flush delivers it
// in the task's thread.
func TestThreadPostRetried(t *testing.T) {
	e := threadEnv(t)
	ctx := context.Background()
	// U1, who sends test slash commands, reports for 市城管局.
	if err := e.a.Bot.Store.ApplyPeople(ctx, storage.PeopleSpec{Units: []storage.UnitPeople{
		{Unit: "市城管局", Members: []storage.PersonRef{{SlackID: "U1", Name: "赵六"}}}}}); err != nil {
		t.Fatal(err)
	}
	e.slack.failNext(slackErr("internal_error"))
	w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/progress", "6 调查已启动", e.hooks.url("p"))))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "已保存") {
		t.Fatalf("status %d body %.200s; want the entry saved", w.Code, w.Body.String())
	}
	e.a.wait()
	if n, _ := e.a.Bot.Store.PendingOutbox(ctx); n == 0 {
		t.Fatalf("nothing queued after the failed thread post; it would be lost")
	}
	e.a.Bot.Clock = func() time.Time { return time.Now().Add(10 * time.Minute) } // past the retry backoff
	sent, failed, err := e.a.Bot.Deliver(ctx, "test", e.a.Notifier.Send)
	if err != nil || sent == 0 || failed != 0 {
		t.Fatalf("flush = %d sent, %d failed, %v", sent, failed, err)
	}
	task, _ := e.a.Bot.Store.FindTask(ctx, 1, 6)
	th, err := e.a.Bot.Store.FindThread(ctx, task.ID)
	if err != nil {
		t.Fatalf("no thread after the retry: %v", err)
	}
	var inThread int
	for _, p := range e.slack.recorded() {
		if p.Channel == "CTRACK" && p.ThreadTS == th.TS && strings.Contains(p.Text, "调查已启动") {
			inThread++
		}
	}
	if inThread != 1 {
		t.Errorf("entry posted %d times in the thread; want once", inThread)
	}
}
