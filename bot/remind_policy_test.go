package bot_test

// Table tests of the reminder policy of issue 11 at pinned dates on the
// seed: working days, one pass a day, one message per recipient, weekly
// overdue lists, truthful nudges, the fallback channel, finished shares.

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// runDay runs the reminder pass of day (09:00) and returns what it queued.
func runDay(t *testing.T, b *bot.Bot, day string, p bot.RemindPolicy) []bot.Planned {
	t.Helper()
	msgs, err := b.RunReminders(context.Background(), pass(t, day), p)
	if err != nil {
		t.Fatalf("RunReminders(%s) = %v", day, err)
	}
	return msgs
}

// days returns every day from first to last, inclusive.
func days(t *testing.T, first, last string) []string {
	t.Helper()
	var out []string
	for d := testenv.Date(t, first); !testenv.Date(t, last).Before(d); d = d.AddDays(1) {
		out = append(out, d.String())
	}
	return out
}

// stepsOnly keeps the steps of facts ("共性7-1:d7" → "d7"), sorted, once each.
func stepsOnly(facts []string) []string {
	out := []string{}
	for _, f := range facts {
		s := f[strings.LastIndexByte(f, ':')+1:]
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// TestRemindNationalDayWeek runs the passes of every day from 2021-09-23 to
// 2021-10-11 on the seed, the bot tracking the list since 2021-08-26 and
// 禹州市 having reported on 共性2 on 2021-09-09: the make-up Sunday and
// Saturday send, the seven days off send nothing, and what fell due during
// them goes out after.
func TestRemindNationalDayWeek(t *testing.T) {
	b := trackedBot(t, "2021-08-26")
	if out, r := say(t, b, "2021-09-09", "U_YUZHOU", "progress 2 正在排查 https://example.gov.cn/yz2.docx"); r.Error {
		t.Fatalf("progress 2 as 禹州市 = %q", out)
	}
	ahead := func(step string) []string {
		return []string{"共性5-1:" + step, "共性7-1:" + step, "共性8-1:" + step}
	}
	overdue := ahead("overdue")
	want := map[string][]string{
		"2021-09-23": ahead("d7"),
		// 09-25 (Saturday) is the 30th day of silence: the nudges wait for
		// the make-up Sunday.
		"2021-09-26": {"共性15:nudge", "共性2:nudge"},
		"2021-09-27": ahead("d3"),
		"2021-09-29": ahead("d1"),
		// Due today; 10-31's 30-day step (10-01, a holiday) moves here.
		"2021-09-30": append(ahead("d0"), "共性10-1:d30", "共性17-1:d30", "共性5-2:d30", "共性9-1:d30"),
		// Monday 10-04 was a holiday: the week's overdue lists go out on its
		// first working day.
		"2021-10-08": overdue,
		// The make-up Saturday: 禹州市's 30th day of silence on 共性2.
		"2021-10-09": {"共性2:nudge"},
		"2021-10-11": overdue,
	}
	for _, day := range days(t, "2021-09-23", "2021-10-11") {
		msgs := runDay(t, b, day, policy())
		w := want[day]
		if w == nil {
			w = []string{}
		}
		slices.Sort(w)
		if diff := cmp.Diff(w, factsOf(msgs)); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", day, testenv.Date(t, day).Weekday(), diff)
		}
		oncePerRecipient(t, day, msgs)
		coversShown(t, day, msgs)
		if !(bot.ChinaCalendar{}).Working(testenv.Date(t, day)) && len(msgs) > 0 {
			t.Errorf("%s is a day off; %d messages", day, len(msgs))
		}
		switch day {
		case "2021-09-26":
			got := coverSet(msgs)
			if !got["禹州市|共性15|0|nudge"] || got["禹州市|共性2|0|nudge"] {
				t.Errorf("09-26: 禹州市 nudged %v; want 共性15 only (it reported on 共性2 on 09-09)", got)
			}
		case "2021-10-09":
			if diff := cmp.Diff(map[string]bool{"禹州市|共性2|0|nudge": true}, coverSet(msgs)); diff != "" {
				t.Errorf("10-09 (-want +got):\n%s", diff)
			}
			if len(msgs) == 1 {
				mustContain(t, "10-09's nudge", msgs[0].Notice.Reply.Text(), "已 30 天未报送进展（自 2021-09-09 起）")
			}
		}
	}
}

// TestFirstPassNoFalseNudge: silence counts from the later of the unit's
// last entry and the day the bot started tracking the task (the store's
// clock when the list was first seeded), never from before the bot
// existed; the tasks' own age in the document does not count.
func TestFirstPassNoFalseNudge(t *testing.T) {
	b := trackedBot(t, "2021-10-08") // long after the list was written
	for _, tt := range []struct {
		day  string
		act  string // a progress entry by 禹州市 that day, before the pass
		want []string
		not  []string
		text string // in 禹州市's message
	}{
		// The very first pass: 0 days of tracking.
		{day: "2021-10-08", not: []string{"禹州市|共性2|0|nudge", "长葛市|共性2|0|nudge", "禹州市|共性15|0|nudge"}},
		// A week later: still nothing (the old policy nudged again here).
		{day: "2021-10-15", not: []string{"禹州市|共性2|0|nudge", "长葛市|共性2|0|nudge"}},
		{day: "2021-10-20", act: "progress 2 正在整改 https://example.gov.cn/yz.docx"},
		// Day 28 (a Friday): nothing yet.
		{day: "2021-11-05", not: []string{"禹州市|共性15|0|nudge", "长葛市|共性2|0|nudge"}},
		// Day 30 was Sunday 11-07: Monday, 31 days since tracking started;
		// 禹州市 reported on 共性2 19 days ago.
		{day: "2021-11-08", want: []string{"禹州市|共性15|0|nudge", "长葛市|共性2|0|nudge", "长葛市|共性15|0|nudge"},
			not: []string{"禹州市|共性2|0|nudge"}, text: "已 31 天未报送进展（自 2021-10-08 起）"},
		// 30 days after 禹州市's entry.
		{day: "2021-11-19", want: []string{"禹州市|共性2|0|nudge"}, not: []string{"长葛市|共性2|0|nudge"},
			text: "已 30 天未报送进展（自 2021-10-20 起）"},
	} {
		if tt.act != "" {
			if out, r := say(t, b, tt.day, "U_YUZHOU", tt.act); r.Error {
				t.Fatalf("%s: %s = %q", tt.day, tt.act, out)
			}
		}
		msgs := runDay(t, b, tt.day, policy())
		got := coverSet(msgs)
		for _, f := range tt.want {
			if !got[f] {
				t.Errorf("%s: no %s", tt.day, f)
			}
		}
		for _, f := range tt.not {
			if got[f] {
				t.Errorf("%s: %s; want no nudge", tt.day, f)
			}
		}
		for _, m := range msgs {
			if tt.not != nil && tt.want == nil && strings.Contains(m.Notice.Reply.Text(), "未报送进展") {
				t.Errorf("%s: a nudge to %v:\n%s", tt.day, m.To, m.Notice.Reply.Text())
			}
			if tt.text != "" && m.To.Name == "禹州市" {
				mustContain(t, tt.day+" 禹州市's message", m.Notice.Reply.Text(), tt.text)
			}
		}
	}
}

// nudgeDays simulates every day from first to last on the seed (tracked
// since first) and returns the days each "unit|code" was nudged.
func nudgeDays(t *testing.T, first, last string) map[string][]storage.Date {
	t.Helper()
	b := trackedBot(t, first)
	var passes []time.Time
	for _, d := range days(t, first, last) {
		passes = append(passes, pass(t, d))
	}
	msgs, err := b.SimulateReminders(context.Background(), passes, nil, policy(), bot.DigestPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]storage.Date{}
	for _, m := range msgs {
		for _, c := range m.Covers {
			if f := strings.Split(c, "|"); f[3] == "nudge" {
				out[f[0]+"|"+f[1]] = append(out[f[0]+"|"+f[1]], m.Date)
			}
		}
	}
	return out
}

// TestNudgeRepeats: a unit silent on a task is nudged on the first working
// day of its 30th day of silence, then again at most every 30 days, only
// on working days, for as long as it stays silent.
func TestNudgeRepeats(t *testing.T) {
	const first, last = "2021-08-25", "2022-03-31"
	nudged := nudgeDays(t, first, last)
	if len(nudged) == 0 {
		t.Fatal("no nudges at all")
	}
	cal := bot.ChinaCalendar{}
	start := testenv.Date(t, first)
	t.Run("working days, first and repeated", func(t *testing.T) {
		for k, ds := range nudged {
			if want := bot.OnOrAfterWorking(cal, start.AddDays(30)); ds[0] != want {
				t.Errorf("%s first nudged %s; want %s (the first working day of its 30th day of silence)", k, ds[0], want)
			}
			for i, d := range ds {
				if !cal.Working(d) {
					t.Errorf("%s nudged on %s, a day off", k, d)
				}
				if i > 0 && ds[i-1].DaysUntil(d) > 30+14 {
					t.Errorf("%s nudged %s then %s; want the next nudge once 30 days have passed", k, ds[i-1], d)
				}
			}
			if n := len(ds); ds[n-1].DaysUntil(testenv.Date(t, last)) > 30+14 {
				t.Errorf("%s last nudged %s; want nudges to go on until %s", k, ds[n-1], last)
			}
		}
	})
	t.Run("at most every 30 days", func(t *testing.T) {
		for k, ds := range nudged {
			for i := 1; i < len(ds); i++ {
				if gap := ds[i-1].DaysUntil(ds[i]); gap < 30 {
					t.Errorf("%s nudged %s then %s: %d days apart; want at least 30", k, ds[i-1], ds[i], gap)
				}
			}
		}
	})
}

// unitSections returns the unit names of the fallback message's sections
// ("长葛市（2 项）"), in order, leaving out escalation sections.
func unitSections(r bot.Reply) []string {
	var out []string
	for _, s := range r.Sections {
		if i := strings.Index(s.Heading, "（"); i > 0 && !strings.HasPrefix(s.Heading, "逾期督办") {
			out = append(out, s.Heading[:i])
		}
	}
	return out
}

// TestFallbackOneMessagePerPass: units with nobody bound get their
// reminders through the fallback channel, all of them in one message per
// pass, a section per unit, never a unit that can be reached directly.
func TestFallbackOneMessagePerPass(t *testing.T) {
	counties := []string{"长葛市", "襄城县", "魏都区", "建安区", "鄢陵县", "城乡一体化示范区", "经济技术开发区", "东城区"}
	b := trackedBot(t, "2021-08-25")
	for _, tt := range []struct {
		day   string
		units []string // in the fallback message, any order
	}{
		{"2021-09-23", append([]string{"市农业农村局", "市自然资源和规划局", "市公安局"}, counties...)},
		// Nudges only: the city bureaus holding 共性2 or 共性15 as well.
		{"2021-09-24", append([]string{"市发改委", "市工信局", "市生态环境局", "市城管局"}, counties...)},
		{"2021-09-25", nil}, // Saturday
		// Escalations to posts nobody holds join the same message; so does
		// 市生态环境局's 30-day step of 共性17 (10-31), which this first pass
		// since 09-24 catches up on.
		{"2021-10-18", append([]string{"市农业农村局", "市自然资源和规划局", "市公安局", "市生态环境局"}, counties...)},
	} {
		msgs := runDay(t, b, tt.day, policy())
		var fb []bot.Planned
		for _, m := range msgs {
			if m.Notice.Channel == "C_DUCHA" || m.To.Kind == "channel" {
				fb = append(fb, m)
			}
		}
		if tt.units == nil {
			if len(fb) != 0 {
				t.Errorf("%s: %d fallback messages; want none", tt.day, len(fb))
			}
			continue
		}
		if len(fb) != 1 {
			t.Fatalf("%s: %d fallback messages; want 1", tt.day, len(fb))
		}
		r := fb[0].Notice.Reply
		got := unitSections(r)
		if diff := cmp.Diff(tt.units, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("%s: fallback sections (-want +got):\n%s", tt.day, diff)
		}
		mustContain(t, tt.day+" fallback title", r.Title, "未配置频道或成员")
		if !strings.Contains(r.Title, "】"+strconv.Itoa(len(got))+" 个单位") {
			t.Errorf("%s: title %q; want it to count the %d units", tt.day, r.Title, len(got))
		}
		for _, c := range fb[0].Covers {
			f := strings.Split(c, "|")
			if u := f[0]; !slices.Contains(got, u) && !(f[3] == "escalate" && strings.Contains(r.Text(), "【逾期督办："+u+"（")) {
				t.Errorf("%s: the fallback message covers %s but has no section for %s", tt.day, c, u)
			}
		}
		if tt.day == "2021-10-18" {
			section(t, r, "逾期督办：市政府分管水利副市长")
		}
	}
}

// TestFinishedShareNotReminded: a unit is reminded of its own open shares
// only. Reported (awaiting review), confirmed and not-concerned shares are
// left alone; a share sent back is open again.
func TestFinishedShareNotReminded(t *testing.T) {
	report71 := action{"2021-09-28", "U_YUZHOU", "progress 7 完成 1 排查台账 https://example.gov.cn/yz7.xlsx"}
	for _, tt := range []struct {
		name    string
		actions []action
		day     string
		not     []string // facts that must be absent
		want    []string // and present
	}{
		{"reported, ahead", []action{report71}, "2021-09-29",
			[]string{"禹州市|共性7|1|d1"}, []string{"禹州市|共性8|1|d1", "长葛市|共性7|1|d1"}},
		{"reported, overdue", []action{report71}, "2021-10-08",
			[]string{"禹州市|共性7|1|overdue"}, []string{"禹州市|共性8|1|overdue", "禹州市|共性5|1|overdue", "长葛市|共性7|1|overdue"}},
		{"confirmed", []action{report71, {"2021-09-29", "U_SUP", "task 7 确认 1 禹州市"}}, "2021-10-08",
			[]string{"禹州市|共性7|1|overdue"}, []string{"长葛市|共性7|1|overdue"}},
		{"sent back", []action{report71, {"2021-09-29", "U_SUP", "task 7 退回 1 禹州市 佐证不足"}}, "2021-10-08",
			nil, []string{"禹州市|共性7|1|overdue"}},
		{"not concerned, nudge", []action{{"2021-09-20", "U_SUP", "task 2 不涉及 禹州市 职责不涉及"}}, "2021-09-27",
			[]string{"禹州市|共性2|0|nudge"}, []string{"禹州市|共性15|0|nudge", "长葛市|共性2|0|nudge"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := trackedBot(t, "2021-08-25")
			for _, a := range tt.actions {
				if out, r := say(t, b, a.day, a.user, a.text); r.Error {
					t.Fatalf("%s as %s = %q", a.text, a.user, out)
				}
			}
			plan, err := b.PlanReminders(context.Background(), pass(t, tt.day), policy())
			if err != nil {
				t.Fatal(err)
			}
			got := coverSet(plan.Messages)
			for _, f := range tt.not {
				if got[f] {
					t.Errorf("%s: reminded of %s", tt.day, f)
				}
			}
			for _, f := range tt.want {
				if !got[f] {
					t.Errorf("%s: no %s", tt.day, f)
				}
			}
		})
	}
}

// action is something a person says on a day.
type action struct{ day, user, text string }

// TestWeeklyOverdueDay: overdue shares go out once a week, on
// OverdueWeekday or, when that is a day off, the next working day of the
// week; each unit's message lists every overdue share it holds, with the
// days overdue.
func TestWeeklyOverdueDay(t *testing.T) {
	wed := policy()
	wed.OverdueWeekday = time.Wednesday
	for _, tt := range []struct {
		name        string
		p           bot.RemindPolicy
		first, last string
		want        []string // the days with overdue lists
	}{
		{"National Day week", policy(), "2021-10-04", "2021-10-19", []string{"2021-10-08", "2021-10-11", "2021-10-18"}},
		{"New Year's Monday", policy(), "2021-12-27", "2022-01-11", []string{"2021-12-27", "2022-01-04", "2022-01-10"}},
		{"Wednesdays", wed, "2021-10-04", "2021-10-21", []string{"2021-10-08", "2021-10-13", "2021-10-20"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := trackedBot(t, "2021-08-25")
			var got []string
			for _, day := range days(t, tt.first, tt.last) {
				if slices.Contains(stepsOnly(factsOf(runDay(t, b, day, tt.p))), "overdue") {
					got = append(got, day)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("days with overdue lists (-want +got):\n%s", diff)
			}
		})
	}

	// Every overdue share of the unit, with its days overdue.
	b := trackedBot(t, "2021-08-25")
	msgs := runDay(t, b, "2021-11-01", policy())
	yz := messageTo(t, msgs, bot.Recipient{Kind: "unit", Name: "禹州市"})
	s := section(t, yz.Notice.Reply, "逾期未完成（每周汇总）")
	var lines []string
	for _, it := range s.Items {
		lines = append(lines, strings.SplitN(it.Text, "：", 2)[0])
	}
	want := []string{
		"共性5 节点1 2021-09-30 已逾期 32 天", "共性7 节点1 2021-09-30 已逾期 32 天", "共性8 节点1 2021-09-30 已逾期 32 天",
		"共性5 节点2 2021-10-31 已逾期 1 天", "共性9 节点1 2021-10-31 已逾期 1 天", "共性10 节点1 2021-10-31 已逾期 1 天", "共性17 节点1 2021-10-31 已逾期 1 天",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("禹州市's overdue section on 2021-11-01 (-want +got):\n%s", diff)
	}
	mustContain(t, "禹州市's title", yz.Notice.Reply.Title, "【整改提醒】禹州市：逾期未完成（每周汇总） 7 项")
}

// TestOnePassPerDay: the first pass of a day sends at most one message per
// recipient; a second pass the same day sends nothing, and plans nothing.
func TestOnePassPerDay(t *testing.T) {
	ctx := context.Background()
	b := trackedBot(t, "2021-08-25")
	for _, day := range []string{"2021-09-23", "2021-09-24", "2021-09-30", "2021-10-08", "2021-10-18", "2021-11-01", "2021-12-31"} {
		first := runDay(t, b, day, policy())
		if len(first) == 0 {
			t.Errorf("%s: the first pass sent nothing", day)
		}
		oncePerRecipient(t, day, first)
		again, err := b.RunReminders(ctx, pass(t, day).Add(6*time.Hour), policy())
		if err != nil || len(again) != 0 {
			t.Errorf("%s: a second pass sent %d messages (%v); want none", day, len(again), err)
		}
		plan, err := b.PlanReminders(ctx, testenv.At(t, day+" 23:59"), policy())
		if err != nil || len(plan.Steps)+len(plan.Messages) != 0 {
			t.Errorf("%s: late that day a pass plans %d steps and %d messages (%v); want none", day, len(plan.Steps), len(plan.Messages), err)
		}
	}
}
