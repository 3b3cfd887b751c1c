package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// remindOrg is the organisation of the reminder tests: the shipped org
// file's units, and people: a channel for 市水利局, a member for 禹州市, a
// holder of the 分管自然资源 post.
func remindOrg(t *testing.T) []testenv.Option {
	return []testenv.Option{testenv.Units(shippedUnits(t)...), testenv.People(storage.PeopleSpec{
		Units: []storage.UnitPeople{
			{Unit: "市水利局", Channel: "C_WATER"},
			{Unit: "禹州市", Members: []storage.PersonRef{{SlackID: "U_YUZHOU", Name: "禹州联络员"}}},
		},
		Leaders: map[string][]storage.PersonRef{"市政府分管自然资源副市长": {{SlackID: "U_VICE", Name: "副市长"}}},
	})}
}

// remindBot is a bot over the real list with remindOrg, in a temp SQLite
// file.
func remindBot(t *testing.T) *bot.Bot {
	return bot.New(testenv.Store(t, remindOrg(t)...), nil)
}

// wallAt pins b's wall clock (outbox leases and retries) at 10:00 on day
// and returns it, for the test to move.
func wallAt(t *testing.T, b *bot.Bot, day string) *time.Time {
	clock := at(t, day)
	b.Store.Clock.Wall = func() time.Time { return clock }
	return &clock
}

func policy() bot.RemindPolicy {
	p := bot.DefaultRemindPolicy()
	p.Fallback = "C_DUCHA"
	return p
}

