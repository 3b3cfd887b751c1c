package storage_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

func openStore(t testing.TB) (*storage.Store, string) {
	t.Helper()
	path := testenv.DSN(t, "taskbot.db")
	s, err := storage.Open(path)
	if err != nil {
		t.Fatalf("Open(%q) error: %v", path, err)
	}
	t.Cleanup(func() {
		testenv.CheckShareCounts(t, s)
		s.Close()
	})
	return s, path
}

func records(t testing.TB) []storage.Task {
	t.Helper()
	d, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	return d.Records()
}

// tableDump is every row of every table, as text, ordered by primary key.
type tableDump map[string][][]string

// Columns that record when a row was written, not what it says.
var stampColumns = []string{"created_at", "updated_at"}

// dump reads every table through store.DB(), ordered by primary key, leaving
// out the columns named in skip.
func dump(t *testing.T, s *storage.Store, skip ...string) tableDump {
	t.Helper()
	db := s.DB()
	all, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, name := range all {
		// taskbot_version (PostgreSQL) is the data version, moved by any
		// write statement, even one that changes no row; table_versions
		// likewise, and so is the log plan_changes. share_counts is derived
		// from shares (checked by CheckShareCounts).
		if !strings.HasPrefix(name, "sqlite_") && name != "taskbot_version" && name != "table_versions" && name != "share_counts" && name != "plan_changes" {
			tables = append(tables, name)
		}
	}
	sort.Strings(tables)
	if len(tables) < 5 {
		t.Fatalf("only tables %v", tables)
	}
	out := tableDump{}
	for _, table := range tables {
		cols, err := db.Migrator().ColumnTypes(table)
		if err != nil {
			t.Fatal(err)
		}
		var keep, pk []string
		for _, c := range cols {
			if !slices.Contains(skip, c.Name()) && !slices.Contains(skip, table+"."+c.Name()) {
				keep = append(keep, fmt.Sprintf("%q", c.Name()))
			}
			if isPK, _ := c.PrimaryKey(); isPK {
				pk = append(pk, fmt.Sprintf("%q", c.Name()))
			}
		}
		if len(pk) == 0 {
			pk = keep // every table has a key; this is only a fallback
		}
		q := fmt.Sprintf("SELECT %s FROM %q ORDER BY %s", strings.Join(keep, ", "), table, strings.Join(pk, ", "))
		if rows := textRows(t, db, q); len(rows) > 0 {
			out[table] = rows
		}
	}
	return out
}

// textRows reads query's rows with every value as text (bytes as the
// string they hold): the drivers' types differ.
func textRows(t testing.TB, db *gorm.DB, query string) [][]string {
	_, rows := textColumns(t, db, query)
	return rows
}

// textColumns is textRows with the columns' names.
func textColumns(t testing.TB, db *gorm.DB, query string) (cols []string, out [][]string) {
	t.Helper()
	rows, err := db.Raw(query).Rows()
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err = rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

func counts(d tableDump) map[string]int {
	c := map[string]int{}
	for k, v := range d {
		c[k] = len(v)
	}
	return c
}

func TestSeedTwiceSameVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	_, res, err := seeds.Load(ctx, s, seeds.Xuchang(), nil)
	if err != nil {
		t.Fatalf("Load error: %v", err)
	}
	if res.Created != 24 || res.Updated != 0 || res.Skipped {
		t.Errorf("first Load = %+v; want 24 created", res)
	}
	first := dump(t, s)
	_, res, err = seeds.Load(ctx, s, seeds.Xuchang(), nil)
	if err != nil {
		t.Fatalf("second Load error: %v", err)
	}
	if !res.Skipped {
		t.Errorf("second Load = %+v; want skipped", res)
	}
	if diff := cmp.Diff(first, dump(t, s)); diff != "" {
		t.Errorf("rows changed by a second Load (-first +second):\n%s", diff)
	}
	want := map[string]int{"tasks": 24, "milestones": 28}
	for table, n := range want {
		if got := len(first[table]); got != n {
			t.Errorf("table %s has %d rows; want %d", table, got, n)
		}
	}
}

// TestSeedForced re-seeds with a different version: every task is found
// unchanged and left alone, and when every task is rewritten all the same
// (v3), the rows come out the same.
func TestSeedForced(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	if _, err := s.Seed(ctx, records(t), "v1"); err != nil {
		t.Fatal(err)
	}
	skip := append([]string{"meta.value"}, stampColumns...)
	first := dump(t, s, skip...)
	defer func() { *storage.SkipUnchanged = true }()
	for _, v := range []string{"v2", "", "v3"} {
		*storage.SkipUnchanged = v != "v3"
		res, err := s.Seed(ctx, records(t), v)
		if err != nil {
			t.Fatalf("Seed(%q) error: %v", v, err)
		}
		want := storage.SeedResult{Unchanged: 24}
		if v == "v3" {
			want = storage.SeedResult{Updated: 24}
		}
		if got := (storage.SeedResult{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Skipped: res.Skipped}); !reflect.DeepEqual(got, want) {
			t.Errorf("Seed(%q) = %+v; want %+v", v, got, want)
		}
		if len(res.UpdatedCodes) != want.Updated || len(res.CreatedCodes) != 0 || len(res.MissingCodes) != 0 {
			t.Errorf("Seed(%q) codes: created %v, updated %d, missing %v", v, res.CreatedCodes, len(res.UpdatedCodes), res.MissingCodes)
		}
		again := dump(t, s, skip...)
		if diff := cmp.Diff(counts(first), counts(again)); diff != "" {
			t.Errorf("row counts changed by Seed(%q) (-first +now):\n%s", v, diff)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("rows changed by Seed(%q) (-first +now):\n%s", v, diff)
		}
	}
	var version string
	if err := s.DB().Raw(`SELECT value FROM meta WHERE name = 'seed_version'`).Scan(&version).Error; err != nil {
		t.Fatal(err)
	}
	if version != "v3" {
		t.Errorf("seed_version = %q; want v3", version)
	}
}

