package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// TestShareCountsFollowShares changes shares every way the code does
// (states, retiring, closing and reopening a task, moving due dates,
// deleting), in plain SQL as any writer could, on a database holding two
// lists, and checks after each that the counts the triggers keep equal a
// count of the shares, and that the statistics summed from them, of
// every list and of each, equal the statistics of each task read from
// the shares themselves, added up.
func TestShareCountsFollowShares(t *testing.T) {
	ctx := context.Background()
	s := testenv.Store(t, testenv.Directory())
	if _, _, err := seeds.Import(ctx, s, seeds.Xuchang(), "第二清单", false); err != nil {
		t.Fatal(err)
	}
	day := storage.Date{Year: 2022, Month: 1, Day: 10}
	var tasks []struct{ ID, ListID uint }
	if err := s.DB().Raw(`SELECT id, list_id FROM tasks ORDER BY id`).Scan(&tasks).Error; err != nil {
		t.Fatal(err)
	}
	if n := len(tasks); n != 48 || tasks[n-1].ListID == storage.DefaultList {
		t.Fatalf("tasks = %v; want the two lists' 24 each", tasks)
	}
	// sumOf adds up the tallies of the tasks of one list (0: all).
	sumOf := func(list uint) map[uint]storage.ShareTally {
		t.Helper()
		sum := map[uint]storage.ShareTally{}
		for _, task := range tasks {
			if list != 0 && task.ListID != list {
				continue
			}
			part, err := s.ShareTallies(ctx, day, time.UTC, storage.StatsFilter{TaskID: task.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range part {
				x := sum[p.UnitID]
				x.UnitID, x.Unit, x.LastEntry = p.UnitID, p.Unit, p.LastEntry
				x.Assigned += p.Assigned
				x.NA += p.NA
				x.ConfirmedOnTime += p.ConfirmedOnTime
				x.ConfirmedLate += p.ConfirmedLate
				x.Reported += p.Reported
				x.Open += p.Open
				x.Overdue += p.Overdue
				x.DaysOverdue += p.DaysOverdue
				sum[p.UnitID] = x
			}
		}
		return sum
	}
	check := func(step string) {
		t.Helper()
		if diff, err := s.CheckShareCounts(ctx); err != nil || diff != "" {
			t.Fatalf("after %s: %s %v", step, diff, err)
		}
		for _, list := range []uint{0, storage.DefaultList, tasks[len(tasks)-1].ListID} {
			whole, err := s.ShareTallies(ctx, day, time.UTC, storage.StatsFilter{ListID: list})
			if err != nil {
				t.Fatal(err)
			}
			got := map[uint]storage.ShareTally{}
			for _, w := range whole {
				got[w.UnitID] = w
			}
			if diff := cmp.Diff(sumOf(list), got); diff != "" {
				t.Fatalf("after %s: list %d's tallies differ from its tasks' added up (-tasks +whole):\n%s", step, list, diff)
			}
		}
	}
	check("seeding")
	for _, step := range []struct{ name, sql string }{
		{"reports", `UPDATE shares SET state = 'reported', reported_at = '2022-01-01 02:00:00+00:00' WHERE id % 5 = 0`},
		{"confirmations", `UPDATE shares SET state = 'confirmed', decided_at = '2022-01-02 02:00:00+00:00' WHERE id % 7 = 0`},
		{"not concerned", `UPDATE shares SET state = 'na' WHERE id % 11 = 0`},
		{"retiring", `UPDATE shares SET retired = TRUE WHERE id % 13 = 0`},
		{"closing a task", `UPDATE shares SET task_closed = TRUE WHERE task_id = (SELECT MIN(task_id) FROM shares)`},
		{"moving due dates", `UPDATE shares SET due = '2021-12-31' WHERE due IS NOT NULL AND id % 3 = 0`},
		{"a share of the whole task", `UPDATE shares SET due = NULL WHERE id % 17 = 0`},
		{"a new share", `INSERT INTO shares (task_id, milestone_id, unit_id, state, reason, decided_by, retired, task_closed, due)
			SELECT s.task_id, s.milestone_id, (SELECT MAX(u.id) FROM units u WHERE u.id NOT IN
				(SELECT o.unit_id FROM shares o WHERE o.task_id = s.task_id AND o.milestone_id = s.milestone_id)),
				'open', '', '', FALSE, FALSE, '2021-11-30' FROM shares s WHERE s.id = 2`},
		{"reopening", `UPDATE shares SET task_closed = FALSE, retired = FALSE`},
		{"deleting", `DELETE FROM shares WHERE id % 4 = 1`},
	} {
		if err := s.DB().Exec(step.sql).Error; err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		check(step.name)
	}
}

// TestShareCountsUpgrade opens a database as the previous version left it
// (no share_counts, no table_versions, no triggers) or as an SQLite table
// rebuild by AutoMigrate leaves it (the triggers gone), with shares changed
// since. The migration counts them, and the triggers count what follows.
func TestShareCountsUpgrade(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "upgrade.db")
	s, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	db := s.DB()
	pg := s.Dialect() == storage.Postgres
	// Every trigger but the data version's (PostgreSQL's taskbot_bump).
	var drops []string
	var triggers []struct{ Name, Tbl string }
	q := `SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'trigger'`
	if pg {
		q = `SELECT t.tgname AS name, c.relname AS tbl FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
			WHERE NOT t.tgisinternal AND t.tgname <> 'taskbot_bump' AND c.relnamespace = current_schema()::regnamespace`
	}
	if err := db.Raw(q).Scan(&triggers).Error; err != nil {
		t.Fatal(err)
	}
	if len(triggers) < 5 {
		t.Fatalf("triggers %v; want those of share_counts and the counters", triggers)
	}
	for _, tr := range triggers {
		if pg {
			drops = append(drops, "DROP TRIGGER "+tr.Name+" ON "+tr.Tbl)
		} else {
			drops = append(drops, "DROP TRIGGER "+tr.Name)
		}
	}
	drops = append(drops, "DROP TABLE share_counts", "DROP TABLE table_versions",
		`UPDATE meta SET value = 'previous' WHERE name = 'schema'`,
		// What the previous version did after: reports and a decision.
		`UPDATE shares SET state = 'reported', reported_at = '2022-01-01 02:00:00+00:00' WHERE id % 3 = 0`,
		`UPDATE shares SET state = 'confirmed', decided_at = '2022-01-02 02:00:00+00:00' WHERE id % 6 = 0`)
	for _, q := range drops {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s, err = storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff, err := s.CheckShareCounts(ctx); err != nil || diff != "" {
		t.Fatalf("after the upgrade: %s %v", diff, err)
	}
	if err := s.DB().Exec(`UPDATE shares SET state = 'open' WHERE state = 'reported' AND id % 2 = 0`).Error; err != nil {
		t.Fatal(err)
	}
	if diff, err := s.CheckShareCounts(ctx); err != nil || diff != "" {
		t.Fatalf("after a write following the upgrade: %s %v", diff, err)
	}
	var plan int64
	if err := s.DB().Raw(`SELECT v FROM table_versions WHERE name = 'plan'`).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Exec(`UPDATE milestones SET text = text || '.' WHERE id = 1`).Error; err != nil {
		t.Fatal(err)
	}
	var after int64
	if err := s.DB().Raw(`SELECT v FROM table_versions WHERE name = 'plan'`).Scan(&after).Error; err != nil {
		t.Fatal(err)
	}
	if after <= plan {
		t.Errorf("plan version %d, then %d after a milestone was written; want it to move", plan, after)
	}
}

// TestMigrationLeavesReadersAlone: on PostgreSQL, installing the counts'
// triggers again (every schema migration does) does not lock readers out:
// re-creating an existing trigger would take an ACCESS EXCLUSIVE lock on
// its table. It runs while another connection's transaction is reading
// shares, with a lock timeout instead of a wait.
func TestMigrationLeavesReadersAlone(t *testing.T) {
	dsn := testenv.DSN(t, "readers.db")
	if !storage.IsPostgres(dsn) {
		t.Skip("SQLite's readers take no table locks")
	}
	s, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	impatient, err := storage.Open(dsn + "&lock_timeout=3000")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	reader := s.DB().Begin()
	defer reader.Rollback()
	var n int64
	if err := reader.Raw(`SELECT COUNT(*) FROM shares`).Scan(&n).Error; err != nil || n == 0 {
		t.Fatalf("reading shares: %d, %v", n, err)
	}
	if err := storage.InstallDerived(impatient.DB()); err != nil {
		t.Fatalf("installing the counts while a transaction reads shares: %v", err)
	}
	testenv.CheckShareCounts(t, impatient)
}

// TestPlanCountsFollowWrites: a store keeps every task's milestone counts
// and, after a write, counts again only the tasks logged since. After each
// kind of write to tasks and milestones, in plain SQL as any writer could,
// its overview and units ranking equal those of a store opened afresh,
// which counts everything.
func TestPlanCountsFollowWrites(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "plan.db")
	s, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := storage.Date{Year: 2022, Month: 1, Day: 10}
	loc := s.Clock.Zone()
	check := func(step string) {
		t.Helper()
		fresh, err := storage.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		fresh.Clock = s.Clock
		for _, st := range []*storage.Store{s, fresh} {
			if _, err := st.CountOverview(ctx, day, loc, 0); err != nil {
				t.Fatal(err)
			}
		}
		kept, _ := s.CountOverview(ctx, day, loc, 0)
		want, _ := fresh.CountOverview(ctx, day, loc, 0)
		if kept != want {
			t.Errorf("after %s: overview %+v; a fresh count gives %+v", step, kept, want)
		}
		keptUnits, err := s.UnitStats(ctx, day, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantUnits, err := fresh.UnitStats(ctx, day, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantUnits, keptUnits); diff != "" {
			t.Errorf("after %s: units differ from a fresh count (-fresh +kept):\n%s", step, diff)
		}
	}
	check("seeding")
	for _, step := range []struct{ name, sql string }{
		{"closing milestones", `UPDATE milestones SET open = FALSE, done_at = '2021-12-01 02:00:00+00:00' WHERE id % 3 = 0`},
		{"closing late", `UPDATE milestones SET open = FALSE, done_at = '2022-01-05 02:00:00+00:00' WHERE id % 5 = 0 AND open`},
		{"moving due dates", `UPDATE milestones SET due = '2022-03-01' WHERE id % 4 = 0`},
		{"reopening", `UPDATE milestones SET open = TRUE, done_at = NULL WHERE id % 9 = 0`},
		{"retiring", `UPDATE milestones SET retired = TRUE, open = FALSE WHERE id % 7 = 0`},
		{"deleting a milestone", `DELETE FROM milestones WHERE id = (SELECT MAX(id) FROM milestones)`},
		{"closing a task", `UPDATE tasks SET closed_at = '2022-01-02 02:00:00+00:00' WHERE id = 2`},
		{"a new milestone", `INSERT INTO milestones (task_id, seq, due, planned_due, text, open, retired)
			VALUES (3, 99, '2021-06-30', '2021-06-30', '新节点', TRUE, FALSE)`},
		{"a log of more tasks than are counted by ID", manyLogged(2500)},
		{"closing after it", `UPDATE milestones SET open = FALSE, done_at = '2021-12-20 02:00:00+00:00' WHERE id % 11 = 0 AND open`},
	} {
		if err := s.DB().Exec(step.sql).Error; err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		check(step.name)
	}
	// Another day after those deltas: summed again from the kept dues.
	day = storage.Date{Year: 2022, Month: 4, Day: 1}
	check("a later day")
	// A bulk write (seeding) empties the log: everything is counted again.
	if _, err := s.Seed(ctx, []storage.Task{{Section: 9, Number: 1, Code: "个性9", Title: "新增", Milestones: []storage.Milestone{
		{Due: storage.NewDate(2021, 12, 31), Text: "节点"}}}}, "bulk"); err != nil {
		t.Fatal(err)
	}
	check("a re-seeding")
}

// manyLogged is SQL logging n task IDs that are not tasks (beyond
// maxPlanDelta: the reader counts everything instead).
func manyLogged(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO plan_changes (task_id) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d)", 1000000+i)
	}
	return b.String()
}

