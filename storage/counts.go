package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// share_counts holds, for each unit, state, due date ("" for a share of
// the task as a whole) and list, how many live shares (not retired, of an open task)
// there are, and the due date's day number (days since 1970-01-01, 0 for
// none) so that days overdue are summed without date arithmetic per row.
// It is derived data: database triggers keep it in step with shares in the
// writing transaction, whichever process or version writes, so that a
// unit's tallies and the statistics read a few rows per unit and date
// instead of every share. It is not a model: never copied (copy-db), the
// target's triggers count the copied shares.
//
// table_versions holds counters the triggers move whenever some tables are
// written, in the writing transaction: "plan" moves with every write to
// tasks or milestones, "counts" with every change of share_counts. What
// is computed from those tables alone (the overview's milestone counts,
// each unit's overdue milestones; the statistics' sums of share_counts) is
// kept in memory until its counter moves, whatever else is written
// meanwhile (an entry; a decision that closes no milestone).

// planVersion names the counter of tasks and milestones; countsVersion
// the counter of share_counts.
const (
	planVersion   = "plan"
	countsVersion = "counts"
)

// liveShareCounts counts the live shares as share_counts holds them.
const liveShareCounts = `SELECT unit_id, state, COALESCE(due, '') AS due, list_id, COUNT(*) AS n FROM shares
	WHERE NOT retired AND NOT task_closed GROUP BY unit_id, state, COALESCE(due, ''), list_id`

// shareCountsTable creates share_counts: on SQLite a table clustered on
// its key (WITHOUT ROWID), read in one pass. The list comes last in the
// key: a unit's counts, across lists, are a prefix range.
func shareCountsTable(pg bool) string {
	q := `CREATE TABLE IF NOT EXISTS share_counts (unit_id bigint NOT NULL, state varchar(16) NOT NULL,
		due varchar(10) NOT NULL, list_id bigint NOT NULL, day integer NOT NULL, n bigint NOT NULL,
		PRIMARY KEY (unit_id, state, due, list_id))`
	if !pg {
		q += ` WITHOUT ROWID`
	}
	return q
}

// sqliteDay and pgDay are the day number of a due date column.
func sqliteDay(col string) string {
	return `COALESCE(CAST(julianday(NULLIF(` + col + `, '')) - 2440587.5 AS INTEGER), 0)`
}

func pgDay(col string) string {
	return `COALESCE(CAST(NULLIF(` + col + `, '') AS date) - DATE '1970-01-01', 0)`
}

// sqliteShareTriggers are SQLite's row triggers keeping share_counts.
var sqliteShareTriggers = []trigger{
	{"share_counts_insert", "shares", `CREATE TRIGGER share_counts_insert AFTER INSERT ON shares
	WHEN NOT NEW.retired AND NOT NEW.task_closed BEGIN
		INSERT INTO share_counts (unit_id, state, due, list_id, day, n)
			VALUES (NEW.unit_id, NEW.state, COALESCE(NEW.due, ''), NEW.list_id, ` + sqliteDay("NEW.due") + `, 1)
		ON CONFLICT (unit_id, state, due, list_id) DO UPDATE SET n = n + 1;
	END`},
	{"share_counts_delete", "shares", `CREATE TRIGGER share_counts_delete AFTER DELETE ON shares
	WHEN NOT OLD.retired AND NOT OLD.task_closed BEGIN
		UPDATE share_counts SET n = n - 1 WHERE ` + sqliteCountKey + `;
		DELETE FROM share_counts WHERE ` + sqliteCountKey + ` AND n = 0;
	END`},
	{"share_counts_update", "shares", `CREATE TRIGGER share_counts_update AFTER UPDATE OF unit_id, state, due, list_id, retired, task_closed ON shares BEGIN
		UPDATE share_counts SET n = n - 1 WHERE NOT OLD.retired AND NOT OLD.task_closed AND ` + sqliteCountKey + `;
		DELETE FROM share_counts WHERE ` + sqliteCountKey + ` AND n = 0;
		INSERT INTO share_counts (unit_id, state, due, list_id, day, n)
			SELECT NEW.unit_id, NEW.state, COALESCE(NEW.due, ''), NEW.list_id, ` + sqliteDay("NEW.due") + `, 1
			WHERE NOT NEW.retired AND NOT NEW.task_closed
		ON CONFLICT (unit_id, state, due, list_id) DO UPDATE SET n = n + 1;
	END`},
}