func milestone(t *testing.T, s *storage.Store, code string, seq int) storage.Milestone {
	t.Helper()
	var m storage.Milestone
	err := s.DB().Where("task_id = (SELECT id FROM tasks WHERE code = ?) AND seq = ?", code, seq).Take(&m).Error
	if err != nil {
		t.Fatalf("milestone %s/%d: %v", code, seq, err)
	}
	return m
}

// TestSeedKeepsUserState marks a milestone done and extends another, then
// re-seeds a changed document: the users' state survives, the document's
// fields are refreshed, and a milestone the document dropped is retired.
func TestSeedKeepsUserState(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	if _, err := s.Seed(ctx, records(t), "v1"); err != nil {
		t.Fatal(err)
	}
	done := time.Date(2021, 12, 20, 10, 0, 0, 0, time.UTC)
	extended := time.Date(2022, 11, 1, 10, 0, 0, 0, time.UTC)
	newDue := storage.NewDate(2023, 6, 30)

	m1 := milestone(t, s, "共性6", 1)
	if err := s.DB().Model(&m1).Updates(map[string]any{"done_at": done, "open": false}).Error; err != nil {
		t.Fatal(err)
	}
	m2 := milestone(t, s, "共性6", 2)
	if err := s.DB().Model(&m2).Updates(map[string]any{"extended_at": extended, "due": newDue}).Error; err != nil {
		t.Fatal(err)
	}
	before := dump(t, s, "meta.value", "updated_at", "tasks.next_due", "tasks.rank", "unit_tasks.next_due", "unit_tasks.rank")

	// The next document moves both dates of 共性6, rewords them, and drops
	// the third milestone of 共性5.
	recs := records(t)
	for i := range recs {
		switch recs[i].Code {
		case "共性6":
			ms := recs[i].Milestones
			ms[0].Due, ms[0].PlannedDue, ms[0].Text = storage.NewDate(2022, 1, 31), storage.NewDate(2022, 1, 31), "改：调查核查"
			ms[1].Due, ms[1].PlannedDue, ms[1].Text = storage.NewDate(2023, 3, 31), storage.NewDate(2023, 3, 31), "改：能力匹配"
		case "共性5":
			recs[i].Milestones = recs[i].Milestones[:2]
		}
	}
	if _, err := s.Seed(ctx, recs, "v2"); err != nil {
		t.Fatal(err)
	}

	got1 := milestone(t, s, "共性6", 1)
	if got1.DoneAt == nil || !got1.DoneAt.Equal(done) || got1.Open {
		t.Errorf("done milestone after re-seed: DoneAt %v, Open %v; want %v, false", got1.DoneAt, got1.Open, done)
	}
	if got1.PlannedDue != storage.NewDate(2022, 1, 31) || got1.Text != "改：调查核查" {
		t.Errorf("done milestone after re-seed: PlannedDue %s, Text %q; want the new document's", got1.PlannedDue, got1.Text)
	}
	got2 := milestone(t, s, "共性6", 2)
	if got2.ExtendedAt == nil || !got2.ExtendedAt.Equal(extended) {
		t.Errorf("extended milestone after re-seed: ExtendedAt %v; want %v", got2.ExtendedAt, extended)
	}
	if got2.Due != newDue {
		t.Errorf("extended milestone after re-seed: Due %s; want the extension %s", got2.Due, newDue)
	}
	if got2.PlannedDue != storage.NewDate(2023, 3, 31) || got2.Text != "改：能力匹配" || !got2.Open {
		t.Errorf("extended milestone after re-seed: PlannedDue %s, Text %q, Open %v; want 2023-03-31, the new text, open", got2.PlannedDue, got2.Text, got2.Open)
	}
	got3 := milestone(t, s, "共性5", 3)
	if !got3.Retired || got3.Open {
		t.Errorf("dropped milestone: Retired %v, Open %v; want retired and closed", got3.Retired, got3.Open)
	}
	if got3.Due != storage.NewDate(2022, 6, 30) || got3.Text == "" {
		t.Errorf("dropped milestone lost its content: %+v", got3)
	}
	after := dump(t, s, "meta.value", "updated_at", "tasks.next_due", "tasks.rank", "unit_tasks.next_due", "unit_tasks.rank")
	if diff := cmp.Diff(counts(before), counts(after)); diff != "" {
		t.Errorf("row counts changed by the re-seed (-before +after):\n%s", diff)
	}

	// The original document brings the milestone back, with the users' state.
	if _, err := s.Seed(ctx, records(t), "v3"); err != nil {
		t.Fatal(err)
	}
	if got3 := milestone(t, s, "共性5", 3); got3.Retired || !got3.Open {
		t.Errorf("restored milestone: Retired %v, Open %v; want back in force", got3.Retired, got3.Open)
	}
	if got1 := milestone(t, s, "共性6", 1); got1.DoneAt == nil || got1.Open {
		t.Errorf("done milestone after the third seed: DoneAt %v, Open %v", got1.DoneAt, got1.Open)
	}

	// FindTask shows the same.
	task, err := s.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Milestones) != 2 || task.Milestones[0].DoneAt == nil || task.Milestones[1].Due != newDue {
		t.Errorf("FindTask(1, 6) milestones = %+v", task.Milestones)
	}
}