// TestPlanCountsFollowOffset: a milestone's timeliness depends on the
// zone's offset on the day asked (the end of its due day); when daylight
// saving moves it, a store that kept its counts answers as one that
// counts afresh.
func TestPlanCountsFollowOffset(t *testing.T) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	dsn := testenv.DSN(t, "offset.db")
	s, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Due 2022-01-10, done 04:30 UTC the next day: on time when the day
	// ends at 05:00 UTC (EST), late when it ends at 04:00 (EDT).
	if err := s.DB().Exec(`UPDATE milestones SET due = '2022-01-10', open = FALSE, done_at = '2022-01-11 04:30:00+00:00' WHERE id = 1`).Error; err != nil {
		t.Fatal(err)
	}
	for _, day := range []storage.Date{{Year: 2022, Month: 3, Day: 1}, {Year: 2022, Month: 3, Day: 20}} {
		kept, err := s.CountOverview(ctx, day, ny, 0)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := storage.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.CountOverview(ctx, day, ny, 0)
		fresh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if kept != want {
			t.Errorf("%s in New York: kept overview %+v; a fresh count gives %+v", day, kept, want)
		}
	}
}

// TestPlanLogTrimmed: trimming the log of planned tasks keeps its latest
// entries; a store that had not read the trimmed ones (here a milestone
// closed before 12,000 later entries) counts everything again.
func TestPlanLogTrimmed(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "trim.db")
	s, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := storage.Date{Year: 2022, Month: 1, Day: 10}
	before, err := s.CountOverview(ctx, day, time.UTC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Exec(`UPDATE milestones SET open = FALSE, done_at = '2021-12-01 02:00:00+00:00' WHERE open AND due < '2022-01-10'`).Error; err != nil {
		t.Fatal(err)
	}
	for range 6 {
		if err := s.DB().Exec(manyLogged(2000)).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TrimPlanLog(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := s.DB().Raw(`SELECT COUNT(*) FROM plan_changes`).Scan(&n).Error; err != nil || n != 10000 {
		t.Errorf("after trimming: %d entries, %v; want the latest 10000", n, err)
	}
	after, err := s.CountOverview(ctx, day, time.UTC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if before.Overdue == 0 || after.Overdue != 0 || after.DoneOnTime+after.DoneLate != before.Overdue {
		t.Errorf("overview %+v before closing every overdue milestone, %+v after and a trim; want none overdue, all of them done", before, after)
	}
}

// TestVersionsMoveOncePerTransaction (PostgreSQL): a transaction of many
// statements moves the data version and the plan counter once each, and
// the next transaction moves them again. (Moved per statement, a
// re-seeding's hundred thousand updates of one row took minutes.)
func TestVersionsMoveOncePerTransaction(t *testing.T) {
	if testenv.PostgresURL() == "" {
		t.Skip("PostgreSQL's statement triggers; SQLite's data_version moves once per commit by itself")
	}
	s, _ := openStore(t)
	ctx := context.Background()
	if _, err := s.Seed(ctx, records(t), "v1"); err != nil {
		t.Fatal(err)
	}
	plan := func() int64 {
		var v int64
		if err := s.DB().Raw(`SELECT v FROM table_versions WHERE name = 'plan'`).Scan(&v).Error; err != nil {
			t.Fatal(err)
		}
		return v
	}
	for round := 1; round <= 2; round++ {
		v0, p0 := testenv.DataVersion(t, s), plan()
		err := s.DB().Transaction(func(tx *gorm.DB) error {
			for i := 0; i < 3; i++ {
				if err := tx.Exec(`UPDATE milestones SET text = text WHERE seq = 1`).Error; err != nil {
					return err
				}
				if err := tx.Exec(`UPDATE meta SET value = value`).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if v, p := testenv.DataVersion(t, s), plan(); v != v0+1 || p != p0+1 {
			t.Errorf("round %d: data version %d → %d, plan %d → %d; want each moved by one", round, v0, v, p0, p)
		}
	}
}
