package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// versioner reads SQLite's data_version on a connection of its own that
// never writes: the number changes whenever any other connection, in this
// process or another, commits. Read-only answers cached under a version
// are then never stale. The pragma is prepared once on that connection
// and read through the driver directly: it is asked before every answer,
// and database/sql's generic path would cost a dozen allocations.
type versioner struct {
	mu sync.Mutex
	// db is a pool of its own with a single connection, apart from the
	// store's pool so that it never takes a connection the store needs;
	// conn is that connection, held. Both nil: no versioning (an
	// in-memory database).
	db   *sql.DB
	conn *sql.Conn
	// stmt is "PRAGMA data_version", prepared on conn's driver
	// connection; dest receives its one column; v and err are read's
	// outcome. read is bound once (a method value would allocate).
	stmt driver.Stmt
	dest []driver.Value
	v    int64
	err  error
	read func(driverConn any) error
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
		// A network read asked before every answer: bounded, so that a
		// database that stopped answering costs the cache, not the
		// request (callers pass a context without a deadline).
		ctx, cancel := context.WithTimeout(ctx, versionTimeout)
		defer cancel()
		if err := s.version.pg.QueryRowContext(ctx, "SELECT v FROM taskbot_version WHERE id = 1").Scan(&v); err != nil {
			return 0, false, Internal(err)
		}
		return v, true, nil
	}
	vr := &s.version
	vr.mu.Lock()
	defer vr.mu.Unlock()
	if vr.conn == nil {
		return 0, false, nil
	}
	if err := vr.conn.Raw(vr.read); err != nil {
		return 0, false, Internal(err)
	}
	if vr.err != nil {
		return 0, false, Internal(vr.err)
	}
	return vr.v, true, nil
}

// readVersion runs the prepared pragma on the driver connection (under
// vr.mu, inside Conn.Raw).
func (vr *versioner) readVersion(driverConn any) error {
	if vr.stmt == nil {
		c, ok := driverConn.(driver.Conn)
		if !ok {
			return fmt.Errorf("versioner: driver connection %T", driverConn)
		}
		st, err := c.Prepare("PRAGMA data_version")
		if err != nil {
			return err
		}
		vr.stmt, vr.dest = st, make([]driver.Value, 1)
	}
	//lint:ignore SA1019 the context form would watch a context we do not have
	rows, err := vr.stmt.Query(nil) //nolint:staticcheck
	if err != nil {
		return err
	}
	vr.err = rows.Next(vr.dest)
	if cerr := rows.Close(); vr.err == nil {
		vr.err = cerr
	}
	if vr.err == nil {
		n, ok := vr.dest[0].(int64)
		if !ok {
			vr.err = fmt.Errorf("data_version is %T", vr.dest[0])
		}
		vr.v = n
	}
	return nil
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
	conn, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		return err
	}
	vr := &s.version
	vr.db, vr.conn = db, conn
	vr.read = vr.readVersion
	if _, _, err := s.DataVersion(context.Background()); err != nil {
		s.closeVersioner()
		return err
	}
	return nil
}

// closeVersioner closes the versioner's connection.
func (s *Store) closeVersioner() {
	vr := &s.version
	vr.mu.Lock()
	defer vr.mu.Unlock()
	if vr.stmt != nil {
		_ = vr.conn.Raw(func(any) error { return vr.stmt.Close() })
		vr.stmt = nil
	}
	if vr.conn != nil {
		vr.conn.Close()
		vr.conn = nil
	}
	if vr.db != nil {
		vr.db.Close()
		vr.db = nil
	}
}

// versionTimeout bounds the PostgreSQL version read.
const versionTimeout = 500 * time.Millisecond

// unversioned are the tables whose writes change no answer: leases, the
// Slack event ids seen, and the outbox (flushed every minute by every
// replica). Writing them does not move the version.
var unversioned = map[string]bool{"leases": true, "slack_events": true, "outboxes": true}

// pgVersioning names the version row's design in the schema fingerprint:
// changing installVersioning must change it, so that databases get it.
const pgVersioning = "pg-version-row-3"

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
		// The schema the function was made in, whatever the writer's
		// search_path.
		// Once per transaction (a setting local to it remembers): every
		// update of one row in one transaction makes a version that the
		// next must walk past, and a re-seeding's hundred thousand
		// statements took minutes.
		`CREATE OR REPLACE FUNCTION taskbot_bump() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
		BEGIN
			IF current_setting('taskbot.bumped', true) IS DISTINCT FROM txid_current()::text THEN
				UPDATE taskbot_version SET v = v + 1 WHERE id = 1;
				PERFORM set_config('taskbot.bumped', txid_current()::text, true);
			END IF;
			RETURN NULL;
		END $$`,
	}
	for _, m := range models() {
		st := &gorm.Statement{DB: db}
		if err := st.Parse(m); err != nil {
			return err
		}
		table := st.Schema.Table
		stmts = append(stmts, fmt.Sprintf(`DROP TRIGGER IF EXISTS taskbot_bump ON %q`, table))
		if unversioned[table] {
			continue
		}
		stmts = append(stmts, fmt.Sprintf(`CREATE TRIGGER taskbot_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %q
			FOR EACH STATEMENT EXECUTE FUNCTION taskbot_bump()`, table))
	}
	// One transaction: no moment when a table is without its trigger
	// (a replica of the previous version writing then would not move the
	// version).
	return db.Transaction(func(tx *gorm.DB) error {
		for _, q := range stmts {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	})
}