func TestOpenPragmas(t *testing.T) {
	s, path := openStore(t)
	if s.Dialect() != storage.SQLite {
		t.Skip("SQLite's settings")
	}
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := s.DB().Raw("PRAGMA " + tt.pragma).Row().Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q; want %q", tt.pragma, got, tt.want)
		}
	}
	// The settings hold on every pooled connection, not just the first.
	db, _ := s.DB().DB()
	db.SetMaxIdleConns(4)
	var wg = make(chan error, 4)
	for range 4 {
		go func() {
			var fk int
			err := s.DB().Raw("PRAGMA foreign_keys").Row().Scan(&fk)
			if err == nil && fk != 1 {
				err = fmt.Errorf("foreign_keys = %d", fk)
			}
			wg <- err
		}()
	}
	for range 4 {
		if err := <-wg; err != nil {
			t.Error(err)
		}
	}
	// Reopening an existing file migrates again without harm.
	s2, err := storage.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	s2.Close()

	if _, err := storage.Open(""); storage.ErrorCode(err) != storage.EINVALID {
		t.Errorf("Open(\"\") error = %v; want EINVALID", err)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	s, _ := openStore(t)
	err := s.DB().Create(&storage.Measure{TaskID: 9999, Seq: 1, Text: "orphan"}).Error
	if err == nil {
		t.Errorf("creating a measure of a missing task succeeded; want a foreign key error")
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s, err := storage.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil {
		t.Fatalf("Load into :memory: error: %v", err)
	}
	task, err := s.FindTask(ctx, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if task.Code != "个性1" {
		t.Errorf("FindTask(2, 1).Code = %q; want 个性1", task.Code)
	}
	if _, err := s.FindTask(ctx, 1, 99); storage.ErrorCode(err) != storage.ENOTFOUND {
		t.Errorf("FindTask(1, 99) error = %v; want ENOTFOUND", err)
	}
}

// TestBulkAndIncrementalSeedAgree seeds a document with an empty list into
// an empty database (bulk path) and, task by task, into one that already
// has a task (incremental path): the rows of tasks and of what they hold
// (milestones, measures, leaders, units) must be the same.
func TestBulkAndIncrementalSeedAgree(t *testing.T) {
	ctx := context.Background()
	doc := []storage.Task{
		{Section: 1, Number: 1, Code: "共性1", Title: "甲", Units: []storage.TaskUnit{
			{Role: storage.RoleResponsible, Unit: storage.Unit{Name: "乙"}}, {Role: storage.RoleLead, Unit: storage.Unit{Name: "甲"}},
			{Role: storage.RoleLead, Unit: storage.Unit{Name: "甲"}}}},
		{Section: 1, Number: 2, Code: "共性2", Title: "乙", Measures: []storage.Measure{{Text: "措施"}}, Leaders: []storage.Leader{{Post: "市政府市长"}},
			Milestones: []storage.Milestone{{Due: storage.NewDate(2022, 2, 28), Text: "节点"}, {Due: storage.NewDate(2021, 12, 31), Text: "早"}},
			Units:      []storage.TaskUnit{{Role: storage.RoleLead, Unit: storage.Unit{Name: "乙"}}}},
		{Section: 1, Number: 3, Code: "共性3", Title: "丙", Ongoing: true, Units: []storage.TaskUnit{{Role: storage.RoleLead, Unit: storage.Unit{Name: "甲"}}}},
	}
	rowsOf := func(s *storage.Store) []map[string]any {
		var rows []map[string]any
		if err := s.DB().Raw("SELECT section, number, doc, next_due, rank FROM tasks ORDER BY section, number").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT u.name, ut.role, ut.section, ut.number, ut.next_due, ut.rank FROM unit_tasks ut
				JOIN units u ON u.id = ut.unit_id ORDER BY u.name, ut.role, ut.section, ut.number`,
			`SELECT t.code, m.seq, m.due, m.planned_due, m.text, m.open, m.retired, m.done_at, m.extended_at
				FROM milestones m JOIN tasks t ON t.id = m.task_id ORDER BY t.code, m.seq`,
			`SELECT t.code, x.seq, x.text FROM measures x JOIN tasks t ON t.id = x.task_id ORDER BY t.code, x.seq`,
			`SELECT t.code, x.seq, x.post FROM leaders x JOIN tasks t ON t.id = x.task_id ORDER BY t.code, x.seq`,
			`SELECT t.code, u.name, x.role, x.seq FROM task_units x JOIN tasks t ON t.id = x.task_id
				JOIN units u ON u.id = x.unit_id ORDER BY t.code, u.name, x.role`,
		} {
			var more []map[string]any
			if err := s.DB().Raw(q).Scan(&more).Error; err != nil {
				t.Fatal(err)
			}
			rows = append(rows, more...)
		}
		return rows
	}
	bulk, err := storage.Open(testenv.DSN(t, "bulk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bulk.Close()
	if _, err := bulk.Seed(ctx, doc, "v1"); err != nil {
		t.Fatal(err)
	}
	inc, err := storage.Open(testenv.DSN(t, "inc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer inc.Close()
	if _, err := inc.Seed(ctx, doc[:1], "v0"); err != nil { // bulk for one task…
		t.Fatal(err)
	}
	if _, err := inc.Seed(ctx, doc, "v1"); err != nil { // …then task by task
		t.Fatal(err)
	}
	if _, err := inc.Seed(ctx, doc, "v2"); err != nil { // and again, both incremental
		t.Fatal(err)
	}
	if diff := cmp.Diff(rowsOf(bulk), rowsOf(inc)); diff != "" {
		t.Errorf("bulk and incremental seeding differ (-bulk +incremental):\n%s", diff)
	}
}

// TestSeedWithUnitsAgrees: seeding a list with the organisation's units in
// one transaction (as taskbot's start does) leaves the same units, with the
// same IDs, the same holders and the same shares as seeding it and then
// applying the units, on an empty database and on a seeded one.
func TestSeedWithUnitsAgrees(t *testing.T) {
	ctx := context.Background()
	unit := func(role, name string) storage.TaskUnit {
		return storage.TaskUnit{Role: role, Unit: storage.Unit{Name: name}}
	}
	doc := []storage.Task{
		{Section: 1, Number: 1, Code: "共性1", Title: "甲", Units: []storage.TaskUnit{unit(storage.RoleLead, "市局"), unit(storage.RoleResponsible, "各县")},
			Milestones: []storage.Milestone{{Due: storage.NewDate(2022, 2, 28), Text: "节点"}, {Due: storage.NewDate(2021, 12, 31), Text: "早"}}},
		{Section: 1, Number: 2, Code: "共性2", Title: "乙", Ongoing: true, Units: []storage.TaskUnit{unit(storage.RoleLead, "乙县"), unit(storage.RoleResponsible, "各县")}},
		{Section: 1, Number: 3, Code: "共性3", Title: "丙", Units: []storage.TaskUnit{unit(storage.RoleLead, "甲县")},
			Milestones: []storage.Milestone{{Due: storage.NewDate(2022, 6, 30), Text: "节点"}}},
	}
	org := []storage.UnitSpec{{Name: "各县", Aliases: []string{"各县区"}, Members: []string{"甲县", "乙县", "丙县"}}}
	rowsOf := func(s *storage.Store) []map[string]any {
		var rows []map[string]any
		for _, q := range []string{
			`SELECT id, name FROM units ORDER BY id`,
			`SELECT c.name AS collective, m.name AS member, um.seq FROM unit_members um JOIN units c ON c.id = um.collective_id
				JOIN units m ON m.id = um.member_id ORDER BY c.name, um.seq`,
			`SELECT alias, unit_id FROM unit_aliases ORDER BY alias`,
			`SELECT u.name, ut.role, ut.via_id, ut.section, ut.number, ut.next_due, ut.rank FROM unit_tasks ut
				JOIN units u ON u.id = ut.unit_id ORDER BY u.name, ut.role, ut.section, ut.number`,
			`SELECT t.code, COALESCE(m.seq, 0) AS seq, u.name, s.state, s.due, s.retired, s.task_closed FROM shares s
				JOIN tasks t ON t.id = s.task_id JOIN units u ON u.id = s.unit_id LEFT JOIN milestones m ON m.id = s.milestone_id
				WHERE NOT s.retired ORDER BY t.code, seq, u.name`, // apart, 各县 held shares until it had members
		} {
			var more []map[string]any
			if err := s.DB().Raw(q).Scan(&more).Error; err != nil {
				t.Fatal(err)
			}
			rows = append(rows, more...)
		}
		return rows
	}
	open := func(name string) *storage.Store {
		s, err := storage.Open(testenv.DSN(t, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { testenv.CheckShareCounts(t, s); s.Close() })
		return s
	}
	apart := open("apart.db")
	if _, err := apart.Seed(ctx, doc, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := apart.ApplyUnits(ctx, org); err != nil {
		t.Fatal(err)
	}
	want := rowsOf(apart)
	together := open("together.db")
	if _, err := together.SeedFrom(ctx, doc, "v1", "", org); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rowsOf(together)); diff != "" {
		t.Errorf("a first seeding with the units differs from seeding, then applying them (-apart +together):\n%s", diff)
	}
	if err := together.ApplyUnits(ctx, org); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rowsOf(together)); diff != "" {
		t.Errorf("applying the same units again changed the database:\n%s", diff)
	}
	later := open("later.db")
	if _, err := later.Seed(ctx, doc[:1], "v0"); err != nil {
		t.Fatal(err)
	}
	if _, err := later.SeedFrom(ctx, doc, "v1", "", org); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rowsOf(later)); diff != "" {
		t.Errorf("a re-seeding with the units differs from seeding, then applying them (-apart +later):\n%s", diff)
	}
}

// TestCloseSettlesEveryRequest: a close-out request for the task, then one
// for a milestone; closing the task decides the first and settles both.
func TestCloseSettlesEveryRequest(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(testenv.DSN(t, "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, _, err := seeds.Load(ctx, store, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	t5, err := store.FindTask(ctx, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	task := &storage.Progress{TaskID: t5.ID, Kind: storage.KindCloseRequest, Author: "U1", Text: "全部完成"}
	if err := store.CreateProgress(ctx, task); err != nil {
		t.Fatal(err)
	}
	ms := &storage.Progress{TaskID: t5.ID, Kind: storage.KindCloseRequest, MilestoneSeq: 3, Author: "U1", Text: "节点3完成"}
	if err := store.CreateProgress(ctx, ms); err != nil {
		t.Fatal(err)
	}
	d, err := store.CloseTask(ctx, t5.ID, storage.Actor{ID: "U_SUP"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Request == nil || d.Request.ID != task.ID {
		t.Errorf("CloseTask decided %+v; want the task's own request %d", d.Request, task.ID)
	}
	if left, err := store.PendingRequests(ctx, t5.ID); err != nil || len(left) != 0 {
		t.Errorf("after closing, %d requests still pending (%v)", len(left), err)
	}
}

// TestSlackIDMergesPeople: 张三 was bound in chat by Slack ID; the file
// lists him by email as a supervisor. Resolving the email finds the same
// Slack user: one person with both roles, at every start.
func TestSlackIDMergesPeople(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(testenv.DSN(t, "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, _, err := seeds.Load(ctx, store, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	names, err := store.UnitNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cg uint
	for _, n := range names {
		if n.Unit == "市城管局" {
			cg = n.UnitID
		}
	}
	if _, err := store.Bind(ctx, cg, storage.PersonRef{SlackID: "U0ZHANG", Name: "张三"}, storage.Actor{ID: "U_SUP"}); err != nil {
		t.Fatal(err)
	}
	spec := storage.PeopleSpec{Supervisors: []storage.PersonRef{{Email: "zhang@example.gov.cn"}}}
	for start := 0; start < 2; start++ {
		if err := store.ApplyPeople(ctx, spec); err != nil {
			t.Fatal(err)
		}
		emails, err := store.UnresolvedEmails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range emails {
			if err := store.SetSlackID(ctx, p.ID, "U0ZHANG"); err != nil {
				t.Fatalf("start %d: SetSlackID = %v", start, err)
			}
		}
	}
	p, err := store.FindPerson(ctx, "U0ZHANG")
	if err != nil {
		t.Fatal(err)
	}
	roles, err := store.PersonRoles(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !roles.Supervisor || roles.Units[cg] == "" || p.Email != "zhang@example.gov.cn" {
		t.Errorf("merged person %+v roles %+v; want supervisor, member of 市城管局, with the email", p, roles)
	}
	var people int64
	store.DB().Model(&storage.Person{}).Count(&people)
	if people != 1 {
		t.Errorf("%d people; want 1", people)
	}
}

// TestDoneSettlesMilestoneRequests: an extension asked for milestone 1,
// then the milestone is marked done: nothing stays pending.
func TestDoneSettlesMilestoneRequests(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(testenv.DSN(t, "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, _, err := seeds.Load(ctx, store, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	for _, approve := range []bool{false, true} {
		number := 5
		if approve {
			number = 7
		}
		tk, err := store.FindTask(ctx, 1, number)
		if err != nil {
			t.Fatal(err)
		}
		ext := &storage.Progress{TaskID: tk.ID, Kind: storage.KindExtensionRequest, MilestoneSeq: 1, Author: "U1",
			Text: "需要更多时间", ExtendTo: storage.NewDate(2021, 12, 31)}
		if err := store.CreateProgress(ctx, ext); err != nil {
			t.Fatal(err)
		}
		if approve {
			if err := store.CreateProgress(ctx, &storage.Progress{TaskID: tk.ID, Kind: storage.KindCloseRequest, MilestoneSeq: 1, Author: "U1", Text: "已完成"}); err != nil {
				t.Fatal(err)
			}
			if _, err := store.ApproveMilestone(ctx, tk.ID, 1, storage.Actor{ID: "U_SUP"}); err != nil {
				t.Fatal(err)
			}
		} else if _, err := store.MarkNotConcerned(ctx, tk.ID, 1, 0, "测试：各单位均不涉及", storage.Actor{ID: "U_SUP"}); err != nil {
			t.Fatal(err) // every share settled: the milestone is done
		}
		if left, err := store.PendingRequests(ctx, tk.ID); err != nil || len(left) != 0 {
			t.Errorf("approve=%v: %d requests still pending after the milestone was done (%v)", approve, len(left), err)
		}
	}
}

// TestApplyUnitsSkipsUnchanged: applying the same organisation again (every
// start) does no work; a changed one is applied.
func TestApplyUnitsSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(testenv.DSN(t, "u.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, _, err := seeds.Load(ctx, store, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	specs := []storage.UnitSpec{{Name: "各县（市、区）", Members: []string{"长葛市"}}}
	count := func() int64 {
		var n int64
		store.DB().Model(&storage.UnitTask{}).Count(&n)
		return n
	}
	if err := store.ApplyUnits(ctx, specs); err != nil {
		t.Fatal(err)
	}
	want := count()
	store.DB().Exec("DELETE FROM unit_tasks") // a rebuild would restore these
	if err := store.ApplyUnits(ctx, specs); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Errorf("unchanged specs rebuilt unit_tasks (%d rows)", got)
	}
	specs[0].Members = append(specs[0].Members, "禹州市")
	if err := store.ApplyUnits(ctx, specs); err != nil {
		t.Fatal(err)
	}
	if got := count(); got <= want {
		t.Errorf("changed specs: %d unit_tasks rows; want more than %d", got, want)
	}
}

// TestSeedMatchesMilestonesByDate: a revised document that adds a deadline
// before the others renumbers them by date, and every done mark, entry
// and share stays with its own deadline.
func TestSeedMatchesMilestonesByDate(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	if _, err := s.Seed(ctx, records(t), "v1"); err != nil {
		t.Fatal(err)
	}
	t6, err := s.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveMilestone(ctx, t6.ID, 1, storage.Actor{ID: "U_SUP"}); err != nil {
		t.Fatal(err)
	}
	entry := &storage.Progress{TaskID: t6.ID, Kind: storage.KindReport, MilestoneSeq: 2, Author: "U1", Text: "节点2 的进展"}
	if err := s.CreateProgress(ctx, entry); err != nil {
		t.Fatal(err)
	}
	recs := records(t)
	for i := range recs {
		if recs[i].Code == "共性6" {
			early := storage.Milestone{Due: storage.NewDate(2021, 8, 31), PlannedDue: storage.NewDate(2021, 8, 31), Text: "新增：先行排查"}
			recs[i].Milestones = append([]storage.Milestone{early}, recs[i].Milestones...)
		}
	}
	if _, err := s.Seed(ctx, recs, "v2"); err != nil {
		t.Fatal(err)
	}
	m1, m2, m3 := milestone(t, s, "共性6", 1), milestone(t, s, "共性6", 2), milestone(t, s, "共性6", 3)
	if m1.Text != "新增：先行排查" || m1.Done() || !m1.Open {
		t.Errorf("节点1 = %+v; want the new 08-31 deadline, open", m1)
	}
	if m2.Due != storage.NewDate(2021, 12, 31) || !m2.Done() {
		t.Errorf("节点2 = %+v; want the 12-31 deadline, still done", m2)
	}
	if m3.Due != storage.NewDate(2022, 12, 31) || m3.Done() {
		t.Errorf("节点3 = %+v; want the 2022-12-31 deadline, open", m3)
	}
	var p storage.Progress
	if err := s.DB().Take(&p, entry.ID).Error; err != nil || p.MilestoneSeq != 3 || *p.MilestoneID != m3.ID {
		t.Errorf("the entry on the 2022-12-31 deadline now says 节点%d (milestone %v); want 节点3 (%d)", p.MilestoneSeq, p.MilestoneID, m3.ID)
	}
}

// TestPoolOfOne: a store whose pool is capped at one connection (as tests
// of in-memory databases do) still answers: the data-version reader has a
// connection of its own.
func TestPoolOfOne(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, _ := openStore(t)
	sqlDB, err := s.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	if _, err := s.SectionCounts(ctx); err != nil {
		t.Fatalf("SectionCounts with a pool of one = %v", err)
	}
	if _, ok, err := s.DataVersion(ctx); err != nil || !ok {
		t.Errorf("DataVersion = %v, %v; want a version", ok, err)
	}
}

// TestFirstSeedKeepsIndexes: a first seeding builds the derived tables'
// indexes after their rows (laterIndexes), and on PostgreSQL adds the
// foreign keys after them; they come back exactly as the schema makes
// them, partial indexes included.
func TestFirstSeedKeepsIndexes(t *testing.T) {
	ctx := context.Background()
	indexes := func(s *storage.Store) map[string]string {
		q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('shares', 'unit_tasks') AND sql IS NOT NULL`
		if s.Dialect() == storage.Postgres {
			q = `SELECT indexname AS name, replace(indexdef, current_schema() || '.', '') AS sql FROM pg_indexes
				WHERE schemaname = current_schema() AND tablename IN ('shares', 'unit_tasks')`
		}
		var rows []struct{ Name, SQL string }
		if err := s.DB().Raw(q).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == storage.Postgres {
			// and the foreign keys, which a first seeding also adds after
			// the rows.
			var keys []struct{ Name, SQL string }
			if err := s.DB().Raw(`SELECT r.relname || '.' || c.conname AS name, pg_get_constraintdef(c.oid) AS sql
				FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
				WHERE c.contype = 'f' AND r.relnamespace = current_schema()::regnamespace`).Scan(&keys).Error; err != nil {
				t.Fatal(err)
			}
			if len(keys) < 8 {
				t.Fatalf("only foreign keys %v", keys)
			}
			rows = append(rows, keys...)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.Name] = r.SQL
		}
		return out
	}
	empty, err := storage.Open(testenv.DSN(t, "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	want := indexes(empty)
	for _, name := range []string{"idx_shares_tally", "idx_shares_queue", "idx_shares_whole", "idx_unit_tasks_order", "idx_unit_tasks_task_id"} {
		if want[name] == "" {
			t.Fatalf("the schema has no index %s: %v", name, want)
		}
	}
	seeded := testenv.Store(t, testenv.Units(storage.UnitSpec{Name: "各县（市、区）", Members: []string{"长葛市", "禹州市"}}))
	if _, err := seeded.UnitStats(ctx, testenv.Date(t, "2022-01-01"), 0); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, indexes(seeded)); diff != "" {
		t.Errorf("indexes and keys after a first seeding differ from the schema's (-schema +seeded):\n%s", diff)
	}
}

// TestUnitBackAfterMilestoneDone: a unit leaves a task, the milestone is
// done without it, and the unit comes back. Its open share of the done
// milestone stays retired: the unit is not overdue on it, and the weekly
// count of its overdue shares equals what it is shown.
func TestUnitBackAfterMilestoneDone(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	task := func(units ...string) []storage.Task {
		t := storage.Task{Section: 1, Number: 1, Code: "共性1", Title: "甲",
			Milestones: []storage.Milestone{{Due: storage.NewDate(2021, 12, 31), Text: "节点"}}}
		for _, u := range units {
			t.Units = append(t.Units, storage.TaskUnit{Role: storage.RoleResponsible, Unit: storage.Unit{Name: u}})
		}
		other := storage.Task{Section: 1, Number: 2, Code: "共性2", Title: "乙", Units: []storage.TaskUnit{{Role: storage.RoleLead, Unit: storage.Unit{Name: "乙县"}}},
			Milestones: []storage.Milestone{{Due: storage.NewDate(2021, 11, 30), Text: "节点"}}}
		return []storage.Task{t, other}
	}
	if _, err := s.Seed(ctx, task("甲局", "乙县"), "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, task("甲局"), "v2"); err != nil { // 乙县 leaves 共性1
		t.Fatal(err)
	}
	t1, err := s.FindTask(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveMilestone(ctx, t1.ID, 1, fixtureSupervisor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, task("甲局", "乙县"), "v3"); err != nil { // and comes back
		t.Fatal(err)
	}
	var live int64
	if err := s.DB().Raw(`SELECT COUNT(*) FROM shares sh JOIN units u ON u.id = sh.unit_id
		WHERE u.name = '乙县' AND sh.task_id = ? AND NOT sh.retired AND sh.state = 'open'`, t1.ID).Scan(&live).Error; err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("乙县 has %d open shares of 共性1's done milestone; want none", live)
	}
	got, err := s.OverdueByUnit(ctx, storage.NewDate(2022, 1, 10), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if u.Unit != "乙县" {
			continue
		}
		if u.Total != 1 || len(u.First) != 1 || u.First[0].Code != "共性2" {
			t.Errorf("乙县's overdue shares: %d, first %+v; want 1, 共性2", u.Total, u.First)
		}
		return
	}
	t.Errorf("乙县 has no overdue shares; want 共性2's: %+v", got)
}

// TestReseedSkipsOnlyUnchanged: a re-seeding leaves the unchanged tasks
// alone and rewrites the rest. For each kind of change to the list, after
// a milestone was approved and a task closed, the database must come out
// exactly as when every task is rewritten, a few at a time.
func TestReseedSkipsOnlyUnchanged(t *testing.T) {
	ctx := context.Background()
	defer func() { *storage.SkipUnchanged = true }()
	find := func(tasks []storage.Task, number int) *storage.Task {
		for i := range tasks {
			if tasks[i].Section == 1 && tasks[i].Number == number {
				return &tasks[i]
			}
		}
		t.Fatalf("no task %d", number)
		return nil
	}
	defer func() { *storage.ScopedSyncMax, *storage.SeedPass = 5000, 500 }()
	for _, c := range []struct {
		name   string
		change func([]storage.Task)
	}{
		{"nothing", func([]storage.Task) {}},
		{"given twice", func(ts []storage.Task) { ts[2] = ts[3]; ts[2].Title += "（旧稿）" }},
		{"title", func(ts []storage.Task) { find(ts, 3).Title += "（修订）" }},
		{"measure", func(ts []storage.Task) { find(ts, 5).Measures[0].Text += "。" }},
		{"leader gone", func(ts []storage.Task) { x := find(ts, 6); x.Leaders = x.Leaders[:len(x.Leaders)-1] }},
		{"new unit", func(ts []storage.Task) {
			x := find(ts, 8)
			x.Units = append(x.Units, storage.TaskUnit{Role: storage.RoleResponsible, Unit: storage.Unit{Name: "市新设局"}})
		}},
		{"units swapped", func(ts []storage.Task) { x := find(ts, 9); x.Units[0], x.Units[1] = x.Units[1], x.Units[0] }},
		{"milestone moved", func(ts []storage.Task) { find(ts, 5).Milestones[0].Due = storage.NewDate(2021, 10, 31) }},
		{"milestone reworded", func(ts []storage.Task) { find(ts, 6).Milestones[0].Text += "（调整）" }},
		{"milestone added", func(ts []storage.Task) {
			x := find(ts, 10)
			x.Milestones = append(x.Milestones, storage.Milestone{Due: storage.NewDate(2023, 6, 30), Text: "2023年6月底前"})
		}},
		{"milestone gone", func(ts []storage.Task) { x := find(ts, 6); x.Milestones = x.Milestones[:1] }},
		{"closed task changed", func(ts []storage.Task) { find(ts, 7).Goal += "。" }},
		{"status reported", func(ts []storage.Task) { find(ts, 4).DocStatus = "已完成排查。" }},
		{"other note", func(ts []storage.Task) { find(ts, 8).OtherNotes = "联系人：张三" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var dumps []tableDump
			for _, skip := range []bool{true, false} {
				// Skipping, the shares of the tasks written are synced by
				// ID; rewriting all, every task's in one pass.
				*storage.SkipUnchanged = skip
				*storage.ScopedSyncMax = map[bool]int{true: 5000, false: 0}[skip]
				// Rewriting all, five tasks are written to a pass.
				*storage.SeedPass = map[bool]int{true: 500, false: 5}[skip]
				s, err := storage.Open(testenv.DSN(t, fmt.Sprintf("reseed-%v.db", skip)))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				s.Clock = storage.Clock{Loc: testenv.Shanghai(t), AsOf: func() time.Time { return fixtureStart }, Wall: func() time.Time { return fixtureStart }}
				if _, err := s.Seed(ctx, records(t), "v1"); err != nil {
					t.Fatal(err)
				}
				t5, err := s.FindTask(ctx, 1, 5)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.ApproveMilestone(ctx, t5.ID, 2, fixtureSupervisor); err != nil {
					t.Fatal(err)
				}
				t7, err := s.FindTask(ctx, 1, 7)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.CloseTask(ctx, t7.ID, fixtureSupervisor, "完成"); err != nil {
					t.Fatal(err)
				}
				tasks := records(t)
				c.change(tasks)
				res, err := s.Seed(ctx, tasks, "v2")
				if err != nil {
					t.Fatal(err)
				}
				if skip && c.name != "nothing" && c.name != "given twice" && (res.Updated != 1 || res.Unchanged != 23) {
					t.Errorf("re-seeding = %+v; want 1 updated, 23 unchanged", res)
				}
				testenv.CheckShareCounts(t, s)
				dumps = append(dumps, dump(t, s, append([]string{"meta.value"}, stampColumns...)...))
				if !skip {
					continue
				}
				// Nothing derived was left behind: working it all out
				// again changes nothing (unit_tasks' rows come back under
				// other IDs).
				derived := func() tableDump {
					d := dump(t, s, append([]string{"meta.value", "unit_tasks.id"}, stampColumns...)...)
					sort.Slice(d["unit_tasks"], func(i, j int) bool {
						return slices.Compare(d["unit_tasks"][i], d["unit_tasks"][j]) < 0
					})
					return d
				}
				before := derived()
				if err := storage.Rederive(ctx, s); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(before, derived()); diff != "" {
					t.Errorf("working out again what derives from the re-seeded list changes it (-re-seeded +again):\n%s", diff)
				}
			}
			if diff := cmp.Diff(dumps[1], dumps[0]); diff != "" {
				t.Errorf("leaving unchanged tasks alone differs from rewriting them all (-all +skipping):\n%s", diff)
			}
		})
	}
}

// TestReseedCodesMove: a code may pass from one task to another when a
// list is amended (a section added before the others renumbers their
// codes): to a new task, and along a chain of tasks written in one
// statement. Each task keeps its row.
func TestReseedCodesMove(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	task := func(section, number int, code string) storage.Task {
		return storage.Task{Section: section, Number: number, Code: code, Title: code,
			Units: []storage.TaskUnit{{Role: storage.RoleLead, Unit: storage.Unit{Name: "甲局"}}}}
	}
	// 20 tasks; the rows are written in reverse, so that one statement
	// updating them in ID order meets each new code still in place.
	var v1 []storage.Task
	for n := 20; n >= 1; n-- {
		v1 = append(v1, task(1, n, fmt.Sprintf("共性%d", n)))
	}
	if _, err := s.Seed(ctx, v1, "v1"); err != nil {
		t.Fatal(err)
	}
	ids := map[int]uint{}
	for n := 1; n <= 20; n++ {
		x, err := s.FindTask(ctx, 1, n)
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = x.ID
	}
	// Task n takes task n+1's code; a new task in section 2 takes 共性1's.
	var v2 []storage.Task
	for n := 1; n <= 20; n++ {
		v2 = append(v2, task(1, n, fmt.Sprintf("共性%d", n+1)))
	}
	v2 = append(v2, task(2, 1, "共性1"))
	res, err := s.Seed(ctx, v2, "v2")
	if err != nil {
		t.Fatalf("re-seeding with codes moved: %v", err)
	}
	if res.Created != 1 || res.Updated != 20 {
		t.Errorf("re-seeding = %+v; want 1 created, 20 updated", res)
	}
	for n := 1; n <= 20; n++ {
		x, err := s.FindTask(ctx, 1, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("共性%d", n+1); x.Code != want || x.ID != ids[n] {
			t.Errorf("task (1, %d) = %s #%d; want %s #%d", n, x.Code, x.ID, want, ids[n])
		}
	}
	if x, err := s.FindTask(ctx, 2, 1); err != nil || x.Code != "共性1" {
		t.Errorf("task (2, 1) = %+v, %v; want 共性1", x, err)
	}
}
