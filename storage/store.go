// Package storage holds taskbot's domain types beside their gorm store.
// SQL stays portable (no SQLite-only syntax in queries) so that a PostgreSQL
// backend can follow; SQLite specifics live in Open.
package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store is the database. Clock is the program's one clock: writes are
// stamped with its "as of" moment; the core and adapters read it from here.
type Store struct {
	db      *gorm.DB
	dialect string // SQLite or Postgres
	Clock   Clock

	searchMu sync.Mutex
	search   *searchIndex // loaded lazily, replaced when the tasks change
	leaderMu sync.Mutex
	leaders  *leaderIndex // likewise: the leader posts and their task counts
	unitsMu  sync.Mutex
	units    *unitIndex // likewise: units, their task counts and tasks
	// plan is every task's milestone counts as of a day (see plan.go).
	planMu sync.Mutex
	plan   *planState
	// sums are countSums' last answer, valid while the counts version,
	// the day and the units are sumsKey.
	sumsMu  sync.Mutex
	sumsKey string
	sums    []countSum
	// awaiting is awaitingByList's last answer, valid while the counts
	// version is awaitingAt (guarded by sumsMu).
	awaitingAt int64
	awaiting   map[uint]int

	version versioner
}

// Open opens the database named by dsn and migrates its schema:
// PostgreSQL for a postgres:// or postgresql:// URL, otherwise the SQLite
// file at that path (created if needed; ":memory:" is a private in-memory
// database). SQLite runs in WAL mode with a busy timeout and foreign keys
// on. Errors never show the URL's password.
func Open(dsn string) (*Store, error) {
	if dsn == "" {
		return nil, Errorf(EINVALID, "数据库路径为空")
	}
	if IsPostgres(dsn) {
		return openPostgres(dsn)
	}
	return openSQLite(dsn)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Dialects of SQL the store speaks.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Dialect is the store's database: SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

func (s *Store) gormConfig() *gorm.Config {
	return &gorm.Config{
		NowFunc:                func() time.Time { return s.now() }, // created_at & co. in UTC
		Logger:                 logger.Discard,
		PrepareStmt:            true,
		SkipDefaultTransaction: true,
	}
}

func openSQLite(path string) (*Store, error) {
	memory := path == ":memory:"
	dsn := path
	if !memory {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// IMMEDIATE transactions take the write lock up front, so two
		// writers wait on busy_timeout instead of failing on lock upgrade.
		dsn += sep + "_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate"
	} else {
		dsn = "file::memory:?_foreign_keys=on"
	}
	s := &Store{dialect: SQLite}
	if !memory {
		// One start at a time opens the file: making a new file WAL can
		// fail at once with "database is locked" when another start does
		// the same, and the schema is migrated by one start (see migrate).
		// Opening takes milliseconds; the lock is released before Open
		// returns and never held while the store is used.
		unlock, err := lockFile(strings.SplitN(path, "?", 2)[0] + ".migrate-lock")
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	db, err := gorm.Open(sqlite.Open(dsn), s.gormConfig())
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if memory {
		sqlDB.SetMaxOpenConns(1) // each connection would be a new empty database
	}
	s.db = db
	if !memory {
		if err := s.openVersioner(dsn); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("storage: open %s: %w", path, err)
		}
	}
	held := func() (func(), error) { return func() {}, nil } // the open's lock
	if err := s.migrate(held); err != nil {
		s.closeVersioner()
		sqlDB.Close()
		return nil, fmt.Errorf("storage: migrate %s: %w", path, err)
	}
	return s, nil
}

func openPostgres(dsn string) (*Store, error) {
	name := RedactURL(dsn)
	s := &Store{dialect: Postgres}
	db, err := gorm.Open(postgres.Open(sessionDefaults(dsn)), s.gormConfig())
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %s", name, redactErr(err, dsn))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %s", name, redactErr(err, dsn))
	}
	if err := sqlDB.Ping(); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: open %s: %s", name, redactErr(err, dsn))
	}
	s.db = db
	s.version.pg = sqlDB
	if err := s.migrate(func() (func(), error) { return advisoryLock(sqlDB) }); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: migrate %s: %s", name, redactErr(err, dsn))
	}
	return s, nil
}

