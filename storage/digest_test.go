package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/storage"
)

// nov is 01:00 UTC on day d of November 2021, the fixture's month.
func nov(d int) time.Time { return time.Date(2021, 11, d, 1, 0, 0, 0, time.UTC) }

// taskCodes lists the tasks' codes, in order.
func taskCodes(ts []storage.TaskSummary) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Code)
	}
	return out
}

func TestProgressBetween(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.now = nov(10)
	p1 := f.report(t, f.water, "排查过半")
	f.now = nov(20)
	p2 := f.report(t, f.house, "开工")
	p3 := f.report(t, f.water, "排查完成")

	for _, tt := range []struct {
		from, to time.Time
		limit    int
		want     []uint // entry IDs
		total    int
	}{
		{nov(1), nov(30), 10, []uint{p3.ID, p2.ID, p1.ID}, 3}, // newest first; same instant, later ID first
		{nov(1), nov(30), 1, []uint{p3.ID}, 3},
		{nov(10), nov(20), 10, []uint{p1.ID}, 1}, // from included, to excluded
		{nov(11), nov(20), 10, nil, 0},
		// The window is an instant, whatever the zone it is given in.
		{nov(20).In(time.FixedZone("CST", 8*3600)), nov(21), 10, []uint{p3.ID, p2.ID}, 2},
	} {
		got, total, err := f.s.ProgressBetween(ctx, tt.from, tt.to, tt.limit)
		if err != nil {
			t.Fatalf("ProgressBetween(%v, %v, %d) error: %v", tt.from, tt.to, tt.limit, err)
		}
		var ids []uint
		for _, it := range got {
			ids = append(ids, it.ID)
		}
		if !cmp.Equal(ids, tt.want) || total != tt.total {
			t.Errorf("ProgressBetween(%v, %v, %d) = %v, %d; want %v, %d", tt.from, tt.to, tt.limit, ids, total, tt.want, tt.total)
		}
	}
	got, _, err := f.s.ProgressBetween(ctx, nov(20), nov(21), 1)
	if err != nil || len(got) != 1 || got[0].Code != "共性1" || got[0].Text != "排查完成" || got[0].TaskID != f.water.ID {
		t.Errorf("ProgressBetween(Nov 20, Nov 21, 1) = %+v, %v; want 共性1's 排查完成", got, err)
	}
}

func TestStaleAndNudge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.now = nov(10)
	f.report(t, f.water, "排查过半")
	f.report(t, f.city, "制度起草")
	f.now = nov(20)
	f.report(t, f.house, "开工")

	stale := func(since time.Time, limit int) ([]string, int) {
		t.Helper()
		ts, total, err := f.s.StaleTasks(ctx, since, limit)
		if err != nil {
			t.Fatalf("StaleTasks(%v, %d) error: %v", since, limit, err)
		}
		return taskCodes(ts), total
	}
	nudge := func(since time.Time) []string {
		t.Helper()
		ts, err := f.s.NudgeCandidates(ctx, since)
		if err != nil {
			t.Fatalf("NudgeCandidates(%v) error: %v", since, err)
		}
		return taskCodes(ts)
	}
	// Most urgent first: 共性1 (due 2021-12-31) before the ongoing 共性2.
	if got, total := stale(nov(15), 10); !cmp.Equal(got, []string{"共性1", "共性2"}) || total != 2 {
		t.Errorf("StaleTasks(Nov 15, 10) = %v, %d; want [共性1 共性2], 2", got, total)
	}
	if got, total := stale(nov(15), 1); !cmp.Equal(got, []string{"共性1"}) || total != 2 {
		t.Errorf("StaleTasks(Nov 15, 1) = %v, %d; want [共性1], 2", got, total)
	}
	if got, total := stale(nov(10), 10); len(got) != 0 || total != 0 {
		t.Errorf("StaleTasks(Nov 10, 10) = %v, %d; want none (every task reported since)", got, total)
	}
	// Only the ongoing task without a dated milestone is nudged.
	if got := nudge(nov(15)); !cmp.Equal(got, []string{"共性2"}) {
		t.Errorf("NudgeCandidates(Nov 15) = %v; want [共性2]", got)
	}
	if got := nudge(nov(10)); len(got) != 0 {
		t.Errorf("NudgeCandidates(Nov 10) = %v; want none", got)
	}

	// A closed task is neither stale nor nudged.
	if _, err := f.s.CloseTask(ctx, f.city.ID, fixtureSupervisor, ""); err != nil {
		t.Fatalf("CloseTask(共性2) error: %v", err)
	}
	if got, total := stale(nov(15), 10); !cmp.Equal(got, []string{"共性1"}) || total != 1 {
		t.Errorf("StaleTasks(Nov 15, 10) after closing 共性2 = %v, %d; want [共性1], 1", got, total)
	}
	if got := nudge(nov(15)); len(got) != 0 {
		t.Errorf("NudgeCandidates(Nov 15) after closing 共性2 = %v; want none", got)
	}
}

func TestCountMilestones(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// Milestones: 共性1 2021-12-31 and 2022-06-30, 个性1 2022-03-31.
	count := func(today storage.Date, soon int) storage.MilestoneCounts {
		t.Helper()
		c, err := f.s.CountMilestones(ctx, today, soon)
		if err != nil {
			t.Fatalf("CountMilestones(%s, %d) error: %v", today, soon, err)
		}
		return c
	}
	for _, tt := range []struct {
		today storage.Date
		soon  int
		want  storage.MilestoneCounts
	}{
		{storage.NewDate(2021, 12, 1), 7, storage.MilestoneCounts{Later: 3}},
		{storage.NewDate(2021, 12, 24), 7, storage.MilestoneCounts{Soon: 1, Later: 2}}, // the last day counts
		{storage.NewDate(2021, 12, 31), 0, storage.MilestoneCounts{Soon: 1, Later: 2}}, // today counts
		{storage.NewDate(2022, 1, 1), 7, storage.MilestoneCounts{Overdue: 1, Later: 2}},
		{storage.NewDate(2022, 7, 1), 7, storage.MilestoneCounts{Overdue: 3}},
	} {
		if got := count(tt.today, tt.soon); got != tt.want {
			t.Errorf("CountMilestones(%s, %d) = %+v; want %+v", tt.today, tt.soon, got, tt.want)
		}
	}
	if _, err := f.s.ApproveMilestone(ctx, f.water.ID, 1, fixtureSupervisor); err != nil {
		t.Fatalf("ApproveMilestone(共性1, 1) error: %v", err)
	}
	if _, err := f.s.CloseTask(ctx, f.house.ID, fixtureSupervisor, ""); err != nil {
		t.Fatalf("CloseTask(个性1) error: %v", err)
	}
	if got, want := count(storage.NewDate(2022, 1, 1), 7), (storage.MilestoneCounts{Later: 1, Done: 2}); got != want {
		t.Errorf("CountMilestones(2022-01-01, 7) after a milestone done and a task closed = %+v; want %+v", got, want)
	}
}
