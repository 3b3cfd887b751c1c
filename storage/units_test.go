package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/internal/testenv"
	"taskbot/storage"
)

func TestUnitLinks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.units
	ids := []uint{f.water.ID, f.city.ID, f.house.ID}
	want := map[uint][]storage.UnitLink{
		f.water.ID: {
			{TaskID: f.water.ID, UnitID: u["市生态环境局"], Unit: "市生态环境局", Role: storage.RoleLead},
			{TaskID: f.water.ID, UnitID: u["各县（市、区）"], Unit: "各县（市、区）", Role: storage.RoleResponsible, Collective: true},
			{TaskID: f.water.ID, UnitID: u["长葛市"], Unit: "长葛市", Role: storage.RoleResponsible, ViaID: u["各县（市、区）"]},
			{TaskID: f.water.ID, UnitID: u["禹州市"], Unit: "禹州市", Role: storage.RoleResponsible, ViaID: u["各县（市、区）"]},
		},
		f.city.ID: {{TaskID: f.city.ID, UnitID: u["市城管局"], Unit: "市城管局", Role: storage.RoleLead}},
		f.house.ID: {
			{TaskID: f.house.ID, UnitID: u["市住建局"], Unit: "市住建局", Role: storage.RoleLead},
			{TaskID: f.house.ID, UnitID: u["长葛市"], Unit: "长葛市", Role: storage.RoleResponsible},
		},
	}
	got, err := f.s.UnitLinks(ctx, ids)
	if err != nil {
		t.Fatalf("UnitLinks(%v) error: %v", ids, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnitLinks(%v) mismatch (-want +got):\n%s", ids, diff)
	}
	// Past 1,000 IDs the links are read in one scan and filtered: same
	// answer, and IDs without a task are simply absent.
	many := append([]uint{f.water.ID, f.house.ID}, make([]uint, 1000)...)
	for i := 2; i < len(many); i++ {
		many[i] = uint(10000 + i)
	}
	got, err = f.s.UnitLinks(ctx, many)
	if err != nil {
		t.Fatalf("UnitLinks(%d IDs) error: %v", len(many), err)
	}
	delete(want, f.city.ID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnitLinks(%d IDs) mismatch (-want +got):\n%s", len(many), diff)
	}
	if got, err := f.s.UnitLinks(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("UnitLinks(nil) = %v, %v; want an empty map", got, err)
	}

	names, err := f.s.TaskUnitNames(ctx, ids)
	if err != nil {
		t.Fatalf("TaskUnitNames error: %v", err)
	}
	wantNames := map[uint]map[string][]string{
		f.water.ID: {storage.RoleLead: {"市生态环境局"}, storage.RoleResponsible: {"各县（市、区）"}},
		f.city.ID:  {storage.RoleLead: {"市城管局"}},
		f.house.ID: {storage.RoleLead: {"市住建局"}, storage.RoleResponsible: {"长葛市"}},
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("TaskUnitNames mismatch (-want +got):\n%s", diff)
	}
}

