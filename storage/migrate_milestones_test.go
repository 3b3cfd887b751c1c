package storage_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"taskbot/seeds"
	"taskbot/storage"
)

// copyV1 copies testdata/v1.db (written by the previous version, see
// testdata/make-v1-db.sh) into the test's directory; the fixture itself is
// never opened for writing.
func copyV1(t *testing.T) string { t.Helper(); return copyTestdata(t, "v1.db") }

// copyTestdata copies testdata/name, a database written by an earlier
// version, to a temporary file, and returns its path.
func copyTestdata(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), name)
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// rowsByID reads table as text, each row keyed by its rowid.
func rowsByID(t *testing.T, db *gorm.DB, table string) map[int64]map[string]string {
	t.Helper()
	cols, rows := textColumns(t, db, fmt.Sprintf("SELECT rowid AS rowid_, * FROM %q", table))
	out := map[int64]map[string]string{}
	for _, vals := range rows {
		id, err := strconv.ParseInt(vals[0], 10, 64)
		if err != nil {
			t.Fatalf("%s: rowid %q", table, vals[0])
		}
		row := map[string]string{}
		for i, v := range vals[1:] {
			row[cols[i+1]] = v
		}
		out[id] = row
	}
	return out
}

// readV1 reads tables from the database file at path without migrating it.
func readV1(t *testing.T, path string, tables ...string) map[string]map[int64]map[string]string {
	t.Helper()
	db, err := gorm.Open(sqlite.Open(path+"?mode=ro"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	out := map[string]map[int64]map[string]string{}
	for _, table := range tables {
		out[table] = rowsByID(t, db, table)
	}
	return out
}

// userTables hold what people and the bot wrote: nothing in them may be lost.
var userTables = []string{"progresses", "audits", "memberships", "outboxes", "reminder_steps", "milestones"}

// TestMigrateV1MilestonesByDue opens a database written by the previous
// version, which numbered milestones in the order the deadline text named
// them, seeds it as the program does at start, and checks that milestones
// are numbered by due date with everything that hangs off them intact. On
// task 9 (written 2021-12-31, 2021-10-31, 2022-12-31) entry #4 `完成 1` by
// 禹州市 marked the milestone due 2021-12-31 done: it is now 节点2.
func TestMigrateV1MilestonesByDue(t *testing.T) {
	ctx := context.Background()
	path := copyV1(t)
	v1 := readV1(t, path, userTables...)

	s, err := storage.Open(path)
	if err != nil {
		t.Fatalf("Open(v1) error: %v", err)
	}
	_, res, err := seeds.Load(ctx, s, seeds.Xuchang(), nil)
	if err != nil {
		t.Fatalf("Load after migration: %v", err)
	}
	if res.Skipped || res.Created != 0 {
		t.Errorf("Load after migration = %+v; want every task updated in place", res)
	}
	now := map[string]map[int64]map[string]string{}
	for _, table := range userTables {
		now[table] = rowsByID(t, s.DB(), table)
	}

	// What users and the bot wrote is all there, as written: only a
	// progress entry's milestone number and a milestone's own number (and
	// its open flag, which seeding derives) may differ.
	mayDiffer := map[string][]string{
		"progresses": {"milestone_seq"},
		"milestones": {"seq", "open"},
	}
	for _, table := range userTables {
		if table != "audits" && len(now[table]) != len(v1[table]) {
			t.Errorf("%s: %d rows after the upgrade; the previous version wrote %d", table, len(now[table]), len(v1[table]))
		}
		for id, old := range v1[table] {
			got, ok := now[table][id]
			if !ok {
				t.Errorf("%s row %d is gone: %v", table, id, old)
				continue
			}
			for col, want := range old {
				if got[col] != want && !slices.Contains(mayDiffer[table], col) {
					t.Errorf("%s row %d: %s = %q; the previous version wrote %q", table, id, col, got[col], want)
				}
			}
		}
	}
	// Later migrations (per-unit shares) may add audit records of their
	// own; none of the previous version's is lost (checked above).
	if added := len(now["audits"]) - len(v1["audits"]); added < 0 {
		t.Errorf("audits: %d rows lost", -added)
	} else if added > 0 {
		t.Logf("audits: %d records added by later migrations", added)
	}

	// Milestones keep their rows; only task 9's two 2021 milestones swap
	// numbers.
	wantSeq := map[int64]string{13: "2", 14: "1"} // ids in v1.db
	for id, old := range v1["milestones"] {
		want := old["seq"]
		if s, ok := wantSeq[id]; ok {
			want = s
		}
		if got := now["milestones"][id]["seq"]; got != want {
			t.Errorf("milestone %d (task %s, due %s) seq = %s; want %s", id, old["task_id"], old["planned_due"], got, want)
		}
	}

	t9, err := s.FindTask(ctx, 1, 9)
	if err != nil {
		t.Fatal(err)
	}
	type ms struct {
		Seq        int
		Due        string
		PlannedDue string
		DoneAt     string
		ExtendedAt string
	}
	view := func(ts []storage.Milestone) []ms {
		var out []ms
		for _, m := range ts {
			v := ms{Seq: m.Seq, Due: m.Due.String(), PlannedDue: m.PlannedDue.String()}
			if m.DoneAt != nil {
				v.DoneAt = m.DoneAt.UTC().Format(time.RFC3339)
			}
			if m.ExtendedAt != nil {
				v.ExtendedAt = m.ExtendedAt.UTC().Format(time.RFC3339)
			}
			out = append(out, v)
		}
		return out
	}
	want9 := []ms{
		{Seq: 1, Due: "2021-10-31", PlannedDue: "2021-10-31"},
		{Seq: 2, Due: "2021-12-31", PlannedDue: "2021-12-31", DoneAt: "2021-09-25T01:00:00Z"},
		{Seq: 3, Due: "2022-12-31", PlannedDue: "2022-12-31"},
	}
	if diff := cmp.Diff(want9, view(t9.Milestones)); diff != "" {
		t.Errorf("task 9 milestones after the upgrade (-want +got):\n%s", diff)
	}
	if got := t9.Milestones[0].Text; got != "对初步掌握适宜采取工程治理的2.54万亩历史遗留矿山，2021年10月底前完成治理方案设计并实施治理" {
		t.Errorf("task 9 节点1 text = %q; want the 2021年10月 clause", got)
	}
	if got := now["progresses"][4]["milestone_seq"]; got != "2" {
		t.Errorf("progress #4 (完成 1 on task 9) milestone_seq = %s; want 2", got)
	}

	t6, err := s.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	want6 := []ms{
		{Seq: 1, Due: "2022-01-31", PlannedDue: "2021-12-31", DoneAt: "2021-12-20T01:00:00Z", ExtendedAt: "2021-09-22T01:00:00Z"},
		{Seq: 2, Due: "2022-12-31", PlannedDue: "2022-12-31"},
	}
	if diff := cmp.Diff(want6, view(t6.Milestones)); diff != "" {
		t.Errorf("task 6 milestones after the upgrade (-want +got):\n%s", diff)
	}

	// Every entry's number is its milestone's number.
	var stale int64
	err = s.DB().Raw(`SELECT COUNT(*) FROM progresses p JOIN milestones m ON m.id = p.milestone_id
		WHERE p.milestone_seq <> m.seq`).Scan(&stale).Error
	if err != nil || stale != 0 {
		t.Errorf("%d entries name a milestone by a number it no longer has (%v)", stale, err)
	}
	var ran storage.Meta
	if err := s.DB().Where("name = ?", "migration:milestones-by-due-date").Take(&ran).Error; err != nil {
		t.Errorf("the migration is not recorded: %v", err)
	}
	before := dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start changes nothing: the migration is not run again and
	// the document is the one already seeded.
	s2, err := storage.Open(path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	if _, res, err := seeds.Load(ctx, s2, seeds.Xuchang(), nil); err != nil || !res.Skipped {
		t.Errorf("second Load = %+v, %v; want skipped", res, err)
	}
	if diff := cmp.Diff(before, dump(t, s2)); diff != "" {
		t.Errorf("a second start changed the database (-first +second):\n%s", diff)
	}
}

// TestMigrateMilestonesRetiredAndTies builds, through Seed, the numbering
// the previous version wrote (the order of the text), including retired
// milestones and due dates shared by several milestones, then runs the
// migration on the next Open and re-seeds as the new parser would.
func TestMigrateMilestonesRetiredAndTies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	date := func(s string) storage.Date {
		d, err := storage.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	m := func(due, text string) storage.Milestone {
		return storage.Milestone{Due: date(due), PlannedDue: date(due), Text: text}
	}
	task := func(n int, ms ...storage.Milestone) storage.Task {
		return storage.Task{Section: 1, Number: n, Code: fmt.Sprintf("共性%d", n), Title: "t", Milestones: ms}
	}
	a, b, c, d := m("2022-06-30", "A"), m("2021-10-31", "B"), m("2021-10-31", "C"), m("2021-03-31", "D")
	x, y, z := m("2021-12-31", "X"), m("2021-12-31", "Y"), m("2021-09-30", "Z")
	p, q := m("2021-09-30", "P"), m("2021-12-31", "Q")
	// The previous version: first four milestones on task 1, then a
	// document with two (C and D retired).
	for i, tasks := range [][]storage.Task{
		{task(1, a, b, c, d), task(2, x, y, z), task(3, p, q)},
		{task(1, a, b), task(2, x, y, z), task(3, p, q)},
	} {
		if _, err := s.Seed(ctx, tasks, fmt.Sprintf("old-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]uint{}
	var all []storage.Milestone
	if err := s.DB().Order("id").Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		ids[m.Text] = m.ID
	}
	// What users did then: B done, A extended, an entry on each milestone.
	done := time.Date(2021, 9, 25, 1, 0, 0, 0, time.UTC)
	ext := time.Date(2021, 9, 22, 1, 0, 0, 0, time.UTC)
	db := s.DB()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Exec(`UPDATE milestones SET done_at = ?, open = FALSE WHERE id = ?`, done, ids["B"]).Error)
	must(db.Exec(`UPDATE milestones SET due = '2022-09-30', extended_at = ? WHERE id = ?`, ext, ids["A"]).Error)
	var entries []storage.Progress
	for _, m := range all {
		entries = append(entries, storage.Progress{TaskID: m.TaskID, MilestoneID: &m.ID, MilestoneSeq: m.Seq,
			Kind: storage.KindReport, Author: "U1", Text: "节点" + fmt.Sprint(m.Seq) + " " + m.Text})
	}
	entries = append(entries, storage.Progress{TaskID: all[0].TaskID, Kind: storage.KindReport, Author: "U1", Text: "整体"})
	must(db.Create(&entries).Error)
	// Forget that the migration ran, as a database of the previous version.
	// (A previous version's database has no schema fingerprint either.)
	must(db.Exec(`DELETE FROM meta WHERE name IN ('migration:milestones-by-due-date', 'schema')`).Error)
	must(s.Close())

	s, err = storage.Open(path)
	if err != nil {
		t.Fatalf("Open with the migration pending: %v", err)
	}
	defer s.Close()
	type row struct {
		Text    string
		Seq     int
		Retired bool
	}
	read := func() map[uint]row {
		var ms []storage.Milestone
		must(s.DB().Order("id").Find(&ms).Error)
		out := map[uint]row{}
		for _, m := range ms {
			out[m.ID] = row{m.Text, m.Seq, m.Retired}
		}
		return out
	}
	want := map[uint]row{
		// Live by date, then retired by date.
		ids["A"]: {"A", 2, false}, ids["B"]: {"B", 1, false}, ids["D"]: {"D", 3, true}, ids["C"]: {"C", 4, true},
		// Ties keep the order written.
		ids["X"]: {"X", 2, false}, ids["Y"]: {"Y", 3, false}, ids["Z"]: {"Z", 1, false},
		// Already in order: untouched.
		ids["P"]: {"P", 1, false}, ids["Q"]: {"Q", 2, false},
	}
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Errorf("milestones after the migration (-want +got):\n%s", diff)
	}
	var got []storage.Progress
	must(s.DB().Order("id").Find(&got).Error)
	for _, p := range got {
		wantSeq := 0
		if p.MilestoneID != nil {
			wantSeq = want[*p.MilestoneID].Seq
		}
		if p.MilestoneSeq != wantSeq {
			t.Errorf("entry %q: milestone_seq = %d; want %d", p.Text, p.MilestoneSeq, wantSeq)
		}
	}

	// The new parser's document: the same milestones, by date. Seeding
	// finds each milestone at its new number.
	if _, err := s.Seed(ctx, []storage.Task{task(1, b, a), task(2, z, x, y), task(3, p, q)}, "new"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Errorf("milestones after the re-seed (-want +got):\n%s", diff)
	}
	t1, err := s.FindTask(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := t1.Milestones[0]; m.Text != "B" || m.DoneAt == nil || !m.DoneAt.Equal(done) || m.Open {
		t.Errorf("节点1 after the re-seed = %+v; want B, done on %v", m, done)
	}
	if m := t1.Milestones[1]; m.Text != "A" || m.Due != date("2022-09-30") || m.PlannedDue != date("2022-06-30") ||
		m.ExtendedAt == nil || !m.ExtendedAt.Equal(ext) {
		t.Errorf("节点2 after the re-seed = %+v; want A extended to 2022-09-30 on %v", m, ext)
	}
}
