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
// holder of the 分管自然资源 post, a supervisor. Every other unit has
// nobody bound: its reminders go to the fallback channel.
func remindOrg(t testing.TB) []testenv.Option {
	return []testenv.Option{testenv.Units(shippedUnits(t)...), testenv.People(storage.PeopleSpec{
		Units: []storage.UnitPeople{
			{Unit: "市水利局", Channel: "C_WATER"},
			{Unit: "禹州市", Members: []storage.PersonRef{{SlackID: "U_YUZHOU", Name: "禹州联络员"}}},
		},
		Leaders:     map[string][]storage.PersonRef{"市政府分管自然资源副市长": {{SlackID: "U_VICE", Name: "副市长"}}},
		Supervisors: []storage.PersonRef{{SlackID: "U_SUP", Name: "督查员"}},
	})}
}

// remindBot is a bot over the real list with remindOrg, in a temp SQLite
// file. Its list is seeded as of now (real time): no task has been
// tracked long enough for a nudge at the tests' dates.
func remindBot(t *testing.T) *bot.Bot {
	return bot.New(testenv.Store(t, remindOrg(t)...), nil)
}

// trackedBot is remindBot with the list first seeded at 09:00 on since:
// the bot started tracking the tasks that day, which is where the silence
// of a nudge counts from.
func trackedBot(t testing.TB, since string) *bot.Bot {
	return bot.New(testenv.Store(t, append(remindOrg(t), testenv.AsOf(testenv.At(t, since+" 09:00")))...), nil)
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

// pass is 09:00 on day, when the scheduler runs the reminder pass.
func pass(t testing.TB, day string) time.Time {
	t.Helper()
	return testenv.At(t, day+" 09:00")
}

// factsOf returns what msgs reach their recipients with, whoever they are:
// "code-seq:step" for a milestone (step d30 … d0, overdue, escalate) and
// "code:nudge" for a nudge, sorted, each once.
func factsOf(msgs []bot.Planned) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, m := range msgs {
		for _, c := range m.Covers {
			f := strings.Split(c, "|") // unit|code|seq|step
			s := f[1] + "-" + f[2] + ":" + f[3]
			if f[2] == "0" {
				s = f[1] + ":" + f[3]
			}
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// coverSet is every "recipient|code|seq|step" fact of msgs.
func coverSet(msgs []bot.Planned) map[string]bool {
	out := map[string]bool{}
	for _, m := range msgs {
		for _, c := range m.Covers {
			out[c] = true
		}
	}
	return out
}

// oncePerRecipient fails the test when two of a pass's messages go to the
// same recipient.
func oncePerRecipient(t *testing.T, day string, msgs []bot.Planned) {
	t.Helper()
	seen := map[bot.Recipient]bool{}
	for _, m := range msgs {
		if seen[m.To] {
			t.Errorf("%s: two messages to %v in one pass; want one per recipient", day, m.To)
		}
		seen[m.To] = true
	}
}

// coversShown fails the test when a message's Covers (what the tests and
// previews count) claim a line its text does not show: the task's
// milestone, and in the fallback channel the unit's section.
func coversShown(t *testing.T, day string, msgs []bot.Planned) {
	t.Helper()
	for _, m := range msgs {
		text := m.Notice.Reply.Text()
		for _, c := range m.Covers {
			f := strings.Split(c, "|") // unit|code|seq|step
			line := f[1] + " "
			if f[2] != "0" {
				line += "节点" + f[2] + " "
			}
			// In the fallback channel each unit, and each post nobody
			// holds, has a section of its own.
			sectioned := strings.Contains(text, "【"+f[0]+"（") || strings.Contains(text, "【逾期督办："+f[0]+"（")
			if !strings.Contains(text, line) || m.To.Kind == "channel" && !sectioned {
				t.Errorf("%s: the message to %v covers %s but does not show it:\n%s", day, m.To, c, text)
			}
		}
	}
}

// messageTo returns the message of msgs for to, or fails the test.
func messageTo(t *testing.T, msgs []bot.Planned, to bot.Recipient) bot.Planned {
	t.Helper()
	for _, m := range msgs {
		if m.To == to {
			return m
		}
	}
	var tos []bot.Recipient
	for _, m := range msgs {
		tos = append(tos, m.To)
	}
	t.Fatalf("no message to %v; messages go to %v", to, tos)
	return bot.Planned{}
}

// TestPlanRemindersOnRealList: what the first pass of a day would send on
// the real list, the bot tracking it since 2021-08-20 (so the ongoing
// tasks 2 and 15 are due a nudge).
func TestPlanRemindersOnRealList(t *testing.T) {
	nudges := []string{"共性15:nudge", "共性2:nudge"}
	tests := []struct {
		day  string
		want []string
	}{
		// 7 days before the 2021-09-30 milestones of tasks 5, 7 and 8.
		{"2021-09-23", append([]string{"共性5-1:d7", "共性7-1:d7", "共性8-1:d7"}, nudges...)},
		// Month end, due today; 2021-10-31's 30-day reminder falls on the
		// National Day holiday (10-01) and moves to the working day before.
		{"2021-09-30", append([]string{"共性10-1:d30", "共性17-1:d30", "共性5-1:d0", "共性5-2:d30", "共性7-1:d0", "共性8-1:d0", "共性9-1:d30"}, nudges...)},
		// A holiday: nothing at all (issue 11: nothing on days off; the
		// old policy planned the same as 09-30 here).
		{"2021-10-07", nil},
		// The first working day of the week (Monday 10-04 was a holiday):
		// the weekly overdue lists, and the 30-day steps of 10-31 that a
		// first pass catches up on.
		{"2021-10-08", append([]string{"共性10-1:d30", "共性17-1:d30", "共性5-1:overdue", "共性5-2:d30", "共性7-1:overdue", "共性8-1:overdue", "共性9-1:d30"}, nudges...)},
		// 2021-10-31 is a Sunday: its 1- and 0-day reminders move to
		// Friday. This pass is the first of its week (each case starts from
		// a fresh database), so it makes up the week's overdue lists and
		// escalations, which a daily scheduler would have sent on Monday.
		{"2021-10-29", append([]string{"共性10-1:d0", "共性17-1:d0", "共性5-2:d0", "共性9-1:d0",
			"共性5-1:escalate", "共性5-1:overdue", "共性7-1:escalate", "共性7-1:overdue", "共性8-1:escalate", "共性8-1:overdue"}, nudges...)},
		// Monday: every overdue share; the 09-30 milestones are 32 days
		// overdue and escalate to the post holders with Slack IDs, or, for
		// posts nobody holds (共性7, 共性8), in the fallback message.
		{"2021-11-01", append([]string{"共性10-1:overdue", "共性17-1:overdue", "共性5-1:escalate", "共性5-1:overdue", "共性5-2:overdue",
			"共性7-1:escalate", "共性7-1:overdue", "共性8-1:escalate", "共性8-1:overdue", "共性9-1:overdue"}, nudges...)},
	}
	for _, tt := range tests {
		b := trackedBot(t, "2021-08-20")
		plan, err := b.PlanReminders(context.Background(), pass(t, tt.day), policy())
		if err != nil {
			t.Fatal(err)
		}
		want := tt.want
		if want == nil {
			want = []string{}
		}
		slices.Sort(want)
		if diff := cmp.Diff(want, factsOf(plan.Messages)); diff != "" {
			t.Errorf("PlanReminders at %s (-want +got):\n%s", tt.day, diff)
		}
		oncePerRecipient(t, tt.day, plan.Messages)
		coversShown(t, tt.day, plan.Messages)
	}
}

// TestReminderMessages: one message per unit with recipients (its channel,
// or DMs to its members), and one message in the fallback channel for all
// the units with nobody bound, grouped by unit.
func TestReminderMessages(t *testing.T) {
	b := remindBot(t)
	plan, err := b.PlanReminders(context.Background(), pass(t, "2021-09-23"), policy())
	if err != nil {
		t.Fatal(err)
	}
	oncePerRecipient(t, "2021-09-23", plan.Messages)
	if len(plan.Messages) != 3 {
		t.Errorf("%d messages; want 3 (市水利局, 禹州市, the fallback channel)", len(plan.Messages))
	}
	water := messageTo(t, plan.Messages, bot.Recipient{Kind: "unit", Name: "市水利局"})
	if water.Notice.Channel != "C_WATER" || len(water.Notice.UserIDs) != 0 {
		t.Errorf("市水利局 notice goes to %q %v; want its channel C_WATER", water.Notice.Channel, water.Notice.UserIDs)
	}
	mustContain(t, "市水利局's reminder", water.Notice.Reply.Text(), "【整改提醒】市水利局：即将到期 2 项", "即将到期（2 项）",
		"共性7 节点1 2021-09-30 剩余 7 天", "共性8 节点1 2021-09-30 剩余 7 天", "截至 2021-09-23")
	var forms []string
	for _, a := range water.Notice.Reply.Actions {
		if a.Form == bot.FormReport {
			forms = append(forms, a.Label+"="+a.Command)
		}
	}
	if !slices.Equal(forms, []string{"报送 共性7=共性7 1", "报送 共性8=共性8 1"}) {
		t.Errorf("市水利局's reminder buttons = %v; want a 报送 form button per task named", forms)
	}
	if !strings.HasPrefix(water.Key, "rem:u") || !strings.HasSuffix(water.Key, ":2021-09-23") {
		t.Errorf("市水利局's message key = %q; want rem:u<id>:2021-09-23 (one per unit per day)", water.Key)
	}
	yz := messageTo(t, plan.Messages, bot.Recipient{Kind: "unit", Name: "禹州市"})
	if yz.Notice.Channel != "" || !slices.Equal(yz.Notice.UserIDs, []string{"U_YUZHOU"}) {
		t.Errorf("禹州市 notice goes to %q %v; want a DM to U_YUZHOU (no channel)", yz.Notice.Channel, yz.Notice.UserIDs)
	}
	// Units with neither channel nor members are not dropped: they share
	// the pass's one message in the fallback channel, a section each.
	fb := messageTo(t, plan.Messages, bot.Recipient{Kind: "channel", Name: "C_DUCHA"})
	if fb.Notice.Channel != "C_DUCHA" || fb.Key != "fallback:2021-09-23" {
		t.Errorf("fallback message %q to %q; want fallback:2021-09-23 to C_DUCHA", fb.Key, fb.Notice.Channel)
	}
	r := fb.Notice.Reply
	mustContain(t, "the fallback message", r.Title, "未配置频道或成员")
	listed := func(s bot.Section) string { return strings.Join(codes(bot.Reply{Sections: []bot.Section{s}}), " ") }
	if got := listed(section(t, r, "市自然资源和规划局（")); got != "共性5" {
		t.Errorf("市自然资源和规划局's section lists %q; want 共性5", got)
	}
	// 各县（市、区） has no recipients of its own: its members hold its
	// shares, 长葛市 among them.
	if got := listed(section(t, r, "长葛市（")); got != "共性7 共性8" {
		t.Errorf("长葛市's section (member of 各县（市、区）) lists %q; want 共性7 共性8", got)
	}
	for _, s := range r.Sections {
		for _, reached := range []string{"各县（市、区）", "市水利局", "禹州市"} {
			if strings.HasPrefix(s.Heading, reached+"（") {
				t.Errorf("the fallback message has a section for %s: %q", reached, s.Heading)
			}
		}
	}
}

// TestEscalation: on the weekly overdue day, milestones overdue 14 days or
// more go to the holders of their tasks' leader posts, naming the units
// behind; posts nobody holds reach the inspection office in the fallback
// message. (The old policy escalated on the milestone's own 14th day,
// 2021-10-14, a Thursday; issue 11 made escalations weekly.)
func TestEscalation(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	// 禹州市 reports its share of 共性5 节点1 done: no longer behind.
	say(t, b, "2021-10-12", "U_YUZHOU", "progress 5 完成 1 台账已建立 https://example.gov.cn/yz.xlsx")
	// Passes run (and claim) day after day, as the scheduler's would.
	var queued []bot.Planned // the last pass's messages
	escalations := func(day string) []bot.Planned {
		t.Helper()
		var err error
		if queued, err = b.RunReminders(ctx, pass(t, day), policy()); err != nil {
			t.Fatal(err)
		}
		var esc []bot.Planned
		for _, m := range queued {
			if m.Kind == bot.KindEscalation {
				esc = append(esc, m)
			}
		}
		return esc
	}
	for _, day := range []string{
		"2021-10-08", // the overdue day of its week, 8 days overdue
		"2021-10-11", // Monday, 11 days
		"2021-10-14", // 14 days, but a Thursday
	} {
		if esc := escalations(day); len(esc) > 0 {
			t.Errorf("%s: escalation %q; want none", day, esc[0].Notice.Reply.Title)
		}
	}
	esc := escalations("2021-10-18") // Monday, 18 days overdue
	if len(esc) != 1 {
		t.Fatalf("2021-10-18: %d escalations; want one, to U_VICE", len(esc))
	}
	vice := esc[0]
	if !slices.Equal(vice.Notice.UserIDs, []string{"U_VICE"}) || vice.Notice.Channel != "" || vice.To.Kind != "user" {
		t.Errorf("escalation to %q %v (%v); want a DM to U_VICE", vice.Notice.Channel, vice.Notice.UserIDs, vice.To)
	}
	text := vice.Notice.Reply.Text()
	mustContain(t, "the escalation to U_VICE", text, "【逾期督办】市政府分管自然资源副市长（副市长）",
		"共性5 节点1 2021-09-30 已逾期 18 天", "未完成：市自然资源和规划局、市公安局")
	mustNotContain(t, "the escalation's units behind", text, "禹州市")
	if !strings.HasPrefix(vice.Key, "esc:user:U_VICE:2021-10-18") {
		t.Errorf("escalation key %q; want esc:user:U_VICE:2021-10-18 (one per holder per day)", vice.Key)
	}
	// Posts without a holder with a Slack ID still reach the inspection
	// office: a section of the fallback message, naming the units behind.
	fb := messageTo(t, queued, bot.Recipient{Kind: "channel", Name: "C_DUCHA"})
	s := section(t, fb.Notice.Reply, "逾期督办：市政府分管水利副市长")
	mustContain(t, "the unheld 分管水利 post's section", fb.Notice.Reply.Text(), "（未配置 Slack 账号）")
	if len(s.Items) == 0 || !strings.Contains(s.Items[0].Text, "已逾期 18 天") || !strings.Contains(s.Items[0].Text, "未完成：市水利局") {
		t.Errorf("the 分管水利 post's section = %+v; want the milestones 18 days overdue with the units behind", s.Items)
	}
	// Once a week: sent on Monday, nothing more until the next Monday.
	for _, day := range []string{"2021-10-19", "2021-10-22"} {
		if esc := escalations(day); len(esc) > 0 {
			t.Errorf("%s: escalation again; want the next one on Monday", day)
		}
	}
	if esc := escalations("2021-10-25"); len(esc) != 1 || !strings.Contains(esc[0].Notice.Reply.Text(), "已逾期 25 天") {
		t.Errorf("2021-10-25: escalations %v; want the next week's, 25 days overdue", esc)
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
		for _, s := range plan.Steps {
			if s.MilestoneID != nil {
				got += s.Step
			}
		}
		if got != tt.want {
			t.Errorf("at %s milestone step = %q; want %q", tt.day, got, tt.want)
		}
		if _, err := b.RunReminders(ctx, at(t, tt.day), policy()); err != nil {
			t.Fatal(err)
		}
	}
	// February's last day.
	doc = "一、共性整改任务\n1.测试。\n责任单位：市测试局\n整改时限：2022年2月底前完成\n"
	if _, _, err := seeds.Load(ctx, store, []byte(doc), nil); err != nil {
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
// next pass sends, once, the current state: the weekly overdue list with
// each 2021-09-30 milestone (not the missed 3-, 1- and 0-day steps), the
// 30-day steps of 10-31 missed on 09-30 — nothing for task 5, closed
// meanwhile, and no nudge: the one for this stretch of silence went out on
// 09-23.
func TestCatchUpAfterOutage(t *testing.T) {
	ctx := context.Background()
	b := trackedBot(t, "2021-08-20")
	first, err := b.RunReminders(ctx, pass(t, "2021-09-23"), policy())
	if err != nil {
		t.Fatal(err)
	}
	if got := factsOf(first); !slices.Contains(got, "共性2:nudge") {
		t.Fatalf("the 09-23 pass reached %v; want the nudges of 34 days' silence among them", got)
	}
	t5, err := b.Store.FindTask(ctx, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.CloseTask(ctx, t5.ID, storage.Actor{ID: "U_SUP"}, "测试销号"); err != nil {
		t.Fatal(err)
	}
	plan, err := b.PlanReminders(ctx, pass(t, "2021-10-08"), policy())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"共性10-1:d30", "共性17-1:d30", "共性7-1:overdue", "共性8-1:overdue", "共性9-1:d30"}
	if diff := cmp.Diff(want, factsOf(plan.Messages)); diff != "" {
		t.Errorf("catch-up pass (-want +got):\n%s", diff)
	}
	oncePerRecipient(t, "2021-10-08", plan.Messages)
	got, err := b.RunReminders(ctx, pass(t, "2021-10-08"), policy())
	if err != nil || len(got) != len(plan.Messages) {
		t.Fatalf("RunReminders(2021-10-08) = %d messages, %v; want the %d planned", len(got), err, len(plan.Messages))
	}
	plan, err = b.PlanReminders(ctx, pass(t, "2021-10-08").Add(2*time.Hour), policy())
	if err != nil || len(plan.Steps) != 0 || len(plan.Messages) != 0 {
		t.Errorf("after the catch-up pass: %d steps, %v, %v; want nothing left", len(plan.Steps), factsOf(plan.Messages), err)
	}
}

// TestCatchUpAfterOutageOverOverdueDay: the bot was down from 09-24 to
// 10-11, over the 09-30 deadlines and both weekly overdue days since
// (10-08, 10-11). Its first pass, on Tuesday 10-12, should tell the units
// of the milestones that went overdue meanwhile, once, rather than wait
// for the next Monday (the old policy sent them at once).
func TestCatchUpAfterOutageOverOverdueDay(t *testing.T) {
	b := trackedBot(t, "2021-08-25")
	runDay(t, b, "2021-09-23", policy())
	got := factsOf(runDay(t, b, "2021-10-12", policy()))
	for _, want := range []string{"共性5-1:overdue", "共性7-1:overdue", "共性8-1:overdue"} {
		if !slices.Contains(got, want) {
			t.Errorf("the first pass after the outage reached %v; want %s", got, want)
		}
	}
	if got := factsOf(runDay(t, b, "2021-10-13", policy())); slices.Contains(stepsOnly(got), "overdue") {
		t.Errorf("10-13: overdue lists again (%v); want them once a week", got)
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
	// The silent list, the line count and the unbound units are in
	// TestDigestFitsOneScreen (this store started tracking today).
	for _, want := range []string{"截至 2021-10-08", "逾期节点 3 个", "【最紧急】", "2021-09-30 已逾期 8 天 · 共性5",
		"自 09-30", "无新进展"} {
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
	}, Supervisors: []storage.PersonRef{{SlackID: "U_SUP", Name: "督查员"}}})
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
	// The office retries it by command (the user is back, say): queued
	// again; nobody else may.
	if r := b.Handle(ctx, bot.Request{Text: "resend", User: "U_YUZHOU"}); !r.Error {
		t.Errorf("resend by a unit member = %q; want a refusal", r.Text())
	}
	if r := b.Handle(ctx, bot.Request{Text: "重发", User: "U_SUP"}); r.Error || !strings.Contains(r.Title, "1 条") {
		t.Errorf("resend by the office = %q; want 1 queued again", r.Text())
	}
	if dead, _ := b.Store.CountDeadOutbox(ctx); dead != 0 {
		t.Errorf("%d messages still given up after resend", dead)
	}
	if pending, _ := b.Store.CountPendingOutbox(ctx); pending != 1 {
		t.Errorf("%d messages pending after resend; want 1", pending)
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

// TestRemindTakesOverUnsent: a `remind` killed after queueing leaves
// messages leased by a process that is gone; the next run the same day
// queues nothing new but sends them once their lease expired. A message a
// live process holds is left to it and counted.
func TestRemindTakesOverUnsent(t *testing.T) {
	ctx := context.Background()
	b := remindBot(t)
	now := at(t, "2021-09-23")
	queued, err := b.RunReminders(ctx, now, policy())
	if err != nil || len(queued) < 3 {
		t.Fatalf("RunReminders = %d, %v; want at least 3 messages", len(queued), err)
	}
	wall := time.Now()
	// The killed run had leased two; their leases have run out.
	if got, err := b.Store.Lease(ctx, "dead#1", wall, -time.Minute, 2, bot.ReminderKeyPrefixes); err != nil || len(got) != 2 {
		t.Fatalf("lease by the dead run = %d, %v", len(got), err)
	}
	// serve is sending one right now.
	if got, err := b.Store.Lease(ctx, "serve#1", wall, time.Hour, 1, bot.ReminderKeyPrefixes); err != nil || len(got) != 1 {
		t.Fatalf("lease by serve = %d, %v", len(got), err)
	}
	rec := &recorder{}
	o, err := b.RemindAndSend(ctx, now.Add(time.Hour), policy(), "rerun", rec.send)
	if err != nil {
		t.Fatal(err)
	}
	if o.Queued != 0 || o.Sent.Sent != len(queued)-1 || o.Held != 1 || o.Waiting != 0 {
		t.Errorf("rerun = %+v; want nothing new, %d sent (the dead run's included), 1 held by serve", o, len(queued)-1)
	}
	if o, err := b.RemindAndSend(ctx, now.Add(2*time.Hour), policy(), "rerun", rec.send); err != nil || o.Sent.Sent != 0 {
		t.Errorf("a third run = %+v, %v; want nothing sent again", o, err)
	}
}

// TestReminderGroupsByList: with a second list, a unit's reminder lists the
// default list's milestones first, then the other list's (its codes
// qualified), each most urgent first; its 报送 button names the other
// list's task so that the form opens on it.
func TestReminderGroupsByList(t *testing.T) {
	b := remindBot(t)
	doc := "一、共性整改任务\n1.取水许可管理不规范。\n责任单位：市水利局\n整改时限：2021年9月24日前\n"
	if _, _, err := seeds.Import(context.Background(), b.Store, []byte(doc), "省督察二轮", false); err != nil {
		t.Fatal(err)
	}
	plan, err := b.PlanReminders(context.Background(), pass(t, "2021-09-23"), policy())
	if err != nil {
		t.Fatal(err)
	}
	water := messageTo(t, plan.Messages, bot.Recipient{Kind: "unit", Name: "市水利局"})
	text := water.Notice.Reply.Text()
	first, second, other := strings.Index(text, "共性7 节点1"), strings.Index(text, "共性8 节点1"), strings.Index(text, "省督察二轮/共性1 节点1 2021-09-24")
	if first < 0 || second < 0 || other < 0 || !(first < second && second < other) {
		t.Errorf("市水利局's reminder does not list the default list's milestones, then the other list's:\n%s", text)
	}
	var forms []string
	for _, a := range water.Notice.Reply.Actions {
		forms = append(forms, a.Label+"="+a.Command)
	}
	if !slices.Contains(forms, "报送 省督察二轮/共性1=省督察二轮/共性1 1") {
		t.Errorf("buttons %v; want one for 省督察二轮/共性1", forms)
	}
}