func TestRecipients(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	env, cg := f.units["市生态环境局"], f.units["长葛市"]
	check := func(wantMembers map[uint][]string) {
		t.Helper()
		channels, members, err := f.s.Recipients(ctx)
		if err != nil {
			t.Fatalf("Recipients error: %v", err)
		}
		if diff := cmp.Diff(map[uint]string{env: "C0ENV", cg: "C0CG"}, channels); diff != "" {
			t.Errorf("Recipients channels mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantMembers, members); diff != "" {
			t.Errorf("Recipients members mismatch (-want +got):\n%s", diff)
		}
	}
	// 李四 is known by email only: not reachable yet.
	check(map[uint][]string{env: {"U0WANG"}, cg: {"U0ZHAO"}})
	li, err := f.s.FindPerson(ctx, "li@example.gov.cn")
	if err != nil {
		t.Fatalf("FindPerson(li@example.gov.cn) error: %v", err)
	}
	if err := f.s.SetSlackID(ctx, li.ID, "U0LI"); err != nil {
		t.Fatalf("SetSlackID(李四) error: %v", err)
	}
	check(map[uint][]string{env: {"U0WANG", "U0LI"}, cg: {"U0ZHAO"}})
}

func TestLeaderPostsAndTasks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ids := []uint{f.water.ID, f.city.ID, f.house.ID}
	posts, err := f.s.TaskLeaderPosts(ctx, ids)
	if err != nil {
		t.Fatalf("TaskLeaderPosts(%v) error: %v", ids, err)
	}
	want := map[uint][]string{
		f.water.ID: {"市政府分管生态环境副市长"},
		f.city.ID:  {"市政府分管城建副市长"},
		f.house.ID: {"市政府分管城建副市长"},
	}
	if diff := cmp.Diff(want, posts); diff != "" {
		t.Errorf("TaskLeaderPosts mismatch (-want +got):\n%s", diff)
	}
	if posts, err := f.s.TaskLeaderPosts(ctx, nil); err != nil || len(posts) != 0 {
		t.Errorf("TaskLeaderPosts(nil) = %v, %v; want an empty map", posts, err)
	}
	const city, water = "市政府分管城建副市长", "市政府分管生态环境副市长"
	for _, tt := range []struct {
		query string
		limit int
		rule  storage.LeaderRule
		posts []string
		want  []string
		total int
	}{
		{"城建", 10, storage.LeaderContains, []string{city}, []string{"个性1", "共性2"}, 2}, // dated work first
		{"城建", 1, storage.LeaderContains, []string{city}, []string{"个性1"}, 2},
		{"副市长", 10, storage.LeaderContains, []string{city, water}, []string{"共性1", "个性1", "共性2"}, 3},
		{"分管城建", 10, storage.LeaderPrefix, []string{city}, []string{"个性1", "共性2"}, 2},                // without the organ
		{"市政府分管", 10, storage.LeaderPrefix, []string{city, water}, []string{"共性1", "个性1", "共性2"}, 3}, // with it
		{"市政府分管城建副市长", 10, storage.LeaderWhole, []string{city}, []string{"个性1", "共性2"}, 2},
		{"分管城建副市长", 10, storage.LeaderWhole, []string{city}, []string{"个性1", "共性2"}, 2},
		{"分管 城建 副市长", 10, storage.LeaderWhole, []string{city}, []string{"个性1", "共性2"}, 2},
		{"教育", 10, storage.LeaderNone, nil, nil, 0},
		{"", 10, storage.LeaderNone, nil, nil, 0},
	} {
		m, err := f.s.LeaderTasks(ctx, tt.query, tt.limit)
		if err != nil || m.Rule != tt.rule || !cmp.Equal(m.Posts, tt.posts) || !cmp.Equal(taskCodes(m.Tasks), tt.want) || m.Total != tt.total {
			t.Errorf("LeaderTasks(%q, %d) = %v %v %v, %d, %v; want %v %v %v, %d", tt.query, tt.limit,
				m.Rule, m.Posts, taskCodes(m.Tasks), m.Total, err, tt.rule, tt.posts, tt.want, tt.total)
		}
	}
	lp, err := f.s.LeaderPosts(ctx)
	if diff := cmp.Diff([]storage.LeaderPost{{Post: city, Tasks: 2}, {Post: water, Tasks: 1}}, lp); err != nil || diff != "" {
		t.Errorf("LeaderPosts = %v, %v; want most tasks first (-want +got):\n%s", lp, err, diff)
	}
	holders, err := f.s.LeaderHolders(ctx)
	if err != nil || len(holders["市政府分管城建副市长"]) != 1 || holders["市政府分管城建副市长"][0].SlackID != "U0LEAD" {
		t.Errorf("LeaderHolders = %v, %v; want U0LEAD for 市政府分管城建副市长", holders, err)
	}
}