// sqliteCountKey matches the share_counts row of the OLD share in a trigger.
const sqliteCountKey = `unit_id = OLD.unit_id AND state = OLD.state AND due = COALESCE(OLD.due, '') AND list_id = OLD.list_id`

// postgresShareCounts is the function of PostgreSQL's statement triggers
// keeping share_counts (postgresShareTriggers): one grouped upsert per
// statement from its transition tables, however many shares it changed.
var postgresShareCounts = []string{
	`CREATE OR REPLACE FUNCTION taskbot_share_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
	BEGIN
		IF TG_OP = 'TRUNCATE' THEN
			DELETE FROM share_counts;
			RETURN NULL;
		END IF;
		IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
			INSERT INTO share_counts AS c (unit_id, state, due, list_id, day, n)
				SELECT unit_id, state, COALESCE(due, ''), list_id, ` + pgDay("due") + `, -COUNT(*) FROM old_rows
				WHERE NOT retired AND NOT task_closed GROUP BY 1, 2, 3, 4, 5
			ON CONFLICT (unit_id, state, due, list_id) DO UPDATE SET n = c.n + EXCLUDED.n;
			DELETE FROM share_counts c USING (SELECT DISTINCT unit_id, state, COALESCE(due, '') AS due, list_id FROM old_rows) o
				WHERE c.unit_id = o.unit_id AND c.state = o.state AND c.due = o.due AND c.list_id = o.list_id AND c.n = 0;
		END IF;
		IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
			INSERT INTO share_counts AS c (unit_id, state, due, list_id, day, n)
				SELECT unit_id, state, COALESCE(due, ''), list_id, ` + pgDay("due") + `, COUNT(*) FROM new_rows
				WHERE NOT retired AND NOT task_closed GROUP BY 1, 2, 3, 4, 5
			ON CONFLICT (unit_id, state, due, list_id) DO UPDATE SET n = c.n + EXCLUDED.n;
		END IF;
		RETURN NULL;
	END $$`,
}

// trigger is one trigger of the derived tables: its name, its table and
// the statement making it. On SQLite installDerivedTx drops and makes it
// again; on PostgreSQL it is made only when missing (re-making one that
// exists would take an ACCESS EXCLUSIVE lock on its table, locking out
// readers for the migration), so a changed PostgreSQL trigger needs a new
// name.
type trigger struct{ name, table, create string }

// postgresShareTriggers are share_counts' statement triggers on shares.
var postgresShareTriggers = []trigger{
	{"share_counts_insert", "shares", `CREATE TRIGGER share_counts_insert AFTER INSERT ON shares REFERENCING NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION taskbot_share_counts()`},
	{"share_counts_update", "shares", `CREATE TRIGGER share_counts_update AFTER UPDATE ON shares REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION taskbot_share_counts()`},
	{"share_counts_delete", "shares", `CREATE TRIGGER share_counts_delete AFTER DELETE ON shares REFERENCING OLD TABLE AS old_rows
		FOR EACH STATEMENT EXECUTE FUNCTION taskbot_share_counts()`},
	{"share_counts_truncate", "shares", `CREATE TRIGGER share_counts_truncate AFTER TRUNCATE ON shares
		FOR EACH STATEMENT EXECUTE FUNCTION taskbot_share_counts()`},
}

// derivedDesign names the design of share_counts, table_versions and their
// triggers in the schema fingerprint: changing installDerived must change
// it, so that databases get the change.
const derivedDesign = "share-counts-4 plan-version-2 counts-version-2 plan-log-2"

// installDerived creates share_counts and table_versions when missing,
// (re)creates their triggers and counts the shares there are, in one
// transaction. It runs at every schema migration, after AutoMigrate: on
// SQLite, AutoMigrate rebuilds a table whose column changed (copy, drop,
// rename), which drops the table's triggers, and whatever was written
// then went uncounted. Writers wait meanwhile (PostgreSQL: the write
// lock, see installDerivedTx; SQLite has one writer), so no share is
// counted twice or missed. Seconds at 100,000 tasks; only when the schema
// changes.
func installDerived(db *gorm.DB) error {
	return db.Transaction(installDerivedTx)
}

