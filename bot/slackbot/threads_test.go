package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/fakeslack"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// threadEnv is testEnv with a directory (testenv.Directory) and a
// tracking channel.
func threadEnv(t *testing.T) *testEnv {
	e := newEnv(t, testenv.Directory())
	e.a.Notifier = NewNotifier(e.a.Bot, e.a.Poster, "CTRACK", nil)
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
		if c, err := e.a.Bot.SendNotices(ctx, "test", e.a.Notifier.Send, r.Notices); err != nil || c.Failed != 0 {
			t.Fatalf("SendNotices = %+v, %v; want all sent", c, err)
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
	posts := e.slack.Posts()
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
	long := "完成 1 台账已建立" + strings.Repeat("，逐项核查", 40)
	send("Ev6", reply("U0000LS01", "1772413300.000600", long))

	ps, err := store.TaskProgress(ctx, task.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 {
		t.Fatalf("task 6 has %d entries; want 4 (two commands, two authorized replies)", len(ps))
	}
	got := ps[1]
	if got.Author != "U0000LS01" || got.UnitName != "长葛市" || got.Percent == nil || *got.Percent != 60 ||
		got.Evidence != "https://example.gov.cn/cg" || got.SlackTS != "1772413300.000100" {
		t.Errorf("thread reply recorded as %+v", got)
	}
	var eph []fakeslack.Post
	for _, p := range e.slack.Posts() {
		if p.Method == "chat.postEphemeral" {
			eph = append(eph, p)
		}
	}
	// Each recorded reply is acknowledged to its author, in the thread, with
	// what was saved (the core's answer: task, kind, unit, milestone); the
	// refused one is told why; the redelivery gets nothing.
	if len(eph) != 3 {
		t.Fatalf("ephemeral notes = %+v; want three: two acknowledgements, one refusal", eph)
	}
	for i, want := range []struct {
		user string
		says []string
	}{
		{"U0000LS01", []string{"✅ 已保存：任务 共性6 的进展", "长葛市", "60%", "https://example.gov.cn/cg"}},
		{"U0000XXX1", []string{"⚠️", "未记录为进展"}},
		{"U0000LS01", []string{"✅ 已保存：任务 共性6 的", "长葛市", "节点1", "台账已建立"}},
	} {
		n := eph[i]
		if n.User != want.user || n.Channel != "CTRACK" || n.ThreadTS != th.TS {
			t.Errorf("ephemeral note %d went to %s in %s thread %q; want %s in CTRACK thread %q", i, n.User, n.Channel, n.ThreadTS, want.user, th.TS)
		}
		for _, w := range want.says {
			if !strings.Contains(n.Text, w) {
				t.Errorf("ephemeral note %d = %q; want it to say %q", i, n.Text, w)
			}
		}
	}
	if note := eph[2].Text; strings.Count(note, "逐项核查") == 40 {
		t.Errorf("ephemeral note = %q; want the long entry cut short", note)
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
	e.slack.FailNext(fakeslack.Error("internal_error"))
	w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/progress", "6 调查已启动", e.hooks.url("p"))))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "已保存") {
		t.Fatalf("status %d body %.200s; want the entry saved", w.Code, w.Body.String())
	}
	e.a.wait()
	if n, _ := e.a.Bot.Store.CountPendingOutbox(ctx); n == 0 {
		t.Fatalf("nothing queued after the failed thread post; it would be lost")
	}
	e.a.Bot.Store.Clock.Wall = func() time.Time { return testNow.Add(10 * time.Minute) } // past the retry backoff
	c, err := e.a.Bot.SendQueued(ctx, "test", e.a.Notifier.Send)
	if err != nil || c.Sent == 0 || c.Failed != 0 {
		t.Fatalf("flush = %+v, %v; want sent, none failed", c, err)
	}
	task, _ := e.a.Bot.Store.FindTask(ctx, 1, 6)
	th, err := e.a.Bot.Store.FindThread(ctx, task.ID)
	if err != nil {
		t.Fatalf("no thread after the retry: %v", err)
	}
	var inThread int
	for _, p := range e.slack.Posts() {
		if p.Channel == "CTRACK" && p.ThreadTS == th.TS && strings.Contains(p.Text, "调查已启动") {
			inThread++
		}
	}
	if inThread != 1 {
		t.Errorf("entry posted %d times in the thread; want once", inThread)
	}
}

// emails is a fake users.lookupByEmail.
type emails map[string]string

func (m emails) GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error) {
	if id, ok := m[email]; ok {
		return &slack.User{ID: id}, nil
	}
	return nil, errors.New("users_not_found")
}

// TestResolveEmails: people the directory knows only by email get their
// Slack ID from users.lookupByEmail; one Slack does not know stays as it is.
func TestResolveEmails(t *testing.T) {
	ctx := context.Background()
	b := newBot(t, testenv.People(storage.PeopleSpec{Units: []storage.UnitPeople{{Unit: "禹州市", Members: []storage.PersonRef{
		{Email: "qian.qi@example.gov.cn", Name: "钱七"}, {Email: "gone@example.gov.cn", Name: "孙九"}}}}}))
	if err := ResolveEmails(ctx, b, emails{"qian.qi@example.gov.cn": "U0000QQ01"}); err != nil {
		t.Fatal(err)
	}
	if p, err := b.Store.FindPerson(ctx, "qian.qi@example.gov.cn"); err != nil || p.SlackID != "U0000QQ01" {
		t.Errorf("钱七 = %+v, %v; want Slack ID U0000QQ01", p, err)
	}
	if p, err := b.Store.FindPerson(ctx, "gone@example.gov.cn"); err != nil || p.SlackID != "" {
		t.Errorf("孙九 = %+v, %v; want no Slack ID", p, err)
	}
}

// TestOutboxExactlyOnceAfterCrash: a sender posted one outbox message and
// died before recording it sent; another died before posting a second.
// When their leases have run out, the next sender finds the first in the
// conversation by its metadata and does not post it again, and posts the
// second: each is in Slack once.
func TestOutboxExactlyOnceAfterCrash(t *testing.T) {
	e := newEnv(t, testenv.Directory())
	ctx := t.Context()
	b := e.a.Bot
	n := NewNotifier(b, e.a.Poster, "C_TRACK", e.a.Log)
	if _, err := b.QueueNotices(ctx, []bot.Notice{
		{To: "长葛市", Channel: "C_UNIT", Reply: bot.Reply{Title: "通知一"}},
		{To: "李四", UserIDs: []string{"U0000LS01"}, Reply: bot.Reply{Title: "通知二"}},
	}); err != nil {
		t.Fatal(err)
	}
	// The dead sender leased both (its leases have run out) and posted
	// the first, tagged, before dying.
	leased, err := b.Store.Lease(ctx, "dead", b.Clock().WallNow(), -time.Minute, 10, nil)
	if err != nil || len(leased) != 2 {
		t.Fatalf("lease = %d, %v", len(leased), err)
	}
	var first bot.Notice
	if err := json.Unmarshal([]byte(leased[0].Payload), &first); err != nil {
		t.Fatal(err)
	}
	first.Outbox = leased[0].ID
	if err := n.Send(ctx, first); err != nil {
		t.Fatal(err)
	}

	c, err := b.SendQueued(ctx, "next", n.Send)
	if err != nil || c.Sent != 2 {
		t.Fatalf("the next sender: %+v, %v; want both recorded sent", c, err)
	}
	perOutbox := e.slack.Outbox()
	for _, m := range leased {
		if perOutbox[fakeslack.OutboxPart{ID: m.ID}] != 1 {
			t.Errorf("outbox message %d (%s) posted %d times; want once", m.ID, m.Key, perOutbox[fakeslack.OutboxPart{ID: m.ID}])
		}
	}
	if pending, _ := b.Store.CountPendingOutbox(ctx); pending != 0 {
		t.Errorf("%d messages still pending", pending)
	}
}

// TestTwoReplicasDeliverOnce: two replicas on one database (two bots, two
// notifiers, one fake Web API) fire the same reminder and digest ticks at
// once and flush: every outbox message is in Slack once. Then a replica
// dies mid-delivery (it had leased the next day's messages and posted one);
// once its leases expire, the other delivers the rest, and the one it had
// posted is not posted again.
func TestTwoReplicasDeliverOnce(t *testing.T) {
	e := newEnv(t, testenv.Directory())
	ctx := t.Context()
	store := e.a.Bot.Store
	wall := time.Date(2021, 9, 23, 1, 0, 0, 0, time.UTC)
	var wallMu sync.Mutex
	store.Clock.Wall = func() time.Time { wallMu.Lock(); defer wallMu.Unlock(); return wall }
	rp := bot.DefaultRemindPolicy()
	rp.Fallback = "C_DUCHA"
	dp := bot.DefaultDigestPolicy()
	dp.Channel = "C_DIGEST"
	type replica struct {
		b    *bot.Bot
		n    *Notifier
		jobs bot.Jobs
	}
	var rs []replica
	for _, name := range []string{"A", "B"} {
		b := bot.New(store, nil)
		n := NewNotifier(b, e.a.Poster, "C_TRACK", e.a.Log)
		rs = append(rs, replica{b, n, b.Jobs(rp, dp, bot.DefaultReportPolicy(), name, n.Send)})
	}
	run := func(f func(r replica) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, len(rs))
		for i, r := range rs {
			wg.Go(func() { errs[i] = f(r) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	tick := time.Date(2021, 9, 23, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	run(func(r replica) error { return r.jobs.Remind(ctx, tick) })
	run(func(r replica) error { return r.jobs.Digest(ctx, tick.Add(30*time.Minute)) })
	run(func(r replica) error { return r.jobs.Flush(ctx, tick.Add(time.Minute)) })
	checkOnce := func(when string) int {
		t.Helper()
		per := e.slack.Outbox()
		for id, n := range per {
			if n != 1 {
				t.Errorf("%s: outbox message %d posted %d times", when, id, n)
			}
		}
		if pending, _ := store.CountPendingOutbox(ctx); pending != 0 {
			t.Errorf("%s: %d messages still pending", when, pending)
		}
		return len(per)
	}
	first := checkOnce("two replicas, one tick")
	if first < 2 {
		t.Fatalf("%d messages delivered on 09-23; want the reminders and the digest", first)
	}

	// The next working day: A queues the pass, leases everything, posts
	// one message and dies.
	next := time.Date(2021, 9, 24, 1, 0, 0, 0, time.UTC)
	if _, err := rs[0].b.RunReminders(ctx, next, rp); err != nil {
		t.Fatal(err)
	}
	if _, err := rs[0].b.QueueDigest(ctx, next.Add(30*time.Minute), dp); err != nil {
		t.Fatal(err)
	}
	leased, err := store.Lease(ctx, "A#dead", wall, 10*time.Minute, 100, nil)
	if err != nil || len(leased) == 0 {
		t.Fatalf("A's lease: %d, %v", len(leased), err)
	}
	var posted bot.Notice
	if err := json.Unmarshal([]byte(leased[0].Payload), &posted); err != nil {
		t.Fatal(err)
	}
	posted.Outbox = leased[0].ID
	if err := rs[0].n.Send(ctx, posted); err != nil {
		t.Fatal(err)
	}
	// B flushes at once (A's leases are live: nothing), then after they
	// expired.
	if c, err := rs[1].b.SendQueued(ctx, "B", rs[1].n.Send); err != nil || c.Sent != 0 {
		t.Fatalf("B while A's leases are live: %+v, %v; want nothing sent", c, err)
	}
	wallMu.Lock()
	wall = wall.Add(11 * time.Minute)
	wallMu.Unlock()
	run(func(r replica) error { return r.jobs.Flush(ctx, next.Add(11*time.Minute)) })
	if total := checkOnce("after A died"); total != first+len(leased) {
		t.Errorf("%d messages in Slack; want %d (the first day's and the %d A had leased)", total, first+len(leased), len(leased))
	}
}

// TestPostParentRecheck: a thread parent is tagged with its task in its
// metadata; when a process took over a dead one's claim on the parent, it
// finds the parent the dead one had posted instead of posting a second.
func TestPostParentRecheck(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	parent := bot.Reply{Title: "【共性7】任务跟踪线程"}
	ts, err := e.a.Poster.PostParent(ctx, "C_TRACK", 7, parent, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.a.Poster.PostParent(ctx, "C_TRACK", 7, parent, true)
	if err != nil || again != ts {
		t.Errorf("recheck of task 7's parent = %q, %v; want the one posted (%s)", again, err, ts)
	}
	other, err := e.a.Poster.PostParent(ctx, "C_TRACK", 8, bot.Reply{Title: "【共性8】"}, true)
	if err != nil || other == ts || other == "" {
		t.Errorf("recheck of task 8's parent = %q, %v; want a new post", other, err)
	}
	if n := len(e.slack.Posts()); n != 2 {
		t.Errorf("%d posts; want 2 (one parent per task)", n)
	}
}