// sessionDefaults adds taskbot's session settings to a PostgreSQL URL
// unless it sets them itself: no parallel workers, whose start (~15 ms on
// a small machine) costs more than taskbot's small queries take.
func sessionDefaults(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // Open reports it
	}
	q := u.Query()
	if !q.Has("max_parallel_workers_per_gather") {
		q.Set("max_parallel_workers_per_gather", "0")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// RedactURL hides the password of a URL (postgres://user:PASSWORD@…,
// https://user:PASSWORD@…); anything else is returned as it is.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i := strings.Index(s, "@"); i >= 0 && strings.Contains(s[:i], "://") {
			return s[:strings.Index(s, "://")+3] + "xxxxx" + s[i:] // unparsable, but holds credentials
		}
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	return u.Redacted()
}

// redactErr is err's text without dsn's password, should a driver quote it.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// advisoryLock takes PostgreSQL's session advisory lock for migrations on
// a connection of its own, waiting for it, and returns its release.
func advisoryLock(db *sql.DB) (func(), error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1, hashtext(current_schema()))", migrationLockClass); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return func() {
		conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1, hashtext(current_schema()))", migrationLockClass)
		conn.Close()
	}, nil
}

// models are the tables, in creation order.
func models() []any {
	return []any{&Task{}, &Measure{}, &Milestone{}, &Leader{}, &Unit{}, &TaskUnit{}, &UnitAlias{}, &UnitMember{}, &UnitTask{}, &ReminderStep{}, &Outbox{}, &Meta{},
		&Person{}, &Membership{}, &UnitChannel{}, &LeaderHolder{}, &Supervisor{}, &Progress{}, &Thread{}, &Audit{}, &Share{}, &Attachment{}, &SlackEvent{}, &Lease{}, &List{}}
}

// migrate brings the schema to this version's. A database already at it
// (its "schema" meta row holds this build's fingerprint) is only read:
// nothing is written. Otherwise one start at a time migrates, under a lock
// (a file lock beside a SQLite file, an advisory lock in PostgreSQL), and the starts that waited find the
// work done: simultaneous starts never fail on half-made indexes. The
// schema changes cannot share one transaction: SQLite rebuilds a table to
// alter a column, which needs foreign keys off, which a transaction
// ignores (the rebuild would cascade-delete the rows that refer to it).
func (s *Store) migrate(lock func() (func(), error)) error {
	want := schemaFingerprint()
	if s.schemaIs(s.db, want) {
		return nil
	}
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	if s.schemaIs(s.db, want) {
		return nil // another start did it while this one waited
	}
	// The unique (channel, slack_ts) index on progresses came after the
	// table: keep the first of any duplicate pair so it can be created.
	m := s.db.Migrator()
	if m.HasTable(&Progress{}) && !m.HasIndex(&Progress{}, "idx_progress_slack_msg") {
		err := s.db.Exec(`UPDATE progresses SET slack_ts = '' WHERE slack_ts <> '' AND id NOT IN (
			SELECT MIN(id) FROM progresses WHERE slack_ts <> '' GROUP BY channel, slack_ts)`).Error
		if err != nil {
			return err
		}
	}
	// SQLite alters a column by rebuilding its table (a copy renamed),
	// and the rename fails while a trigger names a table dropped
	// meanwhile (65ff687's share_counts triggers read tasks): the derived
	// tables' triggers go first, whatever version made them;
	// installDerived below makes them again and counts every share.
	if s.dialect != Postgres {
		if err := dropSQLiteTriggers(s.db); err != nil {
			return err
		}
	}
	if err := s.db.AutoMigrate(models()...); err != nil {
		return err
	}
	// Indexes replaced by others under another name, or redundant with
	// one (idx_shares_unit is a prefix of idx_shares_tally).
	for _, old := range []struct {
		model any
		name  string
	}{{&Share{}, "idx_shares_pending"}, {&Share{}, "idx_shares_milestone"}, {&Share{}, "idx_shares_unit"}, {&Share{}, "idx_shares_review"},
		// Unique within a list since there are several.
		{&Task{}, "idx_tasks_code"}, {&Task{}, "idx_tasks_section_number"},
		// Ends with the list since shares have one.
		{&Share{}, "idx_shares_stats"}} {
		if m.HasIndex(old.model, old.name) {
			if err := m.DropIndex(old.model, old.name); err != nil {
				return err
			}
		}
	}
	if err := s.applyDataMigrations(s.db); err != nil {
		return err
	}
	if err := installDerived(s.db); err != nil {
		return err
	}
	if s.dialect == Postgres {
		if err := installVersioning(s.db); err != nil {
			return err
		}
	}
	// Statements prepared before the tables changed (the migrator's own
	// "SELECT * … LIMIT 1") would still see the old columns.
	if p, ok := s.db.ConnPool.(*gorm.PreparedStmtDB); ok {
		p.Reset()
	}
	return s.db.Save(&Meta{Name: schemaKey, Value: want}).Error
}

