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

// planLogStmts create plan_changes, and return its triggers: row triggers
// on SQLite, statement triggers on PostgreSQL.
func planLogStmts(pg bool) (stmts []string, triggers []trigger) {
	if pg {
		stmts = append(stmts, `CREATE TABLE IF NOT EXISTS plan_changes (seq bigserial PRIMARY KEY, task_id bigint NOT NULL)`,
			`CREATE OR REPLACE FUNCTION taskbot_plan_log() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
			BEGIN
				IF TG_OP = 'TRUNCATE' THEN
					UPDATE table_versions SET v = v + 1 WHERE name = 'plan_reset';
					RETURN NULL;
				END IF;
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
				triggers = append(triggers, trigger{name, table, fmt.Sprintf(`CREATE TRIGGER %s AFTER %s ON %s
					REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION taskbot_plan_log()`, name, op.name, table, op.refs)})
			}
			triggers = append(triggers, trigger{"plan_log_truncate", table, fmt.Sprintf(`CREATE TRIGGER plan_log_truncate
				AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION taskbot_plan_log()`, table)})
		}
		return stmts, triggers
	}
	stmts = append(stmts, `CREATE TABLE IF NOT EXISTS plan_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id integer NOT NULL)`)
	for _, table := range []struct{ name, id string }{{"tasks", "id"}, {"milestones", "task_id"}} {
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			row := "NEW."
			if op == "DELETE" {
				row = "OLD."
			}
			name := fmt.Sprintf("plan_log_%s_%s", table.name, strings.ToLower(op))
			triggers = append(triggers, trigger{name, table.name, fmt.Sprintf(`CREATE TRIGGER %s AFTER %s ON %s BEGIN
				INSERT INTO plan_changes (task_id) VALUES (%s%s);
			END`, name, op, table.name, row, table.id)})
		}
	}
	return stmts, triggers
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

// taskPlan is one task's part of the overview: whether it is closed, its
// list, its milestones done on time and late, and the due dates of its open ones
// (what is overdue depends on the day; the rest does not).
type taskPlan struct {
	present, closed bool
	onTime, late    int32
	list            uint32
	dues            []Date
	// overdue counts the dues before the state's sumDay (see add).
	overdue int32
}

// overdueOn counts the task's open milestones due before day.
func (p *taskPlan) overdueOn(day Date) int32 {
	n := int32(0)
	for _, d := range p.dues {
		if d.Before(day) {
			n++
		}
	}
	return n
}

// planState is every task's taskPlan in a zone, up to the log's sequence
// number seq, with their sums as of the day sumDay.
type planState struct {
	reset, seq int64
	zone       string
	tasks      []taskPlan // by task ID: a slice, walked in order
	sumDay     Date
	sum        Overview   // Awaiting not filled
	lists      []Overview // sum's part of each list, by list ID
}

// add adds (sign 1) or removes (sign -1) a task's part of the sums as of
// st.sumDay; adding counts its overdue milestones as of that day.
func (st *planState) add(p *taskPlan, sign int) {
	if sign > 0 {
		p.overdue = p.overdueOn(st.sumDay)
	}
	d := addPlan(Overview{}, p, sign)
	st.sum = st.sum.plus(d)
	if int(p.list) >= len(st.lists) {
		st.lists = append(st.lists, make([]Overview, int(p.list)+1-len(st.lists))...)
	}
	st.lists[p.list] = st.lists[p.list].plus(d)
}

// plus is o with d's counts added.
func (o Overview) plus(d Overview) Overview {
	return Overview{TasksOpen: o.TasksOpen + d.TasksOpen, TasksClosed: o.TasksClosed + d.TasksClosed,
		DoneOnTime: o.DoneOnTime + d.DoneOnTime, DoneLate: o.DoneLate + d.DoneLate, Open: o.Open + d.Open,
		Overdue: o.Overdue + d.Overdue, Awaiting: o.Awaiting + d.Awaiting}
}

// planCounts calls use with the overview's counts of tasks and milestones
// as of today in loc, of every list and of each (by list ID; a list past
// the slice has no task), and every task's taskPlan (by task ID), from the kept
// state brought up to date: everything counted again after a bulk write
// or in another zone, else only the tasks logged since; a new day is only
// summed again, in memory. use runs under planMu: it must not keep or
// change the slices.
func (s *Store) planCounts(ctx context.Context, today Date, loc *time.Location, use func(o Overview, lists []Overview, tasks []taskPlan)) error {
	var reset, last, first int64
	err := s.db.WithContext(ctx).Raw(`SELECT `+tableVersionSQL(planResetVersion)+`,
		(SELECT COALESCE(MAX(seq), 0) FROM plan_changes), (SELECT COALESCE(MIN(seq), 0) FROM plan_changes)`).
		Row().Scan(&reset, &last, &first)
	if err != nil {
		return Internal(err)
	}
	// The zone and its offset today, which says when a due day ends: a
	// change of offset (daylight saving) counts everything again.
	endOfDue, off := dueDayEnd(today, loc)
	zoneKey := fmt.Sprint(zone(loc), " ", off)
	s.planMu.Lock()
	defer s.planMu.Unlock()
	st := s.plan
	everything := func() error {
		st = &planState{reset: reset, seq: last, zone: zoneKey, sumDay: today}
		return s.countPlan(ctx, st, endOfDue, nil)
	}
	switch {
	case st == nil || st.reset != reset || st.zone != zoneKey || reset < 0 || first > st.seq+1 && st.seq < last:
		// Everything: the first time, after a bulk write, in another
		// zone or offset, or when the log no longer reaches back to what
		// was counted.
		if err := everything(); err != nil {
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
		switch {
		case len(ids) > maxPlanDelta:
			// Many tasks changed: one count of everything is cheaper
			// than their IDs in a query (and within its parameters).
			if err := everything(); err != nil {
				return err
			}
		case len(ids) > 0:
			if err := s.countPlan(ctx, st, endOfDue, ids); err != nil {
				return err
			}
			st.seq = last
		default:
			// None: a bulk write emptied the log after the sequence was
			// read; the next read sees its reset.
			st.seq = last
		}
	}
	if st.sumDay != today {
		st.sumDay, st.sum, st.lists = today, Overview{}, nil
		for i := range st.tasks {
			if st.tasks[i].present {
				st.add(&st.tasks[i], 1)
			}
		}
	}
	s.plan = st
	use(st.sum, st.lists, st.tasks)
	return nil
}

// maxPlanDelta is the most tasks counted again by ID; more are counted
// with everything.
const maxPlanDelta = 2000

// countPlan counts again the given tasks (all when ids is nil) into st,
// due days ending as endOfDue says (see dueDayEnd).
func (s *Store) countPlan(ctx context.Context, st *planState, endOfDue string, ids []uint) error {
	fresh := map[uint]*taskPlan{}
	taskQ := `SELECT id, closed_at IS NOT NULL, list_id FROM tasks`
	doneQ := `SELECT task_id,
		COALESCE(SUM(CASE WHEN done_at < ` + s.endOf("due") + ` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at >= ` + s.endOf("due") + ` THEN 1 ELSE 0 END), 0)
		FROM milestones WHERE NOT retired AND done_at IS NOT NULL`
	// All tasks: the (open, due, task_id) index's open part. Some: by
	// task, open or not (an equality on open would lead the planner to
	// that index's whole open part).
	openQ := `SELECT task_id, due, open FROM milestones WHERE open = ? AND NOT retired`
	doneArgs := []any{endOfDue, endOfDue}
	openArgs := []any{true}
	var taskArgs []any
	if ids != nil {
		in := append([]uint{0}, ids...)
		taskQ += ` WHERE id IN ?`
		doneQ += ` AND task_id IN ?`
		openQ = `SELECT task_id, due, open FROM milestones WHERE NOT retired AND task_id IN ?`
		taskArgs, doneArgs, openArgs = []any{in}, append(doneArgs, in), []any{in}
	}
	err := s.scanRows(ctx, taskQ, taskArgs, func(rows *sql.Rows) error {
		var id uint
		var closed bool
		var list uint32
		err := rows.Scan(&id, &closed, &list)
		fresh[id] = &taskPlan{closed: closed, list: list}
		return err
	})
	if err != nil {
		return Internal(err)
	}
	err = s.scanRows(ctx, doneQ+` GROUP BY task_id`, doneArgs, func(rows *sql.Rows) error {
		var id uint
		var onTime, late int32
		if err := rows.Scan(&id, &onTime, &late); err != nil {
			return err
		}
		if p := fresh[id]; p != nil {
			p.onTime, p.late = onTime, late
		}
		return nil
	})
	if err != nil {
		return Internal(err)
	}
	err = s.scanRows(ctx, openQ, openArgs, func(rows *sql.Rows) error {
		var id uint
		var due Date
		var open bool
		if err := rows.Scan(&id, &due, &open); err != nil {
			return err
		}
		if p := fresh[id]; p != nil && open {
			p.dues = append(p.dues, due)
		}
		return nil
	})
	if err != nil {
		return Internal(err)
	}
	for _, id := range ids {
		if id < uint(len(st.tasks)) && st.tasks[id].present {
			st.add(&st.tasks[id], -1)
			st.tasks[id] = taskPlan{}
		}
	}
	for id, p := range fresh {
		if id >= uint(len(st.tasks)) {
			st.tasks = append(st.tasks, make([]taskPlan, int(id)+1-len(st.tasks))...)
		}
		p.present = true
		st.tasks[id] = *p
		st.add(&st.tasks[id], 1)
	}
	return nil
}

// addPlan adds (sign 1) or removes (sign -1) a task's part of o, its
// milestones overdue as p.overdue counts them.
func addPlan(o Overview, p *taskPlan, sign int) Overview {
	if p.closed {
		o.TasksClosed += sign
	} else {
		o.TasksOpen += sign
	}
	overdue := int(p.overdue)
	o.DoneOnTime += sign * int(p.onTime)
	o.DoneLate += sign * int(p.late)
	o.Open += sign * (len(p.dues) - overdue)
	o.Overdue += sign * overdue
	return o
}

// planLogKept is how many of the latest entries TrimPlanLog keeps.
const planLogKept = 10000

// TrimPlanLog deletes all but the latest planLogKept entries of the log of
// planned tasks (a few are added by each decision on a milestone). A
// process that had not read the deleted ones counts everything again. It
// returns EINTERNAL when the database fails.
func (s *Store) TrimPlanLog(ctx context.Context) error {
	err := s.db.WithContext(ctx).Exec(`DELETE FROM plan_changes WHERE seq <= (SELECT MAX(seq) FROM plan_changes) - ?`, planLogKept).Error
	if err != nil {
		return Internal(err)
	}
	return nil
}
