package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestRank: fewest overdue shares first, then fewest days overdue, then the
// highest on-time rate, then the name; whatever the input order.
func TestRank(t *testing.T) {
	in := []storage.ShareTally{
		{Unit: "丙", Assigned: 10, Overdue: 1, DaysOverdue: 5, ConfirmedOnTime: 5},
		{Unit: "甲", Assigned: 10, Overdue: 0, DaysOverdue: 0, ConfirmedOnTime: 2},
		{Unit: "乙", Assigned: 10, Overdue: 0, DaysOverdue: 0, ConfirmedOnTime: 8},
		{Unit: "丁", Assigned: 10, Overdue: 1, DaysOverdue: 3, ConfirmedOnTime: 0},
		{Unit: "戊", Assigned: 10, Overdue: 1, DaysOverdue: 3, ConfirmedOnTime: 0},
	}
	want := []string{"乙", "甲", "丁", "戊", "丙"}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		var ts []storage.ShareTally
		for _, i := range order {
			ts = append(ts, in[i])
		}
		got := bot.Rank(ts)
		for i, u := range got {
			if u.Unit != want[i] || u.Rank != i+1 {
				t.Errorf("Rank(order %v)[%d] = %s #%d; want %s #%d", order, i, u.Unit, u.Rank, want[i], i+1)
			}
		}
	}
	if got := bot.Bar(0.6); got != "██████░░░░ 60%" {
		t.Errorf("Bar(0.6) = %q", got)
	}
}

// TestStatsScenario: after a scripted set of reports and decisions the
// counties rank as the rule says, and the replies read as the golden files.
func TestStatsScenario(t *testing.T) {
	b := shareBot(t)
	// 长葛市 and 禹州市 finish task 7's first milestone (禹州市 late);
	// 鄢陵县 is not concerned; the others stay overdue.
	say(t, b, "2021-09-20", "U0000LS01", "progress 7 完成 1 长葛市台账 https://example.gov.cn/cg")
	say(t, b, "2021-09-28", "U0000SUP1", "task 7 确认 1 长葛市")
	say(t, b, "2021-10-02", "U0000YZ01", "progress 7 完成 1 禹州市台账")
	say(t, b, "2021-10-08", "U0000SUP1", "task 7 确认 1 禹州市")
	say(t, b, "2021-10-08", "U0000SUP1", "task 7 不涉及 1 鄢陵县 无计划用水户")
	st, err := b.Statistics(context.Background(), testenv.At(t, "2021-10-11 09:00"), storage.StatsFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rank := map[string]bot.UnitRank{}
	for _, u := range st.Units {
		rank[u.Unit] = u
	}
	cg, yz, yl, wd := rank["长葛市"], rank["禹州市"], rank["鄢陵县"], rank["魏都区"]
	if cg.ConfirmedOnTime != 1 || yz.ConfirmedLate != 1 || yl.NA != 1 {
		t.Errorf("长葛市 on time %d, 禹州市 late %d, 鄢陵县 NA %d; want 1, 1, 1", cg.ConfirmedOnTime, yz.ConfirmedLate, yl.NA)
	}
	// 长葛市 and 鄢陵县 have one overdue share fewer than 魏都区 (task 8).
	if !(cg.Rank < wd.Rank && yl.Rank < wd.Rank) || cg.Overdue != 1 || wd.Overdue != 2 {
		t.Errorf("ranks 长葛市 #%d (%d overdue), 鄢陵县 #%d, 魏都区 #%d (%d overdue); want the first two ahead",
			cg.Rank, cg.Overdue, yl.Rank, wd.Rank, wd.Overdue)
	}
	if st.Overview.DoneOnTime != 0 || st.Overview.Overdue != 3 || st.EntriesThisWeek != 0 {
		t.Errorf("overview = %+v, entries this week %d", st.Overview, st.EntriesThisWeek)
	}
	for _, c := range []struct{ text, file string }{
		{"stats 各县（市、区）", "stats_counties.golden"},
		{"stats 长葛市", "stats_unit.golden"},
		{"stats 7", "stats_task.golden"},
	} {
		out, r := say(t, b, "2021-10-11", "U0000SUP1", c.text)
		if r.Error {
			t.Fatalf("%s = %q", c.text, out)
		}
		golden(t, c.file, []byte(out))
	}
	out, _ := say(t, b, "2021-10-11", "U0000SUP1", "统计")
	mustContain(t, "统计", out, "任务 24 项", "待督查室确认的分工 0 个", "单位排名", bot.RankingRule)
	if strings.Count(out, "\n") > 70 {
		t.Errorf("stats has %d lines", strings.Count(out, "\n"))
	}
}

// TestReportOncePerWeek: the weekly report says what changed, ranks the
// counties, lists the red list, attaches the ledger, and is queued once
// a week, never on a day off.
func TestReportOncePerWeek(t *testing.T) {
	b := shareBot(t)
	say(t, b, "2021-10-12", "U0000LS01", "progress 7 完成 1 长葛市台账 https://example.gov.cn/cg")
	say(t, b, "2021-10-13", "U0000SUP1", "task 7 确认 1 长葛市")
	say(t, b, "2021-10-14", "U0000SUP1", "task 5 销号 1") // confirms every share of it at once
	p := bot.DefaultReportPolicy()
	p.Channel = "C_REPORT"
	r, err := b.Report(context.Background(), testenv.At(t, "2021-10-18 09:30"), p)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "report", r.Text(), "2021-10-11 至 2021-10-17", "新确认完成的单位分工 4 个", "报送进展 1 条：长葛市 1",
		"各县（市、区）排名", "红榜：逾期超过 14 天", "共性8", bot.RankingRule)
	ctx := context.Background()
	if got, err := b.QueueReport(ctx, testenv.At(t, "2021-10-16 09:30"), p); err != nil || got != bot.ReportDayOff {
		t.Errorf("QueueReport(Saturday) = %v, %v; want ReportDayOff", got, err)
	}
	if got, err := b.QueueReport(ctx, testenv.At(t, "2021-10-18 09:30"), p); err != nil || got != bot.ReportQueued {
		t.Errorf("QueueReport(Monday) = %v, %v; want ReportQueued", got, err)
	}
	if got, err := b.QueueReport(ctx, testenv.At(t, "2021-10-19 09:30"), p); err != nil || got != bot.ReportAlreadyQueued {
		t.Errorf("QueueReport(Tuesday, same week) = %v, %v; want ReportAlreadyQueued", got, err)
	}
	// The post, then the ledger as a message of its own: a failed upload
	// is retried without posting the report twice.
	var sent []bot.Notice
	fail := true
	send := func(_ context.Context, n bot.Notice) error {
		if n.LedgerOnly && fail {
			fail = false
			return errors.New("upload failed")
		}
		sent = append(sent, n)
		return nil
	}
	c, err := b.SendQueued(ctx, "test", send)
	if err != nil || c.Sent != 1 || c.Failed != 1 || len(sent) != 1 || sent[0].Channel != "C_REPORT" || sent[0].LedgerOnly {
		t.Fatalf("first send: %+v, %+v (%v); want the report posted to C_REPORT and the ledger failed", c, sent, err)
	}
	b.Store.Clock.Wall = func() time.Time { return time.Now().Add(time.Hour) } // past the retry backoff
	c, err = b.SendQueued(ctx, "test", send)
	if err != nil || c.Sent != 1 || len(sent) != 2 || !sent[1].LedgerOnly || sent[1].Ledger != "2021-10-18" {
		t.Errorf("retry: %+v, %+v (%v); want only the ledger as of 2021-10-18, the report not posted again", c, sent, err)
	}
}