// schemaKey is the meta row holding the schema's fingerprint.
const schemaKey = "schema"

// schemaIs reports whether the database's schema is the one fingerprinted
// want, by reading only.
func (s *Store) schemaIs(db *gorm.DB, want string) bool {
	if !db.Migrator().HasTable(&Meta{}) {
		return false
	}
	var m Meta
	return db.Where("name = ?", schemaKey).Limit(1).Find(&m).Error == nil && m.Value == want
}

// schemaFingerprint names this build's schema: every model's fields with
// their types and tags, and the data migrations. Any change to them makes
// the next start migrate; nobody has to remember to bump a number.
func schemaFingerprint() string {
	h := sha256.New()
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			fmt.Fprintf(h, "%s %s %q;", f.Name, f.Type, f.Tag)
		}
	}
	for _, m := range models() {
		t := reflect.TypeOf(m).Elem()
		fmt.Fprintf(h, "\n%s:", t.Name())
		walk(t)
	}
	for _, m := range dataMigrations() {
		fmt.Fprintf(h, "\nmigration:%s", m.name)
	}
	fmt.Fprintf(h, "\n%s\n%s", pgVersioning, derivedDesign)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Close closes the database.
func (s *Store) Close() error {
	s.closeVersioner()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// DB returns the underlying gorm handle, for tests and tools that inspect the
// schema. Application code uses the Store's methods.
func (s *Store) DB() *gorm.DB { return s.db }

// now is the store's clock in UTC. Every time is stored and compared in
// UTC: the SQLite driver writes a time as text with its own offset, and
// text from different zones does not compare in time order.
func (s *Store) now() time.Time {
	return s.Clock.Now().UTC()
}

// FindTask returns the task with the given section and number, with its
// measures, milestones, leaders and units. It returns ENOTFOUND when there is
// no such task. Two queries: the task row (whose doc column carries the
// document lists) and its milestones; this is the hot path of /task N.
func (s *Store) FindTask(ctx context.Context, section, number int) (*Task, error) {
	return s.loadTask(ctx, "list_id = ? AND section = ? AND number = ?", DefaultList, section, number)
}

// FindListTask is FindTask in the given list.
func (s *Store) FindListTask(ctx context.Context, list uint, section, number int) (*Task, error) {
	return s.loadTask(ctx, "list_id = ? AND section = ? AND number = ?", list, section, number)
}

// FindTaskByCode returns the task of the given list with the given code
// (as FindTask; ENOTFOUND when there is none).
func (s *Store) FindTaskByCode(ctx context.Context, list uint, code string) (*Task, error) {
	return s.loadTask(ctx, "list_id = ? AND code = ?", list, code)
}

// FindTaskByID is FindTask by primary key.
func (s *Store) FindTaskByID(ctx context.Context, id uint) (*Task, error) {
	return s.loadTask(ctx, "id = ?", id)
}

func (s *Store) loadTask(ctx context.Context, where string, args ...any) (*Task, error) {
	var t Task
	err := s.db.WithContext(ctx).Where(where, args...).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "没有找到该任务")
	}
	if err != nil {
		return nil, Internal(err)
	}
	if t.Milestones, err = s.taskMilestones(ctx, t.ID); err != nil {
		return nil, Internal(err)
	}
	names, err := s.ListNames(ctx)
	if err != nil {
		return nil, err
	}
	t.ListName = names[t.ListID]
	if err := t.fill(); err != nil {
		return nil, Internal(err)
	}
	return &t, nil
}

