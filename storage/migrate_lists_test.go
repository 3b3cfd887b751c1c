package storage_test

import (
	"context"
	"testing"

	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// TestMigrateV2Lists opens a database written before several lists (see
// testdata/make-v2-db.sh): its tasks become the default list, named after
// the seed's title at the start; every entry, share and audit survives;
// a second list may then reuse the first one's codes; a second start
// changes nothing.
func TestMigrateV2Lists(t *testing.T) {
	ctx := context.Background()
	path := copyTestdata(t, "v2.db")
	count := func(s *storage.Store, table, where string) int64 {
		t.Helper()
		var n int64
		q := s.DB().Table(table)
		if where != "" {
			q = q.Where(where)
		}
		if err := q.Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	// What the previous version wrote.
	want := map[string]int64{"tasks": 24, "progresses": 7, "shares": 294, "memberships": 6, "reminder_steps": 4,
		"shares:confirmed": 11, "shares:reported": 3}
	counts := func(s *storage.Store) map[string]int64 {
		got := map[string]int64{}
		for k := range want {
			switch k {
			case "shares:confirmed", "shares:reported":
				got[k] = count(s, "shares", "state = '"+k[len("shares:"):]+"'")
			default:
				got[k] = count(s, k, "")
			}
		}
		return got
	}
	s, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	audits := count(s, "audits", "")
	if _, _, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	for k, n := range counts(s) {
		if n != want[k] {
			t.Errorf("%s: %d after the upgrade; want %d", k, n, want[k])
		}
	}
	if got := count(s, "audits", ""); got != audits {
		t.Errorf("audits: %d after the upgrade; want the %d there were", got, audits)
	}
	lists, err := s.Lists(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 1 || lists[0].ID != storage.DefaultList || lists[0].Name != "中央生态环境保护督察整改任务清单" {
		t.Fatalf("lists after the upgrade = %+v; want the default list named after the seed's title", lists)
	}
	if n := count(s, "tasks", "list_id = 1"); n != 24 {
		t.Errorf("%d tasks in the default list; want all 24", n)
	}
	t6, err := s.FindTask(ctx, 1, 6)
	if err != nil || t6.Code != "共性6" || t6.Ref() != "共性6" || t6.Label() != "共性6" {
		t.Fatalf("FindTask(1, 6) = %+v, %v", t6, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start: nothing changes; then a second list with the same
	// codes (unique within a list since the upgrade).
	s, err = storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, res, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil || !res.Skipped {
		t.Fatalf("second start: %+v, %v; want skipped", res, err)
	}
	for k, n := range counts(s) {
		if n != want[k] {
			t.Errorf("%s: %d after a second start; want %d", k, n, want[k])
		}
	}
	_, res, err := seeds.Import(ctx, s, seeds.Xuchang(), "省督察二轮", false)
	if err != nil {
		t.Fatal(err)
	}
	if res.List.Name != "省督察二轮" || res.List.ID == storage.DefaultList || len(res.CreatedCodes) != 24 {
		t.Fatalf("import = list %+v, created %v", res.List, res.CreatedCodes)
	}
	own, err := s.FindTask(ctx, 1, 6)
	if err != nil || own.ID != t6.ID || own.Label() != "中央生态环境保护督察整改任务清单 共性6" {
		t.Fatalf("FindTask(1, 6) with two lists = %+v, %v; want the default list's, labelled with its name", own, err)
	}
	other, err := s.FindTaskByCode(ctx, res.List.ID, "共性6")
	if err != nil || other.ID == t6.ID || other.Ref() != "省督察二轮/共性6" {
		t.Fatalf("the second list's 共性6 = %+v, %v", other, err)
	}
	if n := count(s, "progresses", ""); n != 7 {
		t.Errorf("progresses: %d after importing a second list; want 7", n)
	}
}

// TestListsUpgradeBothDatabases turns a database back into the previous
// version's schema (no lists table, no list_id, codes unique across the
// table), on SQLite or PostgreSQL as the test run gives, with progress
// recorded on it; the upgrade puts every task in the default list, named
// after the seed's title at the start, and keeps the progress.
func TestListsUpgradeBothDatabases(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DSN(t, "lists.db")
	s, err := testenv.Open(dsn, testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	t6, err := s.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateProgress(ctx, &storage.Progress{TaskID: t6.ID, Kind: storage.KindReport, Author: "U1", Text: "排查完成"}); err != nil {
		t.Fatal(err)
	}
	s = reopenPrevious(t, s, dsn)
	if _, _, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	lists, err := s.Lists(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 1 || lists[0].ID != storage.DefaultList || lists[0].Name != "中央生态环境保护督察整改任务清单" {
		t.Fatalf("lists after the upgrade = %+v", lists)
	}
	got, err := s.FindTask(ctx, 1, 6)
	if err != nil || got.ID != t6.ID || got.ListID != storage.DefaultList {
		t.Fatalf("FindTask(1, 6) after the upgrade = %+v, %v", got, err)
	}
	ps, err := s.TaskProgress(ctx, t6.ID, 10)
	if err != nil || len(ps) != 1 || ps[0].Text != "排查完成" {
		t.Fatalf("progress after the upgrade = %+v, %v", ps, err)
	}
	// Codes are unique within a list now: a second list may reuse them.
	if _, res, err := seeds.Import(ctx, s, seeds.Xuchang(), "回头看", false); err != nil || len(res.CreatedCodes) != 24 {
		t.Fatalf("import after the upgrade: %v, %v", res.CreatedCodes, err)
	}
	// The new list's ID is past the default one on either database.
	if l, err := s.ListByName(ctx, "回头看"); err != nil || l.ID <= storage.DefaultList {
		t.Fatalf("ListByName = %+v, %v", l, err)
	}
	// share_counts, made again with the list, counts both lists' shares.
	if diff, err := s.CheckShareCounts(ctx); err != nil || diff != "" {
		t.Fatalf("share_counts after the upgrade and an import: %s %v", diff, err)
	}
}

// reopenPrevious turns s's database (at dsn) back into the schema before
// several lists (toPreviousSchema), closes it and opens it again: the
// upgrade runs. The store opened is closed when the test ends.
func reopenPrevious(t *testing.T, s *storage.Store, dsn string) *storage.Store {
	t.Helper()
	toPreviousSchema(t, s)
	s.Close()
	s, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// toPreviousSchema turns s's database back into the schema before several
// lists: no lists table, no list_id, doc_status or other_notes, codes
// unique across the table, the migration not run, another build's seed.
func toPreviousSchema(t *testing.T, s *storage.Store) {
	t.Helper()
	toUnlistedCounts(t, s)
	for _, q := range []string{
		"DROP TABLE lists",
		"DROP INDEX idx_tasks_list_code", "DROP INDEX idx_tasks_list_section_number",
		"ALTER TABLE tasks DROP COLUMN list_id",
		"ALTER TABLE tasks DROP COLUMN doc_status",
		"ALTER TABLE tasks DROP COLUMN other_notes",
		"CREATE UNIQUE INDEX idx_tasks_code ON tasks (code)",
		"CREATE UNIQUE INDEX idx_tasks_section_number ON tasks (section, number)",
		"DELETE FROM meta WHERE name = 'migration:lists'",
		"UPDATE meta SET value = 'previous' WHERE name = 'schema'",
	} {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// toUnlistedCounts turns shares and share_counts back into the tables
// before share_counts kept each list's counts (no list_id in either, nor
// in the shares' idx_shares_stats, since renamed idx_shares_tally;
// share_counts keyed by unit, state and due), share_counts emptied: the
// migration counts every share again. SQLite's triggers go with it (they
// read shares.list_id); PostgreSQL's stay, with the function they had.
func toUnlistedCounts(t *testing.T, s *storage.Store) {
	t.Helper()
	var qs []string
	if s.Dialect() != storage.Postgres {
		qs = []string{"DROP TRIGGER share_counts_insert", "DROP TRIGGER share_counts_update", "DROP TRIGGER share_counts_delete"}
	} else {
		qs = []string{previousShareCounts}
	}
	qs = append(qs, "DROP INDEX idx_shares_tally",
		"CREATE INDEX idx_shares_stats ON shares (unit_id, state, due, decided_at, retired, task_closed)",
		"ALTER TABLE shares DROP COLUMN list_id", "DELETE FROM meta WHERE name = 'migration:share-lists'",
		"DROP TABLE share_counts", `CREATE TABLE share_counts (unit_id bigint NOT NULL, state varchar(16) NOT NULL,
		due varchar(10) NOT NULL, day integer NOT NULL, n bigint NOT NULL, PRIMARY KEY (unit_id, state, due))`)
	for _, q := range qs {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// previousShareCounts is the function of share_counts' triggers on
// PostgreSQL before share_counts kept each list's counts (commit 2ff422e).
const previousShareCounts = `CREATE OR REPLACE FUNCTION taskbot_share_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
	BEGIN
		IF TG_OP = 'TRUNCATE' THEN
			DELETE FROM share_counts;
			RETURN NULL;
		END IF;
		IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
			INSERT INTO share_counts AS c (unit_id, state, due, day, n)
				SELECT unit_id, state, COALESCE(due, ''), COALESCE(CAST(NULLIF(due, '') AS date) - DATE '1970-01-01', 0), -COUNT(*)
				FROM old_rows WHERE NOT retired AND NOT task_closed GROUP BY 1, 2, 3, 4
			ON CONFLICT (unit_id, state, due) DO UPDATE SET n = c.n + EXCLUDED.n;
			DELETE FROM share_counts c USING (SELECT DISTINCT unit_id, state, COALESCE(due, '') AS due FROM old_rows) o
				WHERE c.unit_id = o.unit_id AND c.state = o.state AND c.due = o.due AND c.n = 0;
		END IF;
		IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
			INSERT INTO share_counts AS c (unit_id, state, due, day, n)
				SELECT unit_id, state, COALESCE(due, ''), COALESCE(CAST(NULLIF(due, '') AS date) - DATE '1970-01-01', 0), COUNT(*)
				FROM new_rows WHERE NOT retired AND NOT task_closed GROUP BY 1, 2, 3, 4
			ON CONFLICT (unit_id, state, due) DO UPDATE SET n = c.n + EXCLUDED.n;
		END IF;
		RETURN NULL;
	END $$`

// TestListsUpgradeKeepsDocStatus: a database seeded before tasks kept their
// document's 完成情况 gets it at the first start after the upgrade (the
// seed is read again although its version is the same), and the second
// start only reads.
func TestListsUpgradeKeepsDocStatus(t *testing.T) {
	ctx := context.Background()
	doc := []byte("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n整改措施：措施甲。\n" +
		"责任领导：市长\n责任单位：长葛市\n整改时限：2022年3月底前\n整改完成情况：已完成排查。\n联系方式：0374-1234567\n")
	dsn := testenv.DSN(t, "status.db")
	s, err := testenv.Open(dsn, testenv.List(doc))
	if err != nil {
		t.Fatal(err)
	}
	s = reopenPrevious(t, s, dsn)
	if _, res, err := seeds.Load(ctx, s, doc, nil); err != nil || res.Skipped || res.Updated != 1 {
		t.Fatalf("first start after the upgrade: %+v, %v; want the task rewritten", res, err)
	}
	got, err := s.FindTask(ctx, 1, 1)
	if err != nil || got.DocStatus != "已完成排查。" || got.OtherNotes != "联系方式：0374-1234567" {
		t.Fatalf("task after the upgrade = %+v, %v; want the document's 完成情况 and other field", got, err)
	}
	if _, res, err := seeds.Load(ctx, s, doc, nil); err != nil || !res.Skipped {
		t.Fatalf("second start: %+v, %v; want skipped", res, err)
	}
}

// TestDefaultListNameTaken: a list imported into a new database under the
// name the start's document would give the default list leaves the start
// working: the default list is marked as such.
func TestDefaultListNameTaken(t *testing.T) {
	ctx := context.Background()
	s, err := storage.Open(testenv.DSN(t, "taken.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := seeds.Import(ctx, s, seeds.Xuchang(), "中央生态环境保护督察整改任务清单", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil {
		t.Fatalf("the start after it: %v", err)
	}
	names, err := s.ListNames(ctx)
	if err != nil || names[storage.DefaultList] != "中央生态环境保护督察整改任务清单（默认）" {
		t.Fatalf("list names %v, %v", names, err)
	}
}
