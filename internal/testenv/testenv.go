// Package testenv builds what taskbot's tests run against: a real SQLite
// store seeded with a task list, an organisation applied, the clock set.
// It is for tests only; no program code imports it.
//
// It imports only storage and seeds, so that every test can use it: the
// internal tests of package bot as well (config imports bot, so a test that
// needs the shipped organisation file loads it itself and passes its specs
// through Units).
package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for test schemas

	"taskbot/seeds"
	"taskbot/storage"
)

// Zone is the zone tests count days in, as taskbot does by default.
const Zone = "Asia/Shanghai"

// Option changes what Store and Open build.
type Option func(*setup)

type setup struct {
	path    string
	doc     []byte         // task list to parse and seed; nil: the embedded one
	tasks   []storage.Task // records to seed instead of a document
	version string         // their seed version
	units   []storage.UnitSpec
	people  []storage.PeopleSpec
	asOf    time.Time
	wall    time.Time
}

// Path opens the database at path instead of a new file in the test's
// temporary directory: two stores on one path are two processes sharing a
// database.
func Path(path string) Option { return func(s *setup) { s.path = path } }

// List seeds the store from doc, a task-list document, instead of the
// embedded list.
func List(doc []byte) Option { return func(s *setup) { s.doc, s.tasks = doc, nil } }

// Tasks seeds the store with tasks (a generated list) under version instead
// of the embedded list.
func Tasks(tasks []storage.Task, version string) Option {
	return func(s *setup) { s.tasks, s.version, s.doc = tasks, version, nil }
}

// Units applies specs (collectives and aliases) after seeding. Specs of
// several Units options are applied together, in order.
func Units(specs ...storage.UnitSpec) Option {
	return func(s *setup) { s.units = append(s.units, specs...) }
}

// People applies a directory after the units. Several People options are
// applied one after the other.
func People(spec storage.PeopleSpec) Option {
	return func(s *setup) { s.people = append(s.people, spec) }
}

// Directory is an invented organisation around task 6 (lead 市城管局,
// responsible 各县（市、区）, leader 市政府分管城建副市长): the collective
// 各县（市、区） of 魏都区, 长葛市 and 禹州市; 张三 (U0000ZS01), member of
// 市城管局; 李四 (U0000LS01), member of 长葛市; U0000LDR1, holder of
// 市政府分管城建副市长; 王五 (U0000SUP1), of the inspection office.
func Directory() Option {
	return func(s *setup) {
		Units(storage.UnitSpec{Name: "各县（市、区）", Members: []string{"魏都区", "长葛市", "禹州市"}})(s)
		People(storage.PeopleSpec{
			Units: []storage.UnitPeople{
				{Unit: "市城管局", Members: []storage.PersonRef{{SlackID: "U0000ZS01", Name: "张三"}}},
				{Unit: "长葛市", Members: []storage.PersonRef{{SlackID: "U0000LS01", Name: "李四"}}},
			},
			Leaders:     map[string][]storage.PersonRef{"市政府分管城建副市长": {{SlackID: "U0000LDR1"}}},
			Supervisors: []storage.PersonRef{{SlackID: "U0000SUP1", Name: "王五"}},
		})(s)
	}
}

// AsOf pins the clock's "as of" moment (Clock.AsOf) at t: what commands
// answer as of, and when entries are stamped.
func AsOf(t time.Time) Option { return func(s *setup) { s.asOf = t } }

// Wall pins the clock's real time (Clock.Wall) at t: outbox leases and
// retries, signature windows, event expiry.
func Wall(t time.Time) Option { return func(s *setup) { s.wall = t } }

// Store opens a store on a new SQLite file in tb's temporary directory (or
// Path), seeds it with the embedded task list (or List, Tasks), applies
// Units then People, and sets its clock: days counted in Asia/Shanghai,
// AsOf and Wall pinned when given, real time otherwise. The store is closed
// when the test ends. Any failure fails the test.
//
// With TASKBOT_TEST_POSTGRES set (an admin URL of a throwaway server, see
// scripts/pg-test-cluster.sh), the store is instead a new schema of that
// database, dropped when the test ends: the same tests run on PostgreSQL.
func Store(tb testing.TB, opts ...Option) *storage.Store {
	tb.Helper()
	dsn := filepath.Join(tb.TempDir(), "taskbot.db")
	if pg := PostgresURL(); pg != "" {
		dsn = PostgresSchema(tb, pg)
	}
	s, err := Open(dsn, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		CheckShareCounts(tb, s)
		s.Close()
	})
	return s
}

// DataVersion is s's data version now (see Store.DataVersion); a failed
// read, or a store without one, fails tb.
func DataVersion(tb testing.TB, s *storage.Store) int64 {
	tb.Helper()
	v, ok, err := s.DataVersion(context.Background())
	if err != nil || !ok {
		tb.Fatalf("DataVersion = %d, %v, %v", v, ok, err)
	}
	return v
}

// CheckShareCounts fails tb when the share counts the database's triggers
// keep differ from a count of the shares (every test's writes must keep
// them true), or cannot be read. A store the test closed itself is not
// checked.
func CheckShareCounts(tb testing.TB, s *storage.Store) {
	tb.Helper()
	diff, err := s.CheckShareCounts(context.Background())
	switch {
	case err != nil && strings.Contains(err.Error(), "database is closed"):
	case err != nil:
		tb.Errorf("at the end of the test, checking the share counts: %v", err)
	case diff != "":
		tb.Errorf("at the end of the test: %s", diff)
	}
}