// stepsOf returns "code-seq:step" for each milestone step of a plan, and
// "code:nudge" for nudges, sorted.
func stepsOf(t *testing.T, b *bot.Bot, p bot.ReminderPlan) []string {
	t.Helper()
	var out []string
	for _, s := range p.Steps {
		tk, err := b.Store.FindTaskByID(context.Background(), s.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		if s.MilestoneID == nil {
			out = append(out, tk.Code+":nudge")
			continue
		}
		for _, m := range tk.Milestones {
			if m.ID == *s.MilestoneID {
				out = append(out, fmt.Sprintf("%s-%d:%s", tk.Code, m.Seq, s.Step))
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestPlanRemindersOnRealList(t *testing.T) {
	tests := []struct {
		day  string
		want []string
	}{
		// 7 days before the 2021-09-30 milestones of tasks 5, 7 and 8; the
		// ongoing/long-term tasks without dates get their monthly nudge.
		{"2021-09-23", []string{"共性15:nudge", "共性2:nudge", "共性5-1:d7", "共性7-1:d7", "共性8-1:d7"}},
		// Month end, due today; 2021-10-31's 30-day reminder falls on the
		// National Day holiday (10-01) and moves to the working day before.
		{"2021-09-30", []string{"共性10-1:d30", "共性15:nudge", "共性17-1:d30", "共性2:nudge", "共性5-1:d0", "共性5-2:d30",
			"共性7-1:d0", "共性8-1:d0", "共性9-1:d30"}},
		// Overdue by 7 days on 10-07 (a holiday): not pulled back to the due
		// date, sent on the next working day, 10-08.
		{"2021-10-07", []string{"共性10-1:d30", "共性15:nudge", "共性17-1:d30", "共性2:nudge", "共性5-1:d0", "共性5-2:d30",
			"共性7-1:d0", "共性8-1:d0", "共性9-1:d30"}},
		{"2021-10-08", []string{"共性10-1:d30", "共性15:nudge", "共性17-1:d30", "共性2:nudge", "共性5-1:o1", "共性5-2:d30",
			"共性7-1:o1", "共性8-1:o1", "共性9-1:d30"}},
		// 2021-10-31 is a Sunday: its 1- and 0-day reminders move to Friday.
		{"2021-10-29", []string{"共性10-1:d0", "共性15:nudge", "共性17-1:d0", "共性2:nudge", "共性5-1:o4", "共性5-2:d0",
			"共性7-1:o4", "共性8-1:o4", "共性9-1:d0"}},
	}
	for _, tt := range tests {
		b := remindBot(t)
		plan, err := b.PlanReminders(context.Background(), at(t, tt.day), policy())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, stepsOf(t, b, plan)); diff != "" {
			t.Errorf("PlanReminders at %s (-want +got):\n%s", tt.day, diff)
		}
	}
}

func TestReminderMessages(t *testing.T) {
	b := remindBot(t)
	plan, err := b.PlanReminders(context.Background(), at(t, "2021-09-23"), policy())
	if err != nil {
		t.Fatal(err)
	}
	byTo := map[string]bot.Notice{}
	for _, m := range plan.Messages {
		if _, dup := byTo[m.Notice.To]; dup {
			t.Errorf("two messages to %s in one pass; want one per unit", m.Notice.To)
		}
		byTo[m.Notice.To] = m.Notice
	}
	water := byTo["市水利局"]
	if water.Channel != "C_WATER" || len(water.UserIDs) != 0 {
		t.Errorf("市水利局 notice goes to %q %v; want its channel C_WATER", water.Channel, water.UserIDs)
	}
	text := water.Reply.Text()
	for _, want := range []string{"共性7 节点1 2021-09-30 剩余 7 天", "共性8 节点1 2021-09-30 剩余 7 天", "截至 2021-09-23"} {
		if !strings.Contains(text, want) {
			t.Errorf("市水利局 reminder lacks %q:\n%s", want, text)
		}
	}
	if yz := byTo["禹州市"]; yz.Channel != "" || !slices.Equal(yz.UserIDs, []string{"U_YUZHOU"}) {
		t.Errorf("禹州市 notice goes to %q %v; want a DM to U_YUZHOU (no channel)", yz.Channel, yz.UserIDs)
	}
	// A unit with neither channel nor members is not dropped.
	if lr := byTo["市自然资源和规划局"]; lr.Channel != "C_DUCHA" || !strings.Contains(lr.Reply.Text(), "未配置频道或成员") {
		t.Errorf("市自然资源和规划局 notice = %q %q; want the fallback channel with a note", lr.Channel, lr.Reply.Text())
	}
	// 各县（市、区） has no recipients of its own: its members get the lines.
	if _, ok := byTo["各县（市、区）"]; ok {
		t.Errorf("a message to the collective itself; want its members reached instead")
	}
	if !strings.Contains(byTo["长葛市"].Reply.Text(), "共性7 节点1") {
		t.Errorf("长葛市 (member of 各县（市、区）) lacks task 7:\n%s", byTo["长葛市"].Reply.Text())
	}
}

func TestEscalation(t *testing.T) {
	b := remindBot(t)
	// 2021-10-14 is 14 days after 2021-09-30: task 5 (leader 分管自然资源)
	// escalates to the post's holder.
	plan, err := b.PlanReminders(context.Background(), at(t, "2021-10-14"), policy())
	if err != nil {
		t.Fatal(err)
	}
	var esc []bot.Planned
	for _, m := range plan.Messages {
		if m.Kind == bot.KindEscalation {
			esc = append(esc, m)
		}
	}
	var vice *bot.Notice
	for i := range esc {
		if slices.Equal(esc[i].Notice.UserIDs, []string{"U_VICE"}) {
			vice = &esc[i].Notice
		}
	}
	if vice == nil || !strings.Contains(vice.Reply.Text(), "共性5 节点1 2021-09-30 已逾期 14 天") {
		t.Fatalf("escalations %+v; want one to U_VICE listing task 5", esc)
	}
	// Posts without a configured holder still reach the inspection office.
	found := false
	for _, m := range esc {
		if m.Notice.Channel == "C_DUCHA" && strings.Contains(m.Notice.To, "分管水利副市长") {
			found = true
		}
	}
	if !found {
		t.Errorf("no escalation for the unconfigured 分管水利 post via the fallback channel")
	}
	// Not before 14 days.
	plan, err = b.PlanReminders(context.Background(), at(t, "2021-10-08"), policy())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range plan.Messages {
		if m.Kind == bot.KindEscalation {
			t.Errorf("escalation at 8 days overdue: %+v", m.Notice.To)
		}
	}
}

func TestWorkdayCalendar(t *testing.T) {
	cal := bot.ChinaCalendar{}
	for _, tt := range []struct {
		day  string
		want bool
	}{
		{"2021-09-23", true},  // Thursday
		{"2021-09-25", false}, // Saturday
		{"2021-09-26", true},  // Sunday, make-up working day (调休) for National Day
		{"2021-10-01", false}, // National Day
		{"2021-10-07", false},
		{"2021-10-09", true},  // Saturday, make-up working day
		{"2022-01-31", false}, // Spring Festival eve
		{"2022-01-29", true},  // Saturday, make-up working day
	} {
		if got := cal.Working(testenv.Date(t, tt.day)); got != tt.want {
			t.Errorf("Working(%s) = %v; want %v", tt.day, got, tt.want)
		}
	}
	if got := bot.OnOrBeforeWorking(cal, testenv.Date(t, "2021-10-05")).String(); got != "2021-09-30" {
		t.Errorf("OnOrBeforeWorking(2021-10-05) = %s; want 2021-09-30", got)
	}
}

// TestReminderOnMakeUpDay uses a milestone due 2021-10-03: its 7-day
// reminder falls on Sunday 2021-09-26, a make-up working day, so it is
// sent that Sunday, not moved.
func TestReminderOnMakeUpDay(t *testing.T) {
	ctx := context.Background()
	doc := "一、共性整改任务\n1.测试。\n责任单位：市测试局\n整改时限：2021年10月3日前完成\n"
	store := testenv.Store(t, testenv.List([]byte(doc)))
	b := bot.New(store, nil)
	for _, tt := range []struct{ day, want string }{
		{"2021-09-03", "d30"},
		{"2021-09-25", ""}, // Saturday: nothing new
		{"2021-09-26", "d7"},
		{"2021-09-30", "d0"}, // 10-01 … 10-03 are holidays: d3, d1, d0 all move here
	} {
		plan, err := b.PlanReminders(ctx, at(t, tt.day), policy())
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(plan.Steps) > 0 {
			got = plan.Steps[0].Step
		}
		if got != tt.want {
			t.Errorf("at %s step = %q; want %q", tt.day, got, tt.want)
		}
		if _, err := b.RunReminders(ctx, at(t, tt.day), policy()); err != nil {
			t.Fatal(err)
		}
	}
	// February's last day.
	doc = "一、共性整改任务\n1.测试。\n责任单位：市测试局\n整改时限：2022年2月底前完成\n"
	if _, _, err := seeds.Load(ctx, store, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	plan, err := b.PlanReminders(ctx, at(t, "2022-02-28"), policy())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Messages) == 0 || !strings.Contains(plan.Messages[0].Notice.Reply.Text(), "2022-02-28 今天到期") {
		t.Errorf("at 2022-02-28: %+v; want the milestone due today", plan.Messages)
	}
}

// recorder is a Sender that records what it was given, failing on demand.
type recorder struct {
	mu   sync.Mutex
	got  []bot.Notice
	fail func(n bot.Notice) error
}

func (r *recorder) send(ctx context.Context, n bot.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(n); err != nil {
			return err
		}
	}
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func TestReminderExactlyOnce(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	now := at(t, "2021-09-23")
	first, err := b.RunReminders(ctx, now, policy())
	if err != nil || len(first) == 0 {
		t.Fatalf("RunReminders = %d, %v", len(first), err)
	}
	again, err := b.RunReminders(ctx, now.Add(time.Hour), policy())
	if err != nil || len(again) != 0 {
		t.Fatalf("second pass the same day = %d messages, %v; want none", len(again), err)
	}
	rec := &recorder{}
	c, err := b.SendQueued(ctx, "p1", rec.send)
	if err != nil || c.Sent != len(first) || c.Failed != 0 {
		t.Fatalf("SendQueued = %+v, %v; want %d sent", c, err, len(first))
	}
	if c, _ := b.SendQueued(ctx, "p1", rec.send); c.Sent != 0 {
		t.Errorf("SendQueued again sent %d; want 0", c.Sent)
	}
}

// TestCatchUpAfterOutage: the bot ran on 09-23, was down until 10-08. The
// next pass sends, once, the current state: one overdue reminder per
// 2021-09-30 milestone (not the missed 3-, 1- and 0-day ones) — and
// nothing for task 5, closed meanwhile.
func TestCatchUpAfterOutage(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	if _, err := b.RunReminders(ctx, at(t, "2021-09-23"), policy()); err != nil {
		t.Fatal(err)
	}
	t5, err := b.Store.FindTask(ctx, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.CloseTask(ctx, t5.ID, storage.Actor{ID: "U_SUP"}, "测试销号"); err != nil {
		t.Fatal(err)
	}
	plan, err := b.PlanReminders(ctx, at(t, "2021-10-08"), policy())
	if err != nil {
		t.Fatal(err)
	}
	got := stepsOf(t, b, plan)
	// October's nudges are new; September's were sent on 09-23.
	want := []string{"共性10-1:d30", "共性15:nudge", "共性17-1:d30", "共性2:nudge", "共性7-1:o1", "共性8-1:o1", "共性9-1:d30"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catch-up pass (-want +got):\n%s", diff)
	}
	if _, err := b.RunReminders(ctx, at(t, "2021-10-08"), policy()); err != nil {
		t.Fatal(err)
	}
	plan, err = b.PlanReminders(ctx, at(t, "2021-10-08").Add(2*time.Hour), policy())
	if err != nil || len(plan.Steps) != 0 {
		t.Errorf("after the catch-up pass: %v, %v; want nothing left", stepsOf(t, b, plan), err)
	}
}

// TestSlackDownForAnHour: every send fails for an hour; the flush job runs
// every minute; nothing is lost and nothing is sent twice.
func TestSlackDownForAnHour(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	start := at(t, "2021-09-23")
	clock := wallAt(t, b, "2021-09-23")
	queued, err := b.RunReminders(ctx, start, policy())
	if err != nil {
		t.Fatal(err)
	}
	up := start.Add(time.Hour)
	rec := &recorder{fail: func(bot.Notice) error {
		if clock.Before(up) {
			return errors.New("slack: service unavailable")
		}
		return nil
	}}
	for ; clock.Before(start.Add(3 * time.Hour)); *clock = clock.Add(time.Minute) {
		if _, err := b.SendQueued(ctx, "p1", rec.send); err != nil {
			t.Fatal(err)
		}
		if rec.count() == len(queued) {
			break
		}
	}
	if rec.count() != len(queued) {
		t.Fatalf("delivered %d of %d after the outage", rec.count(), len(queued))
	}
	if late := clock.Sub(up); late > 31*time.Minute {
		t.Errorf("delivered %v after Slack came back; want within the 30-minute backoff cap", late)
	}
	if n, _ := b.Store.CountPendingOutbox(ctx); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
}

// TestTwoSchedulersOneFile runs two processes' worth of stores on one
// SQLite file, planning and delivering concurrently: each message is sent
// once.
func TestTwoSchedulersOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	s1 := testenv.Store(t, append(remindOrg(t), testenv.Path(path))...)
	s2 := testenv.Store(t, append(remindOrg(t), testenv.Path(path))...)
	b1, b2 := bot.New(s1, nil), bot.New(s2, nil)
	rec := &recorder{}
	for _, day := range []string{"2021-09-23", "2021-09-30", "2021-10-08", "2021-10-14"} {
		now := at(t, day)
		var wg sync.WaitGroup
		queued := make([]int, 2)
		for i, b := range []*bot.Bot{b1, b2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q, err := b.RunReminders(ctx, now, policy())
				if err != nil {
					t.Error(err)
				}
				queued[i] = len(q)
				if _, err := b.SendQueued(ctx, fmt.Sprintf("p%d", i), rec.send); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		plan, err := b1.PlanReminders(ctx, now, policy())
		if err != nil || len(plan.Steps) != 0 {
			t.Errorf("%s: steps left unclaimed: %d, %v", day, len(plan.Steps), err)
		}
		if queued[0] > 0 && queued[1] > 0 {
			t.Errorf("%s: both processes queued messages (%d, %d); want one", day, queued[0], queued[1])
		}
	}
	for _, b := range []*bot.Bot{b1, b2} {
		if _, err := b.SendQueued(ctx, "late", rec.send); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for _, n := range rec.got {
		seen[n.To+"|"+n.Reply.Text()]++
	}
	for k, c := range seen {
		if c > 1 {
			t.Errorf("sent %d times: %.80s", c, k)
		}
	}
	var total int64
	if err := s1.DB().Model(&storage.Outbox{}).Count(&total).Error; err != nil {
		t.Fatal(err)
	}
	if int(total) != len(rec.got) {
		t.Errorf("outbox has %d messages, %d were sent", total, len(rec.got))
	}
}

func TestDigest(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	p := bot.DefaultDigestPolicy()
	p.Channel = "C_DIGEST"
	r, err := b.Digest(ctx, at(t, "2021-10-08"), p)
	if err != nil {
		t.Fatal(err)
	}
	text := r.Text()
	for _, want := range []string{"截至 2021-10-08", "已逾期 3 个", "逾期节点（3 个", "2021-09-30 已逾期 8 天 · 共性5",
		"30 天无进展的任务（24 项）", "自 09-30", "无新进展"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	// None on a day off (2021-10-02, National Day), whichever road asks.
	got, err := b.QueueDigest(ctx, at(t, "2021-10-02"), p)
	if err != nil || got != bot.DigestDayOff {
		t.Errorf("QueueDigest(2021-10-02) = %v, %v; want DigestDayOff", got, err)
	}
	if n, err := b.Store.CountPendingOutbox(ctx); err != nil || n != 0 {
		t.Errorf("%d messages queued on a day off (%v); want none", n, err)
	}
	// Once per working day, whichever process asks.
	got, err = b.QueueDigest(ctx, at(t, "2021-10-08"), p)
	if err != nil || got != bot.DigestQueued {
		t.Fatalf("QueueDigest = %v, %v; want DigestQueued", got, err)
	}
	got, err = b.QueueDigest(ctx, at(t, "2021-10-08").Add(time.Hour), p)
	if err != nil || got != bot.DigestAlreadyQueued {
		t.Errorf("second QueueDigest the same day = %v, %v; want DigestAlreadyQueued", got, err)
	}
}

func TestPreviousDigest(t *testing.T) {
	loc := testenv.Shanghai(t)
	for _, tt := range []struct{ now, want string }{
		{"2021-09-24", "2021-09-23"}, // Friday → Thursday
		{"2021-09-27", "2021-09-26"}, // Monday → the make-up Sunday
		{"2021-10-08", "2021-09-30"}, // after National Day
	} {
		now := testenv.At(t, tt.now+" 09:00")
		got := bot.PreviousDigest(bot.ChinaCalendar{}, now, loc)
		if got.Format(time.DateOnly) != tt.want || got.Hour() != 9 {
			t.Errorf("PreviousDigest(%s) = %v; want %s 09:00", tt.now, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for n, w := range want {
		if got := bot.Backoff(n); got != w {
			t.Errorf("Backoff(%d) = %v; want %v", n, got, w)
		}
	}
}

// TestTimesAcrossZones: a progress entry made at 10:00 Beijing time by a
// process whose clock is in UTC appears in the next morning's digest, and
// an outbox lease taken by a UTC clock holds against a Shanghai clock.
func TestTimesAcrossZones(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	loc := testenv.Shanghai(t)
	t6, err := b.Store.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	b.Store.Clock.AsOf = func() time.Time { return time.Date(2021, 9, 22, 10, 0, 0, 0, loc).UTC() }
	if err := b.Store.CreateProgress(ctx, &storage.Progress{TaskID: t6.ID, Kind: storage.KindReport, Author: "U_SUP", Text: "上午的进展"}); err != nil {
		t.Fatal(err)
	}
	r, err := b.Digest(ctx, time.Date(2021, 9, 23, 9, 0, 0, 0, loc), bot.DefaultDigestPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text(), "上午的进展") {
		t.Errorf("the 09-23 digest lacks progress made 09-22 10:00 Beijing time:\n%s", r.Text())
	}
	r, err = b.Digest(ctx, time.Date(2021, 9, 22, 9, 0, 0, 0, loc), bot.DefaultDigestPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.Text(), "上午的进展") {
		t.Errorf("the 09-22 09:00 digest shows progress made an hour later")
	}

	if _, err := b.Store.Enqueue(ctx, storage.Outbox{Key: "k1", Kind: "test", Payload: "{}"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2021, 9, 23, 9, 0, 0, 0, loc)
	got, err := b.Store.Lease(ctx, "cli", now.UTC().Add(time.Hour), 5*time.Minute, 10, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("Lease by the UTC clock = %d, %v", len(got), err)
	}
	again, err := b.Store.Lease(ctx, "serve", now.Add(time.Hour+30*time.Second), 5*time.Minute, 10, nil)
	if err != nil || len(again) != 0 {
		t.Errorf("a Shanghai clock leased a message leased 30 s earlier by a UTC clock: %d, %v", len(again), err)
	}
}

// TestBadRecipientAlone: one member of a unit does not exist in Slack. The
// other member gets the reminder once; the bad one is retried alone, then
// given up after MaxAttempts.
func TestBadRecipientAlone(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	err := b.Store.ApplyPeople(ctx, storage.PeopleSpec{Units: []storage.UnitPeople{
		{Unit: "禹州市", Members: []storage.PersonRef{{SlackID: "U_YUZHOU"}, {SlackID: "U_GONE"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	start := at(t, "2021-09-23")
	clock := wallAt(t, b, "2021-09-23")
	if _, err := b.RunReminders(ctx, start, policy()); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{fail: func(n bot.Notice) error {
		if slices.Contains(n.UserIDs, "U_GONE") {
			return errors.New("user_not_found")
		}
		return nil
	}}
	for ; clock.Before(start.Add(3 * 24 * time.Hour)); *clock = clock.Add(10 * time.Minute) {
		if _, err := b.SendQueued(ctx, "p1", rec.send); err != nil {
			t.Fatal(err)
		}
	}
	good := 0
	for _, n := range rec.got {
		if slices.Equal(n.UserIDs, []string{"U_YUZHOU"}) {
			good++
		}
		if len(n.UserIDs) > 1 {
			t.Errorf("a notice to several users at once: %v", n.UserIDs)
		}
	}
	if good != 1 {
		t.Errorf("the existing member got the reminder %d times; want once", good)
	}
	if dead, _ := b.Store.CountDeadOutbox(ctx); dead != 1 {
		t.Errorf("%d messages given up; want 1 (to U_GONE)", dead)
	}
	if r, err := b.Digest(ctx, start.Add(3*24*time.Hour), bot.DefaultDigestPolicy()); err != nil || !strings.Contains(r.Text(), "1 条提醒或通知多次发送失败") {
		t.Errorf("the digest does not tell the office about the message given up (%v)", err)
	}
	if pending, _ := b.Store.CountPendingOutbox(ctx); pending != 0 {
		t.Errorf("%d messages still pending after three days", pending)
	}
}

// TestThreadPostsInOrder: the first of two posts to a task's thread fails;
// the second waits for it, so the thread reads in order.
func TestThreadPostsInOrder(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	clock := wallAt(t, b, "2021-09-23")
	th := &bot.ThreadRef{TaskID: 6, TaskCode: "共性6"}
	if _, err := b.QueueNotices(ctx, []bot.Notice{{Thread: th, Reply: bot.Reply{Title: "first"}}, {Thread: th, Reply: bot.Reply{Title: "second"}}}); err != nil {
		t.Fatal(err)
	}
	failed := false
	rec := &recorder{fail: func(n bot.Notice) error {
		if n.Reply.Title == "first" && !failed {
			failed = true
			return errors.New("slack: internal_error")
		}
		return nil
	}}
	for i := 0; i < 5; i++ {
		if _, err := b.SendQueued(ctx, "p1", rec.send); err != nil {
			t.Fatal(err)
		}
		*clock = clock.Add(time.Minute)
	}
	var order []string
	for _, n := range rec.got {
		order = append(order, n.Reply.Title)
	}
	if !slices.Equal(order, []string{"first", "second"}) {
		t.Errorf("thread posts went out as %v; want [first second]", order)
	}
}

// TestSlowSendKeepsLease: each send takes 6 minutes (429 waits), less than
// the 10-minute lease; while the second message is being sent, 12 minutes
// into the run, another process finds nothing to take (its lease started
// when it was taken, not when the run began).
func TestSlowSendKeepsLease(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	clock := wallAt(t, b, "2021-09-23")
	if _, err := b.QueueNotices(ctx, []bot.Notice{{Channel: "C1", Reply: bot.Reply{Title: "one"}}, {Channel: "C2", Reply: bot.Reply{Title: "two"}}}); err != nil {
		t.Fatal(err)
	}
	stolen := 0
	send := func(ctx context.Context, n bot.Notice) error {
		*clock = clock.Add(6 * time.Minute)
		if n.Reply.Title == "two" {
			got, err := b.Store.Lease(ctx, "other-process", *clock, 10*time.Minute, 10, nil)
			if err != nil {
				t.Error(err)
			}
			stolen += len(got)
		}
		return nil
	}
	if c, err := b.SendQueued(ctx, "p1", send); err != nil || c.Sent != 2 {
		t.Fatalf("SendQueued = %+v, %v; want 2 sent", c, err)
	}
	if stolen != 0 {
		t.Errorf("another process leased %d message(s) while they were being sent", stolen)
	}
}