func TestUnitQueries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.units
	members, memberOf, err := f.s.Collectives(ctx)
	if err != nil {
		t.Fatalf("Collectives error: %v", err)
	}
	if diff := cmp.Diff(map[string][]string{"各县（市、区）": {"长葛市", "禹州市"}}, members); diff != "" {
		t.Errorf("Collectives members mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"长葛市": {"各县（市、区）"}, "禹州市": {"各县（市、区）"}}, memberOf); diff != "" {
		t.Errorf("Collectives memberOf mismatch (-want +got):\n%s", diff)
	}

	// 长葛市 is responsible for 个性1 directly and for 共性1 through the
	// collective; dated work first, the soonest due first.
	ts, total, err := f.s.UnitTasks(ctx, u["长葛市"], storage.RoleResponsible, 10)
	if err != nil || !cmp.Equal(taskCodes(ts), []string{"共性1", "个性1"}) || total != 2 {
		t.Fatalf("UnitTasks(长葛市, responsible, 10) = %v, %d, %v; want [共性1 个性1], 2", taskCodes(ts), total, err)
	}
	if ts[0].Via != "各县（市、区）" || ts[1].Via != "" {
		t.Errorf("UnitTasks(长葛市) via = %q, %q; want 各县（市、区）, \"\"", ts[0].Via, ts[1].Via)
	}
	if next := ts[0].Next(); next == nil || next.Due != storage.NewDate(2021, 12, 31) {
		t.Errorf("UnitTasks(长葛市)[0].Next() = %+v; want the 2021-12-31 milestone", next)
	}
	if ts, total, err := f.s.UnitTasks(ctx, u["长葛市"], storage.RoleLead, 10); err != nil || len(ts) != 0 || total != 0 {
		t.Errorf("UnitTasks(长葛市, lead, 10) = %v, %d, %v; want none", taskCodes(ts), total, err)
	}

	stats, err := f.s.UnitStats(ctx, storage.NewDate(2022, 1, 1), 0)
	if err != nil {
		t.Fatalf("UnitStats error: %v", err)
	}
	byName := map[string]storage.UnitStat{}
	for _, st := range stats {
		byName[st.Name] = st
	}
	if got, want := byName["长葛市"], (storage.UnitStat{UnitID: u["长葛市"], Name: "长葛市", Responsible: 2, ViaResp: 1, Overdue: 1}); got != want {
		t.Errorf("UnitStats(2022-01-01)[长葛市] = %+v; want %+v", got, want)
	}
	if got := byName["各县（市、区）"]; !got.Collective || got.Responsible != 1 {
		t.Errorf("UnitStats(2022-01-01)[各县（市、区）] = %+v; want a collective responsible for 1", got)
	}
	if len(stats) != len(u) || stats[0].Overdue < stats[len(stats)-1].Overdue {
		t.Errorf("UnitStats(2022-01-01) = %d units, most overdue %d first; want %d units, most overdue first", len(stats), stats[0].Overdue, len(u))
	}

	counts, err := f.s.SectionCounts(ctx)
	if err != nil || !cmp.Equal(counts, map[int]int{1: 2, 2: 1}) {
		t.Errorf("SectionCounts = %v, %v; want map[1:2 2:1]", counts, err)
	}
}

