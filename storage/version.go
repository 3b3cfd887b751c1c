package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// versioner reads SQLite's data_version on a connection of its own that
// never writes: the number changes whenever any other connection, in this
// process or another, commits. Read-only answers cached under a version
// are then never stale.
type versioner struct {
	mu sync.Mutex
	// db is a pool of its own with a single connection, apart from the
	// store's pool so that it never takes a connection the store needs;
	// nil: no versioning (an in-memory database).
	db *sql.DB
	// pg, on PostgreSQL, is the store's pool, where the version row is
	// read (see installVersioning).
	pg *sql.DB
}

// DataVersion returns a number that changes whenever anything is committed
// to the database, by this process or another; ok is false when the store
// cannot tell (an in-memory database), and callers must not cache. It
// returns EINTERNAL when the query fails.
func (s *Store) DataVersion(ctx context.Context) (v int64, ok bool, err error) {
	if s.version.pg != nil {
		if err := s.version.pg.QueryRowContext(ctx, "SELECT v FROM taskbot_version WHERE id = 1").Scan(&v); err != nil {
			return 0, false, Internal(err)
		}
		return v, true, nil
	}
	s.version.mu.Lock()
	defer s.version.mu.Unlock()
	if s.version.db == nil {
		return 0, false, nil
	}
	if err := s.version.db.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return 0, false, Internal(err)
	}
	return v, true, nil
}

// openVersioner opens the versioner's own single connection on dsn. The
// connection is kept open (data_version is per connection) and never
// writes.
func (s *Store) openVersioner(dsn string) error {
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return err
	}
	s.version.db = db
	return nil
}

// closeVersioner closes the versioner's connection.
func (s *Store) closeVersioner() {
	s.version.mu.Lock()
	defer s.version.mu.Unlock()
	if s.version.db != nil {
		s.version.db.Close()
		s.version.db = nil
	}
}

// unversioned are the tables whose writes change no answer: leases and the
// Slack event ids seen. Writing them does not move the version.
var unversioned = map[string]bool{"leases": true, "slack_events": true}

// pgVersioning names the version row's design in the schema fingerprint:
// changing installVersioning must change it, so that databases get it.
const pgVersioning = "pg-version-row-1"

// installVersioning gives a PostgreSQL schema its data version: a one-row
// table taskbot_version bumped, in the writing transaction, by a
// statement trigger on every table whose content answers depend on. A
// commit by any process moves it; nothing outside the schema does (the
// cluster's WAL position would move with every database on the server).
// Idempotent; run under the migration lock.
func installVersioning(db *gorm.DB) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS taskbot_version (id integer PRIMARY KEY, v bigint NOT NULL)`,
		`INSERT INTO taskbot_version (id, v) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
		`CREATE OR REPLACE FUNCTION taskbot_bump() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN UPDATE taskbot_version SET v = v + 1 WHERE id = 1; RETURN NULL; END $$`,
	}
	for _, m := range models() {
		st := &gorm.Statement{DB: db}
		if err := st.Parse(m); err != nil {
			return err
		}
		table := st.Schema.Table
		if unversioned[table] {
			continue
		}
		stmts = append(stmts, fmt.Sprintf(`DROP TRIGGER IF EXISTS taskbot_bump ON %q`, table),
			fmt.Sprintf(`CREATE TRIGGER taskbot_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %q
			FOR EACH STATEMENT EXECUTE FUNCTION taskbot_bump()`, table))
	}
	for _, q := range stmts {
		if err := db.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
