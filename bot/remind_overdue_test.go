package bot_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
	"taskbot/storage/synth"
)

// TestWeeklyOverdueCounted: on a list where every county is behind on
// hundreds of milestones, the weekly pass's messages count every overdue
// share and show the first MaxItems, most overdue first; the escalations
// count every milestone overdue 14 days or more of their posts' tasks.
// The planner reads each unit's count and first lines only; the expected
// messages here are worked out from every open share and milestone.
func TestWeeklyOverdueCounted(t *testing.T) {
	ctx := context.Background()
	var people storage.PeopleSpec
	for i, c := range synth.Counties {
		people.Units = append(people.Units, storage.UnitPeople{Unit: c, Channel: fmt.Sprintf("C_COUNTY%d", i)})
	}
	// One person holds two posts; the 水利 post has nobody.
	changwu := storage.PersonRef{SlackID: "U_CHANGWU", Name: "常务"}
	people.Leaders = map[string][]storage.PersonRef{"市政府常务副市长": {changwu}, "市政府分管生态环境副市长": {changwu}}
	store := testenv.Store(t, testenv.Tasks(synth.Tasks(800, 7, synth.Sentences(string(seeds.Xuchang()))), "synthetic"),
		testenv.Units(synth.Specs()...), testenv.People(people))
	b := bot.New(store, nil)
	now := testenv.At(t, "2022-06-15 09:00") // a Wednesday: the week's overdue lists are due
	today := testenv.Date(t, "2022-06-15")
	p := policy()
	plan, err := b.PlanReminders(ctx, now, p)
	if err != nil {
		t.Fatal(err)
	}

	// Every open milestone, and every open share of one.
	type milestone struct {
		id, task uint
		seq      int
		due      storage.Date
		code     string
	}
	open := map[uint]milestone{}
	var all []milestone
	rows, err := store.DB().Raw(`SELECT m.id, m.task_id, m.seq, m.due, t.code FROM milestones m JOIN tasks t ON t.id = m.task_id
		WHERE m.open`).Rows()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m milestone
		if err := rows.Scan(&m.id, &m.task, &m.seq, &m.due, &m.code); err != nil {
			t.Fatal(err)
		}
		open[m.id] = m
		all = append(all, m)
	}
	rows.Close()
	byReminder := func(a, b milestone) int {
		return cmp.Or(strings.Compare(a.due.String(), b.due.String()), cmp.Compare(a.task, b.task), cmp.Compare(a.seq, b.seq))
	}
	slices.SortFunc(all, byReminder)
	line := func(m milestone) string { return fmt.Sprintf("%s 节点%d %s", m.code, m.seq, m.due) }
	behind := map[string][]milestone{} // unit name → its overdue shares
	rows, err = store.DB().Raw(`SELECT s.milestone_id, u.name FROM shares s JOIN units u ON u.id = s.unit_id
		WHERE s.state = 'open' AND NOT s.retired AND NOT s.task_closed AND s.milestone_id <> 0`).Rows()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uint
		var unit string
		if err := rows.Scan(&id, &unit); err != nil {
			t.Fatal(err)
		}
		if m, ok := open[id]; ok && m.due.Before(today) {
			behind[unit] = append(behind[unit], m)
		}
	}
	rows.Close()
	firstLines := func(ms []milestone) []string {
		var out []string
		for _, m := range ms[:min(len(ms), bot.MaxItems)] {
			out = append(out, line(m))
		}
		return out
	}
	shown := func(s bot.Section) []string {
		var out []string
		for _, it := range s.Items {
			f := strings.Fields(it.Text)
			out = append(out, strings.Join(f[:min(3, len(f))], " "))
		}
		return out
	}

	for _, county := range synth.Counties {
		ms := behind[county]
		slices.SortFunc(ms, byReminder)
		if len(ms) <= bot.MaxItems {
			t.Fatalf("%s is behind on %d shares; the test wants more than %d", county, len(ms), bot.MaxItems)
		}
		m := messageTo(t, plan.Messages, bot.Recipient{Kind: "unit", Name: county})
		s := section(t, m.Notice.Reply, "逾期未完成（每周汇总）")
		if want := fmt.Sprintf("逾期未完成（每周汇总）（%d 项）", len(ms)); s.Heading != want {
			t.Errorf("%s's overdue section is %q; want %q", county, s.Heading, want)
		}
		mustContain(t, county+"'s title", m.Notice.Reply.Title, fmt.Sprintf("逾期未完成（每周汇总） %d 项", len(ms)))
		if got, want := shown(s), firstLines(ms); !slices.Equal(got, want) {
			t.Errorf("%s's overdue section shows\n%v\nwant the most overdue first\n%v", county, got, want)
		}
		if s.More != len(ms)-bot.MaxItems {
			t.Errorf("%s's overdue section has %d more; want %d", county, s.More, len(ms)-bot.MaxItems)
		}
	}
	coversShown(t, "2022-06-15", plan.Messages)

	// Escalations: the tasks of a holder's posts, each task's milestones
	// overdue 14 days or more together, the tasks by their most overdue.
	posts := map[uint][]string{}
	rows, err = store.DB().Raw(`SELECT task_id, post FROM leaders`).Rows()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uint
		var post string
		if err := rows.Scan(&id, &post); err != nil {
			t.Fatal(err)
		}
		posts[id] = append(posts[id], post)
	}
	rows.Close()
	escalated := func(held ...string) []milestone {
		var order []uint
		byTask := map[uint][]milestone{}
		for _, m := range all {
			if m.due.DaysUntil(today) < p.EscalateAfter || !slices.ContainsFunc(posts[m.task], func(p string) bool { return slices.Contains(held, p) }) {
				continue
			}
			if byTask[m.task] == nil {
				order = append(order, m.task)
			}
			byTask[m.task] = append(byTask[m.task], m)
		}
		var out []milestone
		for _, id := range order {
			out = append(out, byTask[id]...)
		}
		return out
	}
	var esc []bot.Planned
	for _, m := range plan.Messages {
		if m.Kind == bot.KindEscalation {
			esc = append(esc, m)
		}
	}
	if len(esc) != 1 || !slices.Equal(esc[0].Notice.UserIDs, []string{"U_CHANGWU"}) {
		t.Fatalf("%d escalations; want one, to U_CHANGWU (two posts, one message)", len(esc))
	}
	ms := escalated("市政府常务副市长", "市政府分管生态环境副市长")
	mustContain(t, "the escalation's title", esc[0].Notice.Reply.Title, fmt.Sprintf("：%d 个节点逾期 14 天以上", len(ms)))
	if s := esc[0].Notice.Reply.Sections[0]; !slices.Equal(shown(s), firstLines(ms)) || s.More != len(ms)-len(s.Items) {
		t.Errorf("the escalation shows %v and %d more; want %v and %d more", shown(s), s.More, firstLines(ms), len(ms)-bot.MaxItems)
	}
	fb := messageTo(t, plan.Messages, bot.Recipient{Kind: "channel", Name: "C_DUCHA"})
	water := escalated("市政府分管水利副市长")
	s := section(t, fb.Notice.Reply, "逾期督办：市政府分管水利副市长（未配置 Slack 账号）")
	if !slices.Equal(shown(s), firstLines(water)) || s.More != len(water)-len(s.Items) {
		t.Errorf("the unheld 水利 post's section shows %v and %d more; want %v and %d more", shown(s), s.More, firstLines(water), len(water)-bot.MaxItems)
	}
	// A bureau with no channel: its section in the fallback message starts
	// with its overdue shares.
	bureau := synth.Bureaus[0]
	ms = behind[bureau]
	slices.SortFunc(ms, byReminder)
	s = section(t, fb.Notice.Reply, bureau+"（")
	if got := shown(s); len(ms) == 0 || !slices.Equal(got[:min(len(got), len(ms))], firstLines(ms)[:min(len(got), len(ms))]) {
		t.Errorf("%s's fallback section shows %v; want its overdue shares first: %v", bureau, got, firstLines(ms))
	}
	if len(s.Items)+s.More < len(ms) {
		t.Errorf("%s's fallback section counts %d lines; want at least its %d overdue shares", bureau, len(s.Items)+s.More, len(ms))
	}
}