func TestOpenMilestones(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	type item struct {
		Code string
		Seq  int
		Due  storage.Date
	}
	for _, tt := range []struct {
		filter storage.MilestoneFilter
		want   []item
		total  int
	}{
		{storage.MilestoneFilter{Limit: 10}, []item{
			{"共性1", 1, storage.NewDate(2021, 12, 31)}, {"个性1", 1, storage.NewDate(2022, 3, 31)}, {"共性1", 2, storage.NewDate(2022, 6, 30)}}, 3},
		{storage.MilestoneFilter{Limit: 1}, []item{{"共性1", 1, storage.NewDate(2021, 12, 31)}}, 3},
		{storage.MilestoneFilter{DueFrom: storage.NewDate(2022, 1, 1), DueTo: storage.NewDate(2022, 3, 31), Limit: 10},
			[]item{{"个性1", 1, storage.NewDate(2022, 3, 31)}}, 1},
		{storage.MilestoneFilter{DueTo: storage.NewDate(2022, 3, 31), Limit: -1}, []item{
			{"共性1", 1, storage.NewDate(2021, 12, 31)}, {"个性1", 1, storage.NewDate(2022, 3, 31)}}, 2},
		{storage.MilestoneFilter{DueFrom: storage.NewDate(2022, 4, 1), Limit: -1}, []item{{"共性1", 2, storage.NewDate(2022, 6, 30)}}, 1},
	} {
		got, total, err := f.s.OpenMilestones(ctx, tt.filter)
		if err != nil {
			t.Fatalf("OpenMilestones(%+v) error: %v", tt.filter, err)
		}
		var items []item
		for _, m := range got {
			items = append(items, item{m.Code, m.Seq, m.Due})
			if !m.Open {
				t.Errorf("OpenMilestones(%+v) returned %s/%d with Open false", tt.filter, m.Code, m.Seq)
			}
		}
		if diff := cmp.Diff(tt.want, items); diff != "" || total != tt.total {
			t.Errorf("OpenMilestones(%+v) total %d; want %d; mismatch (-want +got):\n%s", tt.filter, total, tt.total, diff)
		}
	}
}

func TestSearchTasks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.s.WarmSearch(ctx); err != nil {
		t.Fatalf("WarmSearch error: %v", err)
	}
	for _, tt := range []struct {
		words []string
		want  []string
		total int
	}{
		{[]string{"黑臭水体"}, []string{"共性1"}, 1},
		{[]string{"排查", "水体"}, []string{"共性1"}, 1}, // a measure and the title
		{[]string{"改造"}, []string{"个性1"}, 1},
		{[]string{"水"}, []string{"共性1"}, 1}, // a single character scans every task
		{[]string{"不存在的词"}, nil, 0},
		{nil, nil, 0},
	} {
		hits, total, err := f.s.SearchTasks(ctx, tt.words, 10)
		var got []string
		for _, h := range hits {
			got = append(got, h.Code)
		}
		if err != nil || !cmp.Equal(got, tt.want) || total != tt.total {
			t.Errorf("SearchTasks(%q, 10) = %v, %d, %v; want %v, %d", tt.words, got, total, err, tt.want, tt.total)
		}
	}
	hits, _, err := f.s.SearchTasks(ctx, []string{"水体"}, 10)
	if err != nil || len(hits) != 1 || hits[0].Snippet == "" || hits[0].Score == 0 {
		t.Errorf("SearchTasks([水体], 10) = %+v, %v; want one scored hit with a snippet", hits, err)
	}
}

