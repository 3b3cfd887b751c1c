package storage_test

import (
	"net/url"
	"testing"
	"time"

	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestSimultaneousOpens: 40 starts on one new database at once (separate
// connection pools, as separate processes would have) all succeed: the
// schema is migrated once, under a lock (a file lock for SQLite, an
// advisory lock in PostgreSQL), and the others find it current.
func TestSimultaneousOpens(t *testing.T) {
	dsn := testenv.DSN(t, "taskbot.db")
	testenv.AtOnce(t, 40, func() error {
		s, err := storage.Open(dsn)
		if err != nil {
			return err
		}
		return s.Close()
	})
}

// TestOpenCurrentSchemaWritesNothing: opening a database whose schema is
// this version's writes nothing, so replicas starting never contend for
// the database. On SQLite the file's data version, read by another store,
// is unchanged; on PostgreSQL (whose WAL position moves with every other
// test's writes) a start in a read-only session succeeds.
func TestOpenCurrentSchemaWritesNothing(t *testing.T) {
	dsn := testenv.DSN(t, "taskbot.db")
	watch, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	if watch.Dialect() == storage.Postgres {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("default_transaction_read_only", "on")
		u.RawQuery = q.Encode()
		s, err := storage.Open(u.String())
		if err != nil {
			t.Fatalf("opening an up-to-date database read-only: %v; it must only read", err)
		}
		// The check itself is real: a write in that session fails.
		if err := s.DB().Exec("INSERT INTO meta (name, value) VALUES ('probe', 'x')").Error; err == nil {
			t.Error("a write in the read-only session succeeded; the check sees nothing")
		}
		s.Close()
		return
	}
	version := func() int64 { return testenv.DataVersion(t, watch) }
	before := version()
	s, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if after := version(); after != before {
		t.Errorf("data version %d → %d: opening an up-to-date database wrote to it", before, after)
	}
	// The check itself is real: a write by another store shows.
	s, err = storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Exec("INSERT INTO meta (name, value) VALUES ('probe', 'x')").Error; err != nil {
		t.Fatal(err)
	}
	s.Close()
	if after := version(); after == before {
		t.Error("data version unchanged after a write; the check sees nothing")
	}
}

// TestPostgresVersionRowUpgrade: a PostgreSQL database written before the
// version row existed (no taskbot_version, no triggers, the previous
// fingerprint) gets them at the next start; then a write moves the version
// and a write to leases does not.
func TestPostgresVersionRowUpgrade(t *testing.T) {
	if testenv.PostgresURL() == "" {
		t.Skip("PostgreSQL only (TASKBOT_TEST_POSTGRES)")
	}
	ctx := t.Context()
	dsn := testenv.DSN(t, "old")
	s, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE taskbot_version`, `DROP FUNCTION taskbot_bump() CASCADE`,
		`UPDATE meta SET value = 'previous' WHERE name = 'schema'`} {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = storage.Open(dsn); err != nil {
		t.Fatalf("the upgrade: %v", err)
	}
	defer s.Close()
	version := func() int64 { return testenv.DataVersion(t, s) }
	v0 := version()
	if _, _, err := s.Acquire(ctx, "job:x", "a", time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0 {
		t.Errorf("a lease moved the version %d → %d; it changes no answer", v0, v)
	}
	if err := s.DB().Exec(`UPDATE tasks SET title = title || '！' WHERE id = 1`).Error; err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v0 {
		t.Error("a write to tasks did not move the version")
	}
}

// TestOldIndexReplaced: a database written by an earlier version, with the
// indexes idx_shares_pending (then idx_shares_review) and
// idx_shares_milestone, gets idx_shares_queue (partial: only the shares
// awaiting review) and idx_shares_by_milestone in their place at the next
// start; idx_shares_unit, a prefix of idx_shares_tally, goes, and so does
// idx_shares_stats, which idx_shares_tally replaced (the list added).
func TestOldIndexReplaced(t *testing.T) {
	dsn := testenv.DSN(t, "old-index.db")
	s, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	m := s.DB().Migrator()
	for _, q := range []string{`DROP INDEX idx_shares_queue`, `CREATE INDEX idx_shares_pending ON shares (state, reported_at)`,
		`CREATE INDEX idx_shares_review ON shares (state, retired, task_closed, reported_at)`,
		`DROP INDEX idx_shares_by_milestone`, `CREATE INDEX idx_shares_milestone ON shares (milestone_id)`,
		`CREATE INDEX idx_shares_unit ON shares (unit_id, state, due)`,
		`DROP INDEX idx_shares_tally`, `CREATE INDEX idx_shares_stats ON shares (unit_id, state, due, decided_at, retired, task_closed)`,
		`UPDATE meta SET value = 'previous' WHERE name = 'schema'`} {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = storage.Open(dsn); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m = s.DB().Migrator()
	for _, ix := range []struct{ old, new string }{{"idx_shares_pending", "idx_shares_queue"}, {"idx_shares_review", "idx_shares_queue"},
		{"idx_shares_milestone", "idx_shares_by_milestone"}, {"idx_shares_unit", "idx_shares_tally"}, {"idx_shares_stats", "idx_shares_tally"}} {
		if m.HasIndex(&storage.Share{}, ix.old) || !m.HasIndex(&storage.Share{}, ix.new) {
			t.Errorf("after the upgrade: %s %v, %s %v; want only the second",
				ix.old, m.HasIndex(&storage.Share{}, ix.old), ix.new, m.HasIndex(&storage.Share{}, ix.new))
		}
	}
}
