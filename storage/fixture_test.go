package storage_test

import (
	"context"
	"testing"
	"time"

	"taskbot/internal/testenv"
	"taskbot/storage"
)

// fixture is a small store built by hand, so that a test reads its whole
// world in one place: three tasks, a collective of two counties, and a few
// people bound to units, a leader post and the supervisors' office.
//
//	共性1 (1-1) two milestones (2021-12-31, 2022-06-30); lead 市生态环境局,
//	            responsible 各县（市、区）; leader 市政府分管生态环境副市长
//	共性2 (1-2) ongoing, no milestone; lead 市城管局; leader 市政府分管城建副市长
//	个性1 (2-1) one milestone (2022-03-31); lead 市住建局, responsible 长葛市;
//	            leader 市政府分管城建副市长
type fixture struct {
	s    *storage.Store
	path string
	// now is the store's "as of" moment: every write is stamped with it.
	now time.Time

	water, city, house *storage.Task // 共性1, 共性2, 个性1
	units              map[string]uint
}

// fixtureStart is the fixture clock's first reading.
var fixtureStart = time.Date(2021, 11, 1, 1, 0, 0, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{path: testenv.DSN(t, "fixture.db"), now: fixtureStart}
	s, err := storage.Open(f.path)
	if err != nil {
		t.Fatalf("Open(%q) error: %v", f.path, err)
	}
	t.Cleanup(func() { s.Close() })
	s.Clock = storage.Clock{AsOf: func() time.Time { return f.now }}
	f.s = s

	tasks := []storage.Task{
		{Section: 1, Number: 1, Code: "共性1", Title: "黑臭水体治理", Goal: "消除黑臭水体",
			Measures: []storage.Measure{{Text: "排查城市黑臭水体"}},
			Milestones: []storage.Milestone{
				{Due: storage.NewDate(2021, 12, 31), Text: "完成排查"},
				{Due: storage.NewDate(2022, 6, 30), Text: "完成治理"},
			},
			Leaders: []storage.Leader{{Post: "市政府分管生态环境副市长"}},
			Units: []storage.TaskUnit{
				{Role: storage.RoleLead, Unit: storage.Unit{Name: "市生态环境局"}},
				{Role: storage.RoleResponsible, Unit: storage.Unit{Name: "各县（市、区）"}},
			}},
		{Section: 1, Number: 2, Code: "共性2", Title: "城市管理长效机制", Ongoing: true,
			Leaders: []storage.Leader{{Post: "市政府分管城建副市长"}},
			Units:   []storage.TaskUnit{{Role: storage.RoleLead, Unit: storage.Unit{Name: "市城管局"}}}},
		{Section: 2, Number: 1, Code: "个性1", Title: "老旧小区改造",
			Milestones: []storage.Milestone{{Due: storage.NewDate(2022, 3, 31), Text: "完成改造"}},
			Leaders:    []storage.Leader{{Post: "市政府分管城建副市长"}},
			Units: []storage.TaskUnit{
				{Role: storage.RoleLead, Unit: storage.Unit{Name: "市住建局"}},
				{Role: storage.RoleResponsible, Unit: storage.Unit{Name: "长葛市"}},
			}},
	}
	if _, err := s.Seed(ctx, tasks, "fixture"); err != nil {
		t.Fatalf("Seed error: %v", err)
	}
	err = s.ApplyUnits(ctx, []storage.UnitSpec{
		{Name: "各县（市、区）", Members: []string{"长葛市", "禹州市"}},
		{Name: "市生态环境局", Aliases: []string{"环境局"}},
	})
	if err != nil {
		t.Fatalf("ApplyUnits error: %v", err)
	}
	err = s.ApplyPeople(ctx, storage.PeopleSpec{
		Units: []storage.UnitPeople{
			{Unit: "市生态环境局", Channel: "C0ENV", Members: []storage.PersonRef{
				{SlackID: "U0WANG", Name: "王五"}, {Email: "li@example.gov.cn", Name: "李四"}}},
			{Unit: "长葛市", Channel: "C0CG", Members: []storage.PersonRef{{SlackID: "U0ZHAO", Name: "赵六"}}},
		},
		Leaders:     map[string][]storage.PersonRef{"市政府分管城建副市长": {{SlackID: "U0LEAD", Name: "钱副市长"}}},
		Supervisors: []storage.PersonRef{{SlackID: "U0SUP", Name: "孙督查"}},
	})
	if err != nil {
		t.Fatalf("ApplyPeople error: %v", err)
	}
	names, err := s.UnitNames(ctx)
	if err != nil {
		t.Fatalf("UnitNames error: %v", err)
	}
	f.units = map[string]uint{}
	for _, n := range names {
		f.units[n.Unit] = n.UnitID
	}
	for _, x := range []struct {
		dst             **storage.Task
		section, number int
	}{{&f.water, 1, 1}, {&f.city, 1, 2}, {&f.house, 2, 1}} {
		if *x.dst, err = s.FindTask(ctx, x.section, x.number); err != nil {
			t.Fatalf("FindTask(%d, %d) error: %v", x.section, x.number, err)
		}
	}
	return f
}

// report records a progress report on the task, failing the test on error.
func (f *fixture) report(t *testing.T, task *storage.Task, text string) *storage.Progress {
	t.Helper()
	p := &storage.Progress{TaskID: task.ID, Kind: storage.KindReport, Author: "U0WANG", AuthorName: "王五", Text: text}
	if err := f.s.CreateProgress(context.Background(), p); err != nil {
		t.Fatalf("CreateProgress(%s, %q) error: %v", task.Code, text, err)
	}
	return p
}

var fixtureSupervisor = storage.Actor{ID: "U0SUP", Name: "孙督查"}