// taskMilestones reads a task's milestones, scanning with database/sql:
// this is the hot path of every task card, and gorm's reflection cost
// twice the query. The query itself goes through gorm, for the dialect's
// placeholders.
func (s *Store) taskMilestones(ctx context.Context, taskID uint) ([]Milestone, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT id, task_id, seq, due, planned_due, text, open, done_at, extended_at, retired
		FROM milestones WHERE task_id = ? ORDER BY seq`, taskID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Milestone
	for rows.Next() {
		var m Milestone
		var done, ext sql.NullTime
		if err := rows.Scan(&m.ID, &m.TaskID, &m.Seq, &m.Due, &m.PlannedDue, &m.Text, &m.Open, &done, &ext, &m.Retired); err != nil {
			return nil, err
		}
		if done.Valid {
			m.DoneAt = &done.Time
		}
		if ext.Valid {
			m.ExtendedAt = &ext.Time
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SectionCounts returns how many tasks each section has, by section number.
func (s *Store) SectionCounts(ctx context.Context) (map[int]int, error) {
	var rows []struct{ Section, N int }
	if err := s.db.WithContext(ctx).Model(&Task{}).Select("section, count(*) AS n").Where("list_id = ?", DefaultList).Group("section").Scan(&rows).Error; err != nil {
		return nil, Internal(err)
	}
	out := map[int]int{}
	for _, r := range rows {
		out[r.Section] = r.N
	}
	return out, nil
}

// Advisory locks on PostgreSQL are (class, hashtext(current_schema())):
// one deployment per schema, not blocking another's.
const (
	writeLockClass     = 0x7461736b // write transactions ("task")
	migrationLockClass = 0x6d696772 // migrations ("migr")
)

// write runs fn in a transaction that holds the database's write lock from
// its start: SQLite's (transactions begin IMMEDIATE), or on PostgreSQL an
// advisory lock, so that write transactions run one at a time on both, as
// the code that reads then writes in them assumes, however many replicas
// there are. Reads never wait for it.
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.writeOn(s.db.WithContext(ctx), fn)
}

// writeOn is write on db's connection pool, or connection.
func (s *Store) writeOn(db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))", writeLockClass).Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// writeBulk is write for a transaction that inserts many rows (seeding):
// on PostgreSQL on a connection of its own, which bulkRows.insert then
// reaches to COPY them (see bulkRows.copy), long texts compressed fast
// (compressFast).
func (s *Store) writeBulk(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.dialect != Postgres {
		return s.write(ctx, fn)
	}
	return s.db.WithContext(ctx).Connection(func(c *gorm.DB) error {
		conn, ok := c.Statement.ConnPool.(*sql.Conn)
		if !ok {
			return fmt.Errorf("storage: a connection of %T", c.Statement.ConnPool)
		}
		return s.writeOn(c.WithContext(context.WithValue(ctx, bulkConnKey{}, conn)), func(tx *gorm.DB) error {
			if err := s.compressFast(tx); err != nil {
				return err
			}
			return fn(tx)
		})
	})
}

// laterIndexes are the secondary indexes of the derived tables that a
// first seeding builds after the rows, not row by row: on PostgreSQL,
// inserting the million unit_tasks rows of 100,000 tasks into their
// indexes took 19–25 s, and building the indexes after them 2 s; the
// shares' unique key, built after their 1.9 million rows, 0.8 s instead of
// about 2 s row by row.
var laterIndexes = []struct {
	model any
	name  string
}{
	{&UnitTask{}, "idx_unit_tasks_order"}, {&UnitTask{}, "idx_unit_tasks_task_id"},
	{&Share{}, "idx_shares_key"}, {&Share{}, "idx_shares_tally"}, {&Share{}, "idx_shares_by_milestone"}, {&Share{}, "idx_shares_queue"}, {&Share{}, "idx_shares_whole"},
}

// indexesAfter runs fn, which fills the empty derived tables, with
// laterIndexes dropped, and builds them again after it, in fn's
// transaction. On PostgreSQL a reader of those tables waits for the
// transaction's end: only a first seeding, on an empty database, does this.
func (s *Store) indexesAfter(tx *gorm.DB, fn func() error) error {
	if s.dialect == Postgres {
		// Both tables at once: a reader of both cannot then hold one
		// while the drops wait for it.
		if err := tx.Exec("LOCK TABLE unit_tasks, shares IN ACCESS EXCLUSIVE MODE").Error; err != nil {
			return err
		}
		// Room to sort and group a million rows in memory, for this
		// transaction only (the default 4 MB spilled them to disk).
		if err := tx.Exec("SET LOCAL work_mem = '64MB'").Error; err != nil {
			return err
		}
	}
	for _, ix := range laterIndexes {
		if err := tx.Exec("DROP INDEX IF EXISTS " + ix.name).Error; err != nil {
			return err
		}
	}
	m := tx.Migrator()
	if err := fn(); err != nil {
		return err
	}
	for _, ix := range laterIndexes {
		if err := m.CreateIndex(ix.model, ix.name); err != nil {
			return err
		}
	}
	return nil
}

// foreignKeysAfter runs fn, a first seeding's inserts into tables, with
// their foreign keys dropped on PostgreSQL, and adds them back after it in
// the same transaction: each key is then checked once for the whole table,
// in one join, instead of by a trigger for each row (inserting the
// children of 100,000 tasks took 12 s with them). A key fn's rows break
// fails the seeding, which rolls back, keys included. SQLite checks its
// keys without triggers. Dropping a key locks its table and the one it
// references (tasks, units) until the seeding commits: on an empty
// database, where there is nothing to read yet.
func (s *Store) foreignKeysAfter(tx *gorm.DB, tables []string, fn func() error) error {
	if s.dialect != Postgres {
		return fn()
	}
	return constraintsAfter(tx, "f", tables, fn)
}

// constraintsAfter runs fn with the PostgreSQL constraints of a kind
// (pg_constraint.contype: "f" foreign keys, "p" primary keys) of tables
// dropped, and adds them back after it in the same transaction, each
// checked and indexed once for the whole table.
func constraintsAfter(tx *gorm.DB, kind string, tables []string, fn func() error) error {
	var keys []struct{ Table, Name, Def string }
	err := tx.Raw(`SELECT r.relname AS "table", c.conname AS name, pg_get_constraintdef(c.oid) AS def
		FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
		WHERE c.contype = ? AND r.relnamespace = current_schema()::regnamespace AND r.relname IN ?
		ORDER BY r.relname, c.conname`, kind, tables).Scan(&keys).Error
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Exec(fmt.Sprintf("ALTER TABLE %q DROP CONSTRAINT %q", k.Table, k.Name)).Error; err != nil {
			return err
		}
	}
	if err := fn(); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Exec(fmt.Sprintf("ALTER TABLE %q ADD CONSTRAINT %q %s", k.Table, k.Name, k.Def)).Error; err != nil {
			return err
		}
	}
	return nil
}

// compressFast has PostgreSQL compress the long text this transaction
// writes (a task's problem and doc) with lz4 instead of its
// default pglz, when the server was built with it: inserting 100,000
// tasks' rows took 3.3 s instead of 5.2. Values already written keep their
// compression; both read the same.
func (s *Store) compressFast(tx *gorm.DB) error {
	if s.dialect != Postgres {
		return nil
	}
	var lz4 bool
	err := tx.Raw(`SELECT COUNT(*) > 0 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`).Scan(&lz4).Error
	if err != nil || !lz4 {
		return err
	}
	return tx.Exec("SET LOCAL default_toast_compression = 'lz4'").Error
}

// analyze has PostgreSQL sample the tables, filled in this transaction,
// so that the statements after it are planned for their rows (with the
// statistics of empty tables, it joined a million unit_tasks rows to
// their milestones by index, one at a time).
func (s *Store) analyze(tx *gorm.DB, tables ...string) error {
	if s.dialect != Postgres {
		return nil
	}
	return tx.Exec("ANALYZE " + strings.Join(tables, ", ")).Error
}

// bulk runs fn, a transaction's work that writes many rows (seeding,
// shares for every task), on SQLite with a page cache of 64 MiB instead
// of 2 MiB (the random inserts into the shares' indexes then stay in
// memory: seeding 100,000 tasks took 15% less) and without the row
// triggers of the derived tables (see withoutTriggers); the connection's
// cache size comes back before fn's transaction ends. On PostgreSQL, whose
// statement triggers cost little, the log of planned tasks is emptied
// after fn (readers count everything again, see plan.go).
func (s *Store) bulk(tx *gorm.DB, fn func() error) error {
	if s.dialect != SQLite {
		if err := fn(); err != nil {
			return err
		}
		return resetPlanLog(tx)
	}
	if err := tx.Exec("PRAGMA cache_size = -65536").Error; err != nil {
		return err
	}
	err := withoutTriggers(tx, fn)
	if rerr := tx.Exec("PRAGMA cache_size = -2000").Error; err == nil {
		err = rerr
	}
	return err
}
