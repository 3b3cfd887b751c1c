package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/config"
	"taskbot/internal/testenv"
	"taskbot/scheduler"
	"taskbot/storage"
)

// oldFact is a (unit, task, milestone, step) the reminder policy before
// issue 11 reached, and the day it did.
type oldFact struct {
	unit, code string
	seq        int
	step       string // d30 … d0, o1, o2 …
	day        storage.Date
}

// oldPolicyFacts is the reference for the policy before issue 11, from the
// store as it stands (no progress is made in the range): for every open
// milestone and every unit holding its task (collectives replaced by their
// members) whose share is open, the steps d<offset> ahead of the due date
// moved to the working day before a day off (between steps moved to the
// same day, the later one), and the steps o<k> every 7 days after the due
// date (moved to the working day before, or after when that would not be
// past the due date), on the days in [first, last].
func oldPolicyFacts(t *testing.T, b *bot.Bot, p bot.RemindPolicy, first, last storage.Date) []oldFact {
	t.Helper()
	ctx := context.Background()
	ms, _, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	var taskIDs, mids []uint
	for _, m := range ms {
		taskIDs = append(taskIDs, m.TaskID)
		mids = append(mids, m.ID)
	}
	links, err := b.Store.UnitLinks(ctx, taskIDs)
	if err != nil {
		t.Fatal(err)
	}
	unsettled, err := b.Store.UnsettledShares(ctx, mids)
	if err != nil {
		t.Fatal(err)
	}
	cal := p.Calendar
	inRange := func(d storage.Date) bool { return !d.Before(first) && !last.Before(d) }
	var out []oldFact
	for _, m := range ms {
		var steps []oldFact
		// Ahead: the latest nominal step of each fire day.
		byDay := map[storage.Date]int{} // fire day → smallest offset
		for _, off := range p.Offsets {
			fire := bot.OnOrBeforeWorking(cal, m.Due.AddDays(-off))
			if cur, ok := byDay[fire]; !ok || off < cur {
				byDay[fire] = off
			}
		}
		for fire, off := range byDay {
			if inRange(fire) {
				steps = append(steps, oldFact{step: fmt.Sprintf("d%d", off), day: fire})
			}
		}
		for k := 1; !last.Before(m.Due.AddDays(7*k - 14)); k++ {
			nominal := m.Due.AddDays(7 * k)
			fire := bot.OnOrBeforeWorking(cal, nominal)
			if !m.Due.Before(fire) {
				fire = bot.OnOrAfterWorking(cal, nominal)
			}
			if inRange(fire) {
				steps = append(steps, oldFact{step: fmt.Sprintf("o%d", k), day: fire})
			}
		}
		us, has := unsettled[m.ID]
		seen := map[uint]bool{}
		for _, u := range links[m.TaskID] {
			if u.Collective || seen[u.UnitID] || has && !us[u.UnitID] {
				continue
			}
			seen[u.UnitID] = true
			for _, s := range steps {
				s.unit, s.code, s.seq = u.Unit, m.Code, m.Seq
				out = append(out, s)
			}
		}
	}
	return out
}

// mondayOf is the Monday of d's week.
func mondayOf(d storage.Date) storage.Date {
	return d.AddDays(-((int(d.Weekday()) + 6) % 7))
}

// TestReminderNumbers is issue 11's "Numbers": the scheduler's passes of
// every day from 2021-08-25 to 2022-01-11 (reminders and digest at 09:00
// in Asia/Shanghai) on the seed with the example organisation file and no
// progress, simulated. Before issue 11 this range sent 598 messages on 38
// send days. The same checks run with people bound as well (a unit
// channel, a unit member, a leader post holder), so that units and
// leaders are messaged directly rather than all through the fallback
// channel.
func TestReminderNumbers(t *testing.T) {
	t.Run("example organisation", func(t *testing.T) {
		org, err := config.LoadFile("")
		if err != nil {
			t.Fatal(err)
		}
		if total := checkNumbers(t, testenv.People(org.PeopleSpec())); total >= 100 {
			t.Errorf("%d messages (digests aside); want fewer than 100 (598 before issue 11)", total)
		}
	})
	t.Run("people bound", func(t *testing.T) {
		checkNumbers(t, remindOrg(t)[1])
	})
}

