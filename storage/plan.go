package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// plan_changes is a log of the tasks whose row or milestones were written,
// appended by triggers in the writing transaction (row triggers on SQLite,
// statement triggers on PostgreSQL). The store keeps each task's milestone
// counts as of a day in memory (planState) and, after a write, counts
// again only the tasks logged since: the overview and the units ranking
// stay a few milliseconds after a milestone closes, however long the list.
// Bulk writes empty the log and move the "plan_reset" counter, and readers
// then count everything again. Write transactions run one at a time
// (Store.write), so the log's sequence numbers commit in order.

// planLogStmts create plan_changes and, on SQLite, its row triggers; on
// PostgreSQL its statement triggers are returned apart, made when missing.
func planLogStmts(pg bool) (stmts []string, triggers []pgTrigger) {
	if pg {
		stmts = append(stmts, `CREATE TABLE IF NOT EXISTS plan_changes (seq bigserial PRIMARY KEY, task_id bigint NOT NULL)`,
			`CREATE OR REPLACE FUNCTION taskbot_plan_log() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
			BEGIN
				IF TG_TABLE_NAME = 'tasks' THEN
					IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
						INSERT INTO plan_changes (task_id) SELECT DISTINCT id FROM old_rows;
					END IF;
					IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
						INSERT INTO plan_changes (task_id) SELECT DISTINCT id FROM new_rows;
					END IF;
				ELSE
					IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
						INSERT INTO plan_changes (task_id) SELECT DISTINCT task_id FROM old_rows;
					END IF;
					IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
						INSERT INTO plan_changes (task_id) SELECT DISTINCT task_id FROM new_rows;
					END IF;
				END IF;
				RETURN NULL;
			END $$`)
		for _, table := range []string{"tasks", "milestones"} {
			for _, op := range []struct{ name, refs string }{
				{"INSERT", "NEW TABLE AS new_rows"}, {"UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"}, {"DELETE", "OLD TABLE AS old_rows"},
			} {
				name := "plan_log_" + strings.ToLower(op.name)
				triggers = append(triggers, pgTrigger{name, table, fmt.Sprintf(`CREATE TRIGGER %s AFTER %s ON %s
					REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION taskbot_plan_log()`, name, op.name, table, op.refs)})
			}
		}
		return stmts, triggers
	}
	stmts = append(stmts, `CREATE TABLE IF NOT EXISTS plan_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id integer NOT NULL)`)
	for _, t := range planLogTriggers() {
		stmts = append(stmts, "DROP TRIGGER IF EXISTS "+t.name, fmt.Sprintf(`CREATE TRIGGER %s AFTER %s ON %s BEGIN
			INSERT INTO plan_changes (task_id) VALUES (%s);
		END`, t.name, t.op, t.table, t.task))
	}
	return stmts, nil
}

// planLogTriggers are SQLite's row triggers of plan_changes.
func planLogTriggers() []struct{ name, op, table, task string } {
	var out []struct{ name, op, table, task string }
	for _, table := range []struct{ name, id string }{{"tasks", "id"}, {"milestones", "task_id"}} {
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			row := "NEW."
			if op == "DELETE" {
				row = "OLD."
			}
			out = append(out, struct{ name, op, table, task string }{
				fmt.Sprintf("plan_log_%s_%s", table.name, strings.ToLower(op)), op, table.name, row + table.id})
		}
	}
	return out
}