// DSN names a new, empty database for tb: a SQLite file called name in
// tb's temporary directory, or with TASKBOT_TEST_POSTGRES a schema of its
// own (see PostgresSchema). The same name in one test is one database.
func DSN(tb testing.TB, name string) string {
	tb.Helper()
	pg := PostgresURL()
	if pg == "" {
		return filepath.Join(tb.TempDir(), name)
	}
	dsnMu.Lock()
	defer dsnMu.Unlock()
	key := tb.Name() + "\x00" + name
	if d, ok := dsns[key]; ok {
		return d
	}
	d := PostgresSchema(tb, pg)
	dsns[key] = d
	return d
}

var (
	dsnMu sync.Mutex
	dsns  = map[string]string{}
)

// PostgresURL is TASKBOT_TEST_POSTGRES: the PostgreSQL server tests use,
// or "" for SQLite only.
func PostgresURL() string { return os.Getenv("TASKBOT_TEST_POSTGRES") }

var schemaSeq atomic.Int64

// PostgresSchema creates a schema of its own for tb in the database at
// admin and returns a URL whose connections use it; it is dropped when tb
// ends.
func PostgresSchema(tb testing.TB, admin string) string {
	tb.Helper()
	dsn, drop, err := NewPostgresSchema(admin)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(drop)
	return dsn
}

// NewPostgresSchema is PostgresSchema for a fixture that outlives one test:
// the caller drops the schema.
func NewPostgresSchema(admin string) (dsn string, drop func(), err error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	name := fmt.Sprintf("t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		return "", nil, fmt.Errorf("testenv: create schema: %w", err)
	}
	drop = func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + name + " CASCADE")
	}
	if dsn, err = inSchema(admin, name); err != nil {
		drop()
		return "", nil, err
	}
	return dsn, drop, nil
}

// inSchema is the URL admin with schema name as its search_path.
func inSchema(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// KeptPostgresSchema is NewPostgresSchema for a schema called name that
// outlives the process: made when missing, never dropped (benchmarks'
// large fixtures, kept between runs).
func KeptPostgresSchema(admin, name string) (dsn string, err error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA IF NOT EXISTS " + name); err != nil {
		return "", fmt.Errorf("testenv: create schema: %w", err)
	}
	return inSchema(admin, name)
}

// Open is Store for a fixture that outlives one test (built once, shared
// by several): it opens path (unless Path says otherwise) and returns
// errors instead of failing a test; the caller closes the store.
func Open(path string, opts ...Option) (*storage.Store, error) {
	st := setup{path: path}
	for _, o := range opts {
		o(&st)
	}
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		return nil, err
	}
	store, err := storage.Open(st.path)
	if err != nil {
		return nil, err
	}
	store.Clock = storage.Clock{Loc: loc, AsOf: pin(st.asOf), Wall: pin(st.wall)}
	if err := st.fill(context.Background(), store); err != nil {
		store.Close()
		return nil, fmt.Errorf("testenv: %w", err)
	}
	return store, nil
}

func (st *setup) fill(ctx context.Context, store *storage.Store) error {
	// The units go in with the seeding, as at taskbot's start; applying
	// them again is then nothing to do.
	var org []storage.UnitSpec
	if len(st.units) > 0 {
		org = st.units
	}
	switch {
	case st.tasks != nil:
		if _, err := store.SeedFrom(ctx, st.tasks, st.version, "", org); err != nil {
			return err
		}
	default:
		doc := st.doc
		if doc == nil {
			doc = seeds.Xuchang()
		}
		if _, _, err := seeds.Load(ctx, store, doc, org); err != nil {
			return err
		}
	}
	if len(st.units) > 0 {
		if err := store.ApplyUnits(ctx, st.units); err != nil {
			return err
		}
	}
	for _, p := range st.people {
		if err := store.ApplyPeople(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// pin is a clock function returning t, or nil (real time) for the zero t.
func pin(t time.Time) func() time.Time {
	if t.IsZero() {
		return nil
	}
	return func() time.Time { return t }
}

// Shanghai returns the Asia/Shanghai zone.
func Shanghai(tb testing.TB) *time.Location {
	tb.Helper()
	return must(time.LoadLocation(Zone))(tb)
}

// Date parses "YYYY-MM-DD".
func Date(tb testing.TB, s string) storage.Date {
	tb.Helper()
	return must(storage.ParseDate(s))(tb)
}

// At parses "YYYY-MM-DD HH:MM" as a moment in Asia/Shanghai.
func At(tb testing.TB, s string) time.Time {
	tb.Helper()
	return must(time.ParseInLocation("2006-01-02 15:04", s, Shanghai(tb)))(tb)
}

// must returns a function that returns v, failing the test first when err
// is not nil: must(f())(tb).
func must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// Golden compares got with the golden file at path; with update it
// rewrites the file instead (each package declares its own -update flag
// and passes it).
func Golden(tb testing.TB, path string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		tb.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

// AtOnce runs start n times at once, as n processes starting together
// would, and fails tb naming how many of them failed, and why.
func AtOnce(tb testing.TB, n int, start func() error) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = start() })
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			tb.Log(err)
		}
	}
	if failed > 0 {
		tb.Errorf("%d of %d simultaneous starts failed", failed, n)
	}
}
