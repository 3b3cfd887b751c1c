package storage

import (
	"context"
	"database/sql"
	"sync"
)

// versioner reads SQLite's data_version on a connection of its own that
// never writes: the number changes whenever any other connection, in this
// process or another, commits. Read-only answers cached under a version
// are then never stale.
type versioner struct {
	mu   sync.Mutex
	conn *sql.Conn // nil: no versioning (an in-memory database)
}

// DataVersion returns a number that changes whenever anything is committed
// to the database, by this process or another; ok is false when the store
// cannot tell (an in-memory database), and callers must not cache. It
// returns EINTERNAL when the query fails.
func (s *Store) DataVersion(ctx context.Context) (v int64, ok bool, err error) {
	s.version.mu.Lock()
	defer s.version.mu.Unlock()
	if s.version.conn == nil {
		return 0, false, nil
	}
	if err := s.version.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return 0, false, Internal(err)
	}
	return v, true, nil
}

// openVersioner takes a connection of the pool for DataVersion.
func (s *Store) openVersioner(db *sql.DB) error {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return err
	}
	s.version.conn = conn
	return nil
}