// resetPlanLog empties plan_changes after a bulk write and moves the reset
// counter: readers count every task again.
func resetPlanLog(tx *gorm.DB) error {
	for _, q := range []string{`DELETE FROM plan_changes`,
		`UPDATE table_versions SET v = v + 1 WHERE name = '` + planResetVersion + `'`} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

// planResetVersion names the counter moved when plan_changes is emptied.
const planResetVersion = "plan_reset"

// taskPlan is one task's part of the overview as of a day.
type taskPlan struct {
	closed                      bool
	onTime, late, open, overdue int32
}

// planState is every task's taskPlan as of a day in a zone, up to the
// log's sequence number seq, with their sums.
type planState struct {
	reset, seq int64
	key        string // day and zone
	tasks      map[uint]taskPlan
	sum        Overview // Awaiting not filled
}

// planCounts returns the overview's counts of tasks and milestones as of
// today in loc, and each task's overdue milestones (by task ID), from the
// kept state brought up to date: everything counted again after a bulk
// write or on a new day, else only the tasks logged since. The returned
// map is the store's: callers must not change it, and must not keep it
// beyond the call that holds planMu.
func (s *Store) planCounts(ctx context.Context, today Date, loc *time.Location, use func(o Overview, tasks map[uint]taskPlan)) error {
	var reset, last, first int64
	err := s.db.WithContext(ctx).Raw(`SELECT `+tableVersionSQL(planResetVersion)+`,
		(SELECT COALESCE(MAX(seq), 0) FROM plan_changes), (SELECT COALESCE(MIN(seq), 0) FROM plan_changes)`).
		Row().Scan(&reset, &last, &first)
	if err != nil {
		return Internal(err)
	}
	key := fmt.Sprint(today, " ", zone(loc))
	s.planMu.Lock()
	defer s.planMu.Unlock()
	st := s.plan
	switch {
	case st == nil || st.reset != reset || st.key != key || reset < 0 || first > st.seq+1 && st.seq < last:
		// Everything: the first time, after a bulk write, on a new day,
		// or when the log no longer reaches back to what was counted.
		st = &planState{reset: reset, seq: last, key: key, tasks: map[uint]taskPlan{}}
		if err := s.countPlan(ctx, st, today, loc, nil); err != nil {
			return err
		}
	case last > st.seq:
		var ids []uint
		err := s.scanRows(ctx, `SELECT DISTINCT task_id FROM plan_changes WHERE seq > ? AND seq <= ?`, []any{st.seq, last},
			func(rows *sql.Rows) error {
				var id uint
				err := rows.Scan(&id)
				ids = append(ids, id)
				return err
			})
		if err != nil {
			return Internal(err)
		}
		if err := s.countPlan(ctx, st, today, loc, ids); err != nil {
			return err
		}
		st.seq = last
	}
	s.plan = st
	use(st.sum, st.tasks)
	return nil
}

// countPlan counts again the given tasks (all when ids is nil) into st.
func (s *Store) countPlan(ctx context.Context, st *planState, today Date, loc *time.Location, ids []uint) error {
	fresh := map[uint]taskPlan{}
	taskQ, msQ := `SELECT id, closed_at IS NOT NULL FROM tasks`, `SELECT task_id,
		COALESCE(SUM(CASE WHEN done_at IS NOT NULL AND done_at < `+s.endOf("due")+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at IS NOT NULL AND done_at >= `+s.endOf("due")+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN open AND due >= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN open AND due < ? THEN 1 ELSE 0 END), 0)
		FROM milestones WHERE NOT retired`
	_, off := today.In(zone(loc)).Zone()
	endOfDue := fmt.Sprintf("%+d seconds", 86400-off)
	msArgs := []any{endOfDue, endOfDue, today.String(), today.String()}
	var taskArgs []any
	if ids != nil {
		taskQ += ` WHERE id IN ?`
		msQ += ` AND task_id IN ?`
		taskArgs = []any{append([]uint{0}, ids...)}
		msArgs = append(msArgs, append([]uint{0}, ids...))
	}
	err := s.scanRows(ctx, taskQ, taskArgs, func(rows *sql.Rows) error {
		var id uint
		var closed bool
		err := rows.Scan(&id, &closed)
		fresh[id] = taskPlan{closed: closed}
		return err
	})
	if err != nil {
		return Internal(err)
	}
	err = s.scanRows(ctx, msQ+` GROUP BY task_id`, msArgs, func(rows *sql.Rows) error {
		var id uint
		var p taskPlan
		if err := rows.Scan(&id, &p.onTime, &p.late, &p.open, &p.overdue); err != nil {
			return err
		}
		if t, ok := fresh[id]; ok {
			p.closed = t.closed
			fresh[id] = p
		}
		return nil
	})
	if err != nil {
		return Internal(err)
	}
	for _, id := range ids {
		if old, ok := st.tasks[id]; ok {
			st.sum = addPlan(st.sum, old, -1)
			delete(st.tasks, id)
		}
	}
	for id, p := range fresh {
		st.tasks[id] = p
		st.sum = addPlan(st.sum, p, 1)
	}
	return nil
}

// addPlan adds (sign 1) or removes (sign -1) a task's part of o.
func addPlan(o Overview, p taskPlan, sign int) Overview {
	if p.closed {
		o.TasksClosed += sign
	} else {
		o.TasksOpen += sign
	}
	o.DoneOnTime += sign * int(p.onTime)
	o.DoneLate += sign * int(p.late)
	o.Open += sign * int(p.open)
	o.Overdue += sign * int(p.overdue)
	return o
}