// TestStatsCacheSeesEveryWrite: statistics are cached under the database's
// data version; a write through this bot, or through a second Store on the
// same file (another process), is visible on the very next question.
func TestStatsCacheSeesEveryWrite(t *testing.T) {
	path := t.TempDir() + "/shared.db"
	store := testenv.Store(t, testenv.Path(path), testenv.Units(storage.UnitSpec{Name: "各县（市、区）", Members: counties}),
		testenv.People(storage.PeopleSpec{Supervisors: []storage.PersonRef{{SlackID: "U0000SUP1"}}}))
	b := bot.New(store, nil)
	ctx := context.Background()
	now := testenv.At(t, "2021-10-11 09:00")
	na := func() int {
		t.Helper()
		st, err := b.Statistics(ctx, now, storage.StatsFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, u := range st.Units {
			n += u.NA
		}
		return n
	}
	if got := na(); got != 0 {
		t.Fatalf("not concerned = %d; want 0", got)
	}
	na() // cached
	if r := b.Handle(ctx, bot.Request{Text: "task 7 不涉及 1 鄢陵县 无", User: "U0000SUP1", Now: now}); r.Error {
		t.Fatal(r.Title)
	}
	if got := na(); got != 1 {
		t.Errorf("after this bot's write: not concerned = %d; want 1", got)
	}
	other, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	t7, err := other.FindTask(ctx, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	units, _ := other.UnitNames(ctx)
	var yl uint
	for _, u := range units {
		if u.Name == "禹州市" {
			yl = u.UnitID
		}
	}
	if _, err := other.MarkNotConcerned(ctx, t7.ID, 1, yl, "另一进程", storage.Actor{ID: "U0000SUP1"}); err != nil {
		t.Fatal(err)
	}
	if got := na(); got != 2 {
		t.Errorf("after another store's write: not concerned = %d; want 2", got)
	}
}
