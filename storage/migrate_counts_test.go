package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// TestMigrateV3ListCounts opens storage/testdata/v3.db, written by the
// version before share_counts kept each list's counts (commit 2ff422e,
// testdata/make-v3-db.sh: the default list and 省督察二轮, imported from
// the same document, with progress on both), and v3-65ff687.db, the same
// story written by the version whose share_counts triggers read tasks
// (SQLite's table rebuilds then failed on them). The upgrade gives every
// share its task's list and makes share_counts again, with the list,
// from every share; every row users wrote survives; each list's
// statistics are its own shares', and the lists' add up to the whole.
func TestMigrateV3ListCounts(t *testing.T) {
	for _, file := range []string{"v3.db", "v3-65ff687.db"} {
		t.Run(file, func(t *testing.T) { testMigrateV3ListCounts(t, file) })
	}
}

func testMigrateV3ListCounts(t *testing.T, file string) {
	ctx := context.Background()
	path := copyTestdata(t, file)
	tables := []string{"lists", "tasks", "milestones", "progresses", "shares", "attachments", "audits", "memberships", "reminder_steps"}
	rows := func(db *gorm.DB) map[string]int64 {
		t.Helper()
		out := map[string]int64{}
		for _, table := range tables {
			var n int64
			if err := db.Table(table).Count(&n).Error; err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			out[table] = n
		}
		return out
	}
	old, err := gorm.Open(sqlite.Open(path), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	before := rows(old)
	if db, _ := old.DB(); db != nil {
		db.Close()
	}
	if before["lists"] != 2 || before["tasks"] != 48 {
		t.Fatalf("v3.db holds %v; want two lists of 24 tasks", before)
	}

	s, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, res, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil || !res.Skipped {
		t.Fatalf("start after the upgrade: %+v, %v; want the seed skipped", res, err)
	}
	for table, n := range rows(s.DB()) {
		if n != before[table] {
			t.Errorf("%s: %d rows after the upgrade; want the %d there were", table, n, before[table])
		}
	}
	if diff, err := s.CheckShareCounts(ctx); err != nil || diff != "" {
		t.Fatalf("share_counts after the upgrade: %s %v", diff, err)
	}

	second, err := s.ListByName(ctx, "省督察二轮")
	if err != nil {
		t.Fatal(err)
	}
	day := storage.NewDate(2021, 10, 11)
	tallies := map[uint]map[uint]storage.ShareTally{}
	for _, list := range []uint{0, storage.DefaultList, second.ID} {
		ts, err := s.ShareTallies(ctx, day, time.UTC, storage.StatsFilter{ListID: list})
		if err != nil {
			t.Fatal(err)
		}
		tallies[list] = map[uint]storage.ShareTally{}
		for _, x := range ts {
			tallies[list][x.UnitID] = x
		}
	}
	for unit, all := range tallies[0] {
		a, b := tallies[storage.DefaultList][unit], tallies[second.ID][unit]
		if a.Assigned+b.Assigned != all.Assigned || a.Reported+b.Reported != all.Reported || a.Open+b.Open != all.Open ||
			a.ConfirmedOnTime+a.ConfirmedLate+b.ConfirmedOnTime+b.ConfirmedLate != all.ConfirmedOnTime+all.ConfirmedLate || a.Overdue+b.Overdue != all.Overdue {
			t.Errorf("unit %s: the lists' tallies %+v and %+v do not add up to %+v", all.Unit, a, b, all)
		}
	}
	// The story's 省督察二轮: 长葛市 reported 共性6's first milestone and
	// had 共性7's confirmed, after its due day.
	var changge storage.ShareTally
	for _, x := range tallies[second.ID] {
		if x.Unit == "长葛市" {
			changge = x
		}
	}
	if changge.Reported != 1 || changge.ConfirmedLate != 1 || changge.ConfirmedOnTime != 0 || changge.LastEntry.IsZero() {
		t.Errorf("长葛市 in 省督察二轮 = %+v; want 1 reported, 1 confirmed late, an entry", changge)
	}

	// Tasks and milestones: the lists add up to the whole; the same
	// document gave both lists the same units.
	var sum storage.Overview
	for _, list := range []uint{storage.DefaultList, second.ID} {
		o, err := s.CountOverview(ctx, day, time.UTC, list)
		if err != nil {
			t.Fatal(err)
		}
		sum.TasksOpen, sum.TasksClosed = sum.TasksOpen+o.TasksOpen, sum.TasksClosed+o.TasksClosed
		sum.DoneOnTime, sum.DoneLate, sum.Open, sum.Overdue = sum.DoneOnTime+o.DoneOnTime, sum.DoneLate+o.DoneLate, sum.Open+o.Open, sum.Overdue+o.Overdue
		sum.Awaiting += o.Awaiting
	}
	if all, err := s.CountOverview(ctx, day, time.UTC, 0); err != nil || all != sum {
		t.Errorf("overview of every list = %+v, %v; the lists' add up to %+v", all, err, sum)
	}
	units := map[uint]map[string]storage.UnitStat{}
	for _, list := range []uint{0, storage.DefaultList, second.ID} {
		us, err := s.UnitStats(ctx, day, list)
		if err != nil {
			t.Fatal(err)
		}
		units[list] = map[string]storage.UnitStat{}
		for _, u := range us {
			units[list][u.Name] = u
		}
	}
	for name, a := range units[storage.DefaultList] {
		b, all := units[second.ID][name], units[0][name]
		if a.Lead != b.Lead || a.Responsible != b.Responsible || a.ViaResp != b.ViaResp ||
			a.Lead+b.Lead != all.Lead || a.Responsible+b.Responsible != all.Responsible || a.Overdue+b.Overdue != all.Overdue {
			t.Errorf("unit %s: lists %+v and %+v, all %+v", name, a, b, all)
		}
	}
	if len(units[second.ID]) != len(units[storage.DefaultList]) || len(units[second.ID]) == 0 {
		t.Errorf("units of 省督察二轮 %d; of the default list %d", len(units[second.ID]), len(units[storage.DefaultList]))
	}
}

// TestSettleShareLists: a share written by a version before shares had a
// list (a replica not yet upgraded, in a rolling upgrade) takes the
// default list's ID and is counted there; SettleShareLists, which the
// scheduled upkeep runs, gives it its task's list and the counts follow.
func TestSettleShareLists(t *testing.T) {
	ctx := context.Background()
	s := testenv.Store(t, testenv.Directory())
	_, res, err := seeds.Import(ctx, s, seeds.Xuchang(), "第二清单", false)
	if err != nil {
		t.Fatal(err)
	}
	list := res.List.ID
	day := storage.NewDate(2022, 1, 10)
	tallies := func() map[uint]int {
		t.Helper()
		ts, err := s.ShareTallies(ctx, day, time.UTC, storage.StatsFilter{ListID: list})
		if err != nil {
			t.Fatal(err)
		}
		out := map[uint]int{}
		for _, x := range ts {
			out[x.UnitID] = x.Assigned
		}
		return out
	}
	want := tallies()
	// The old writer's share: one of the list's, written again without
	// its list, as a version before shares.list_id inserts it.
	var sh storage.Share
	if err := s.DB().Where("list_id = ?", list).Order("id").Take(&sh).Error; err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM shares WHERE id = ?`,
		`INSERT INTO shares (id, task_id, milestone_id, unit_id, state, reason, decided_by, retired, task_closed, due)
			SELECT ? + 1000000, ?, ?, ?, 'open', '', '', FALSE, FALSE, ?`} {
		args := []any{sh.ID}
		if strings.HasPrefix(q, "INSERT") {
			args = []any{sh.ID, sh.TaskID, sh.MilestoneID, sh.UnitID, sh.Due}
		}
		if err := s.DB().Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if diff, _ := s.CheckShareCounts(ctx); !strings.Contains(diff, "1 shares are not in their task's list") {
		t.Fatalf("CheckShareCounts after the old writer = %q; want the share out of its list", diff)
	}
	if got := tallies(); got[sh.UnitID] != want[sh.UnitID]-1 {
		t.Fatalf("before settling: unit %d has %d shares in the list; want %d (its share counted elsewhere)", sh.UnitID, got[sh.UnitID], want[sh.UnitID]-1)
	}
	if err := s.SettleShareLists(ctx); err != nil {
		t.Fatal(err)
	}
	if diff, err := s.CheckShareCounts(ctx); err != nil || diff != "" {
		t.Fatalf("CheckShareCounts after settling = %q, %v", diff, err)
	}
	if got := tallies(); got[sh.UnitID] != want[sh.UnitID] {
		t.Errorf("after settling: unit %d has %d shares in the list; want %d", sh.UnitID, got[sh.UnitID], want[sh.UnitID])
	}
}

// TestSearchTextNotStored: this version writes no search text (see
// Task.SearchText). A database an earlier version filled with it (v3.db)
// searches the same as one seeded now, and a re-seeding of the same list
// finds every task unchanged, though the column holds the old text; new
// tasks get "".
func TestSearchTextNotStored(t *testing.T) {
	ctx := context.Background()
	old, err := storage.Open(copyTestdata(t, "v3.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var filled int64
	if err := old.DB().Model(&storage.Task{}).Where("search_text <> ''").Count(&filled).Error; err != nil || filled != 48 {
		t.Fatalf("v3.db: %d tasks with search text, %v; want its 48", filled, err)
	}
	fresh, _ := openStore(t)
	if _, err := fresh.Seed(ctx, records(t), "v1"); err != nil {
		t.Fatal(err)
	}
	var empty int64
	if err := fresh.DB().Model(&storage.Task{}).Where("search_text = ''").Count(&empty).Error; err != nil || empty != 24 {
		t.Fatalf("a seeding now: %d tasks without search text, %v; want all 24", empty, err)
	}
	for _, words := range [][]string{{"渗滤液"}, {"垃圾", "渗滤液"}, {"长葛市"}, {"排查"}, {"地下水"}} {
		want, wantTotal, err := fresh.SearchTasks(ctx, words, 50)
		if err != nil || wantTotal == 0 {
			t.Fatalf("SearchTasks(%q) on a new database = %v, %d, %v; want hits", words, want, wantTotal, err)
		}
		got, total, err := old.SearchTasks(ctx, words, 50)
		var gotDefault []storage.SearchHit
		for _, h := range got {
			if !strings.Contains(h.Code, "/") { // the default list's, as the new database holds
				gotDefault = append(gotDefault, h)
			}
		}
		if err != nil || total != 2*wantTotal || !cmp.Equal(gotDefault, want) {
			t.Errorf("SearchTasks(%q) on v3.db = %v (%d), %v; want the new database's %v twice (two lists)", words, got, total, err, want)
		}
	}
	res, err := old.Seed(ctx, records(t), "again")
	if err != nil || res.Unchanged != 24 || res.Updated != 0 || res.Created != 0 {
		t.Fatalf("re-seeding v3.db with its list: %+v, %v; want every task unchanged", res, err)
	}
}