// checkNumbers simulates the range on the seed with the example
// organisation's units and people, checks issue 11's numbers and returns
// the number of messages other than digests.
func checkNumbers(t *testing.T, people testenv.Option) int {
	ctx := context.Background()
	const from, to = "2021-08-25", "2022-01-11"
	// Seeded on the first day, as `remind --from` does on a new database.
	b := bot.New(testenv.Store(t, testenv.Units(shippedUnits(t)...), people, testenv.AsOf(testenv.At(t, from+" 09:00"))), nil)
	loc := testenv.Shanghai(t)
	first, last := testenv.Date(t, from), testenv.Date(t, to)
	passes, err := scheduler.Times("TASKBOT_REMIND_CRON", config.DefaultRemindCron, first.In(loc), last.AddDays(1).In(loc), loc)
	if err != nil {
		t.Fatal(err)
	}
	digests, err := scheduler.Times("TASKBOT_DIGEST_CRON", config.DefaultDigestCron, first.In(loc), last.AddDays(1).In(loc), loc)
	if err != nil {
		t.Fatal(err)
	}
	if n := first.DaysUntil(last) + 1; len(passes) != n || len(digests) != n {
		t.Fatalf("%d passes and %d digests; want one of each on each of the %d days", len(passes), len(digests), n)
	}
	p := policy()
	dp := bot.DefaultDigestPolicy()
	dp.Channel = "C_DIGEST"
	msgs, err := b.SimulateReminders(ctx, passes, digests, p, dp)
	if err != nil {
		t.Fatal(err)
	}

	cal := bot.ChinaCalendar{}
	type dayTo struct {
		day storage.Date
		to  bot.Recipient
	}
	perDayTo := map[dayTo]int{}
	fallbackPerDay := map[storage.Date]int{}
	byType := map[string]int{}
	byToKind := map[string]int{}
	byTo := map[bot.Recipient]int{}
	sendDays := map[storage.Date]bool{}
	total, digestN := 0, 0
	// new facts: "unit|code|seq|step" → the days it was reached on.
	reached := map[string][]storage.Date{}
	for _, m := range msgs {
		if !cal.Working(m.Date) {
			t.Errorf("%s (a day off): a %s message to %v", m.Date, m.Type, m.To)
		}
		if m.Date.Before(first) || last.Before(m.Date) {
			t.Errorf("a message on %s, outside the range", m.Date)
		}
		if m.Type == bot.KindDigest {
			digestN++
			continue
		}
		total++
		byType[previewType(m)]++
		sendDays[m.Date] = true
		byToKind[m.To.Kind]++
		byTo[m.To]++
		if perDayTo[dayTo{m.Date, m.To}]++; perDayTo[dayTo{m.Date, m.To}] == 2 {
			t.Errorf("%s: more than one message to %v", m.Date, m.To)
		}
		if m.To == (bot.Recipient{Kind: "channel", Name: p.Fallback}) {
			if fallbackPerDay[m.Date]++; fallbackPerDay[m.Date] == 2 {
				t.Errorf("%s: more than one message in the fallback channel in one pass", m.Date)
			}
		}
		for _, c := range m.Covers {
			reached[c] = append(reached[c], m.Date)
		}
		coversShown(t, m.Date.String(), []bot.Planned{{Notice: m.Notice, Covers: m.Covers, To: m.To}})
	}

	// Coverage: every (unit, task, milestone, step) the old policy reached
	// is still reached.
	old := oldPolicyFacts(t, b, p, first, last)
	if len(old) == 0 {
		t.Fatal("the old policy's reference reached nothing")
	}
	lost := 0
	for _, f := range old {
		key := func(step string) string { return fmt.Sprintf("%s|%s|%d|%s", f.unit, f.code, f.seq, step) }
		var ok bool
		if f.step[0] == 'd' {
			// The same step, the same day.
			for _, d := range reached[key(f.step)] {
				ok = ok || d == f.day
			}
		} else {
			// The weekly overdue list, in that week or later.
			for _, d := range reached[key("overdue")] {
				ok = ok || !d.Before(mondayOf(f.day))
			}
		}
		if !ok {
			if lost++; lost <= 20 {
				t.Errorf("old step %s|%s|%d|%s on %s is not reached (new days: %v)", f.unit, f.code, f.seq, f.step, f.day, reached[key(f.step)])
			}
		}
	}
	// Nudges: every unit silent 30 days on a task in the range is nudged.
	silences, err := b.Store.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[uint]string{}
	var ids []uint
	for _, s := range silences {
		ids = append(ids, s.TaskID)
	}
	links, err := b.Store.UnitLinks(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, ls := range links {
		for _, l := range ls {
			names[l.UnitID] = l.Unit
		}
	}
	nudged := 0
	for _, s := range silences {
		due := b.Clock().Day(s.Since).AddDays(p.NudgeAfter)
		if last.Before(due) {
			continue
		}
		k := fmt.Sprintf("%s|%s|0|nudge", names[s.UnitID], s.Code)
		var ok bool
		for _, d := range reached[k] {
			ok = ok || !d.Before(due)
		}
		if !ok {
			t.Errorf("%s silent since %s: never nudged in the range", k, b.Clock().Day(s.Since))
		}
		nudged++
	}
	if nudged == 0 {
		t.Error("no unit is silent 30 days in the range: the nudge check checked nothing")
	}

	// The figures.
	var busiest bot.Recipient
	for r, n := range byTo {
		if n > byTo[busiest] || n == byTo[busiest] && r.Name < busiest.Name {
			busiest = r
		}
	}
	var types []string
	for _, k := range []string{"ahead", "due", "overdue", "nudge", "escalation"} {
		types = append(types, fmt.Sprintf("%s %d", k, byType[k]))
	}
	t.Logf("%s → %s: %d messages (digests aside; %d digests) on %d send days; by type: %s; by recipient: unit %d, user %d, channel %d; "+
		"busiest: %s (%s) %d; old-policy steps checked %d, silent unit-tasks checked %d",
		first, last, total, digestN, len(sendDays), strings.Join(types, ", "), byToKind["unit"], byToKind["user"], byToKind["channel"],
		busiest.Name, busiest.Kind, byTo[busiest], len(old), nudged)
	return total
}

// previewType is what `remind --json` calls a message: an escalation, or
// the most urgent of what a reminder carries (overdue, due, ahead, nudge).
func previewType(m bot.SimMessage) string {
	if m.Type == bot.KindEscalation {
		return "escalation"
	}
	best, rank := "nudge", map[string]int{"nudge": 1, "ahead": 2, "due": 3, "overdue": 4}
	for _, c := range m.Covers {
		t := "ahead"
		switch step := c[strings.LastIndexByte(c, '|')+1:]; step {
		case "nudge", "overdue":
			t = step
		case "d0":
			t = "due"
		}
		if rank[t] > rank[best] {
			best = t
		}
	}
	return best
}
