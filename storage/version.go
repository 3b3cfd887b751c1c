package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
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
	// pg, on PostgreSQL, is the store's pool: the WAL position read there
	// moves with every commit to the cluster.
	pg *sql.DB
}

// DataVersion returns a number that changes whenever anything is committed
// to the database, by this process or another; ok is false when the store
// cannot tell (an in-memory database), and callers must not cache. It
// returns EINTERNAL when the query fails.
func (s *Store) DataVersion(ctx context.Context) (v int64, ok bool, err error) {
	if s.version.pg != nil {
		// Any write anywhere in the cluster moves the WAL insert position:
		// a conservative version (other databases' writes only cost a
		// recomputation).
		var lsn string
		if err := s.version.pg.QueryRowContext(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&lsn); err != nil {
			return 0, false, Internal(err)
		}
		var hi, lo uint32
		if _, err := fmt.Sscanf(lsn, "%X/%X", &hi, &lo); err != nil {
			return 0, false, Internal(err)
		}
		return int64(hi)<<32 | int64(lo), true, nil
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