// derivedTriggers are the triggers of the derived tables on a database
// (PostgreSQL or SQLite), and the statements they need first: tables,
// functions, counters.
func derivedTriggers(pg bool) (stmts []string, triggers []trigger) {
	counters, counterTriggers := versionStmts(pg)
	log, logTriggers := planLogStmts(pg)
	triggers = slices.Clone(sqliteShareTriggers)
	if pg {
		stmts, triggers = slices.Clone(postgresShareCounts), slices.Clone(postgresShareTriggers)
	}
	return slices.Concat(stmts, counters, log), slices.Concat(triggers, counterTriggers, logTriggers)
}

// withoutTriggers runs fn, a transaction's bulk write on SQLite, with the
// derived tables' row triggers dropped, then counts
// the shares and puts the triggers back (installDerivedTx), all in tx: a
// trigger per row made seeding 30% slower, a count of every share takes
// a fraction of that. A failure rolls the transaction back, triggers
// included.
func withoutTriggers(tx *gorm.DB, fn func() error) error {
	if err := dropSQLiteTriggers(tx); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	return installDerivedTx(tx)
}

// dropSQLiteTriggers drops the derived tables' triggers on SQLite, for
// installDerivedTx to make again.
func dropSQLiteTriggers(db *gorm.DB) error {
	_, triggers := derivedTriggers(false)
	for _, t := range triggers {
		if err := db.Exec("DROP TRIGGER IF EXISTS " + t.name).Error; err != nil {
			return err
		}
	}
	return nil
}

// installDerivedTx is installDerived in tx. On PostgreSQL it first takes
// the lock every write transaction takes (Store.write): no share is
// written between the triggers' making and the count, whatever version
// the writer runs, and readers are never locked out.
func installDerivedTx(tx *gorm.DB) error {
	pg := tx.Dialector.Name() == Postgres
	if pg {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))", writeLockClass).Error; err != nil {
			return err
		}
	}
	// share_counts before several lists had no list_id: made again (it
	// is counted again below anyway).
	if m := tx.Migrator(); m.HasTable("share_counts") && !m.HasColumn("share_counts", "list_id") {
		if err := tx.Exec("DROP TABLE share_counts").Error; err != nil {
			return err
		}
	}
	stmts, triggers := derivedTriggers(pg)
	for _, q := range append([]string{shareCountsTable(pg)}, stmts...) {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	for _, t := range triggers {
		if err := makeTrigger(tx, pg, t); err != nil {
			return err
		}
	}
	day := sqliteDay("due")
	if pg {
		day = pgDay("due")
	}
	for _, q := range []string{"DELETE FROM share_counts", `INSERT INTO share_counts (unit_id, state, due, list_id, day, n)
		SELECT unit_id, state, due, list_id, ` + day + `, n FROM (` + liveShareCounts + `) c`} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return resetPlanLog(tx)
}