// TestLeaderIndexFollowsSeeding: the leader posts and their counts are
// kept in memory, and a seeding that changes them — by this store or
// another on the same database — is seen at the next question.
func TestLeaderIndexFollowsSeeding(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "leaders.db")
	open := func() *storage.Store {
		s, err := storage.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	task := func(n int, post string) storage.Task {
		return storage.Task{Section: 1, Number: n, Code: fmt.Sprintf("共性%d", n), Title: "t", Problem: "p",
			Leaders: []storage.Leader{{Post: post}}}
	}
	posts := func() string {
		t.Helper()
		got, err := a.LeaderPosts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	if _, err := a.Seed(ctx, []storage.Task{task(1, "市长"), task(2, "市长")}, "v1"); err != nil {
		t.Fatal(err)
	}
	if got := posts(); got != "[{市长 2}]" {
		t.Fatalf("posts = %s; want 市长 with 2 tasks", got)
	}
	if _, err := b.Seed(ctx, []storage.Task{task(1, "市长"), task(2, "副市长")}, "v2"); err != nil {
		t.Fatal(err)
	}
	if got := posts(); got != "[{副市长 1} {市长 1}]" {
		t.Errorf("after another store re-seeded: %s; want 副市长 1, 市长 1", got)
	}
	m, err := a.LeaderTasks(ctx, "副市长", 10)
	if err != nil || m.Total != 1 || len(m.Tasks) != 1 || m.Tasks[0].Number != 2 {
		t.Errorf("LeaderTasks(副市长) = %+v, %v; want task 2", m, err)
	}
}

// TestUnitStatsFollowWrites: the units and their task lists kept in
// memory follow a unit made by the organisation file, a collective given
// new members (by another store on the database), and a re-seeding; the
// overdue counts are the day's, kept until tasks or milestones change
// (whoever changes them), and so is the overview's; the overview's shares
// awaiting review follow every write.
func TestUnitStatsFollowWrites(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "unitstats.db")
	a, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stat := func(name string, today storage.Date) (storage.UnitStat, bool) {
		t.Helper()
		all, err := a.UnitStats(ctx, today, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range all {
			if u.Name == name {
				return u, true
			}
		}
		return storage.UnitStat{}, false
	}
	day := storage.Date{Year: 2021, Month: 10, Day: 8}
	before, _ := stat("长葛市", day)
	if _, ok := stat("市新设局", day); ok {
		t.Fatal("市新设局 exists before anyone made it")
	}
	if err := b.ApplyPeople(ctx, storage.PeopleSpec{Units: []storage.UnitPeople{{Unit: "市新设局", Channel: "C_NEW"}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := stat("市新设局", day); !ok {
		t.Error("a unit made by the organisation file is missing from the list")
	}
	// 长葛市 leaves the collective: its tasks through it go.
	if err := b.ApplyUnits(ctx, []storage.UnitSpec{{Name: "各县（市、区）", Members: []string{"魏都区"}}}); err != nil {
		t.Fatal(err)
	}
	after, _ := stat("长葛市", day)
	if after.Responsible >= before.Responsible || after.ViaResp != 0 {
		t.Errorf("长葛市 out of the collective: %+v; before %+v; want fewer tasks and none through it", after, before)
	}
	// A later day: more milestones overdue, from the same kept lists.
	later, _ := stat("魏都区", storage.Date{Year: 2023, Month: 1, Day: 1})
	now, _ := stat("魏都区", day)
	if later.Overdue <= now.Overdue {
		t.Errorf("魏都区 overdue on 2023-01-01 = %d, on %s = %d; want more later", later.Overdue, day, now.Overdue)
	}
	// The ranking of a day is kept until tasks or milestones change,
	// whoever writes them (here another store, in plain SQL); after any
	// other write it is still right.
	if err := b.DB().Exec(`INSERT INTO progresses (task_id, kind, author, text, created_at) VALUES (1, 'progress', 'U1', 'x', ?)`,
		time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if again, _ := stat("魏都区", day); again.Overdue != now.Overdue {
		t.Errorf("魏都区 overdue after an entry = %d; want %d still", again.Overdue, now.Overdue)
	}
	overview := func() storage.Overview {
		t.Helper()
		o, err := a.CountOverview(ctx, day, time.UTC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o1 := overview()
	if err := b.DB().Exec(`UPDATE shares SET state = 'reported' WHERE id IN (SELECT MIN(id) FROM shares WHERE state = 'open' AND NOT retired AND NOT task_closed)`).Error; err != nil {
		t.Fatal(err)
	}
	if o2 := overview(); o2.Awaiting != o1.Awaiting+1 || o2.Overdue != o1.Overdue {
		t.Errorf("overview after another store marked a share reported = %+v; before %+v; want one more awaiting", o2, o1)
	}
	if err := b.DB().Exec(`UPDATE milestones SET open = FALSE WHERE open AND due < ?`, day).Error; err != nil {
		t.Fatal(err)
	}
	if closed, _ := stat("魏都区", day); now.Overdue == 0 || closed.Overdue != 0 {
		t.Errorf("魏都区 overdue = %d, then %d after every overdue milestone was closed by another store; want some, then 0", now.Overdue, closed.Overdue)
	}
	if o3 := overview(); o1.Overdue == 0 || o3.Overdue != 0 || o3.Open != o1.Open {
		t.Errorf("overview overdue = %d, then %d after every overdue milestone was closed; want some, then 0 (open %d, %d)", o1.Overdue, o3.Overdue, o1.Open, o3.Open)
	}
}