// makeTrigger makes t: on SQLite again, on PostgreSQL when missing (see
// trigger).
func makeTrigger(tx *gorm.DB, pg bool, t trigger) error {
	if !pg {
		if err := tx.Exec("DROP TRIGGER IF EXISTS " + t.name).Error; err != nil {
			return err
		}
		return tx.Exec(t.create).Error
	}
	var exists bool
	err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE t.tgname = ? AND c.relname = ? AND c.relnamespace = current_schema()::regnamespace)`, t.name, t.table).Scan(&exists).Error
	if err != nil || exists {
		return err
	}
	return tx.Exec(t.create).Error
}

// CheckShareCounts compares share_counts with a count of the shares
// themselves, and each share's list with its task's, and describes the
// first difference ("" when they agree); err
// is a failed query. It reads every share: for tests and for checking a
// database by hand.
func (s *Store) CheckShareCounts(ctx context.Context) (diff string, err error) {
	var astray int64
	err = s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM shares s JOIN tasks t ON t.id = s.task_id WHERE s.list_id <> t.list_id`).Scan(&astray).Error
	if err != nil {
		return "", err
	}
	if astray > 0 {
		return fmt.Sprintf("%d shares are not in their task's list", astray), nil
	}
	type key struct{ unit, state, due, list string }
	want := map[key]int64{}
	if err := s.scanAll(ctx, liveShareCounts, func(rows *sql.Rows) error {
		var k key
		var n int64
		err := rows.Scan(&k.unit, &k.state, &k.due, &k.list, &n)
		want[k] = n
		return err
	}); err != nil {
		return "", err
	}
	got := map[key]int64{}
	badDay := ""
	if err := s.scanAll(ctx, `SELECT unit_id, state, due, list_id, day, n FROM share_counts`, func(rows *sql.Rows) error {
		var k key
		var n int64
		var day int
		if err := rows.Scan(&k.unit, &k.state, &k.due, &k.list, &day, &n); err != nil {
			return err
		}
		got[k] = n
		want := 0
		if k.due != "" {
			d, err := ParseDate(k.due)
			if err != nil {
				return err
			}
			want = d.dayNumber()
		}
		if day != want && badDay == "" {
			badDay = fmt.Sprintf("share_counts (unit %s, %s, due %q, list %s) has day %d; want %d", k.unit, k.state, k.due, k.list, day, want)
		}
		return nil
	}); err != nil {
		return "", err
	}
	if badDay != "" {
		return badDay, nil
	}
	for k, n := range want {
		if got[k] != n {
			return fmt.Sprintf("share_counts (unit %s, %s, due %q, list %s) = %d; the shares count %d", k.unit, k.state, k.due, k.list, got[k], n), nil
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf("share_counts (unit %s, %s, due %q, list %s) = %d; the shares count none", k.unit, k.state, k.due, k.list, n), nil
		}
	}
	return "", nil
}

// versionCounters are the counters of table_versions and the tables whose
// writes move each.
var versionCounters = []struct {
	name   string
	tables []string
}{{planVersion, []string{"tasks", "milestones"}}, {countsVersion, []string{"share_counts"}}, {planResetVersion, nil}}

// versionStmts create the counters and move them (what was kept under
// them is stale after a migration or a bulk write), and return their
// triggers: row triggers on SQLite, statement triggers on PostgreSQL.
func versionStmts(pg bool) (stmts []string, triggers []trigger) {
	stmts = []string{`CREATE TABLE IF NOT EXISTS table_versions (name varchar(32) PRIMARY KEY, v bigint NOT NULL)`}
	if pg {
		// Once per transaction and counter, as taskbot_bump (version.go).
		stmts = append(stmts, `CREATE OR REPLACE FUNCTION taskbot_bump_counter() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
			BEGIN
				IF current_setting('taskbot.bumped_' || TG_ARGV[0], true) IS DISTINCT FROM txid_current()::text THEN
					UPDATE table_versions SET v = v + 1 WHERE name = TG_ARGV[0];
					PERFORM set_config('taskbot.bumped_' || TG_ARGV[0], txid_current()::text, true);
				END IF;
				RETURN NULL;
			END $$`)
	}
	for _, c := range versionCounters {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO table_versions (name, v) VALUES ('%s', 0)
			ON CONFLICT (name) DO UPDATE SET v = table_versions.v + 1`, c.name))
		for _, table := range c.tables {
			if pg {
				name := "taskbot_counter_" + c.name
				triggers = append(triggers, trigger{name, table, fmt.Sprintf(`CREATE TRIGGER %s
					AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
					FOR EACH STATEMENT EXECUTE FUNCTION taskbot_bump_counter('%s')`, name, table, c.name)})
				continue
			}
			for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
				name := fmt.Sprintf("%s_%s_%s", c.name, table, strings.ToLower(op))
				triggers = append(triggers, trigger{name, table, fmt.Sprintf(`CREATE TRIGGER %s AFTER %s ON %s BEGIN
					UPDATE table_versions SET v = v + 1 WHERE name = '%s';
				END`, name, op, table, c.name)})
			}
		}
	}
	return stmts, triggers
}

// tableVersionSQL is a subquery reading the counter called name.
func tableVersionSQL(name string) string {
	return `COALESCE((SELECT v FROM table_versions WHERE name = '` + name + `'), -1)`
}
