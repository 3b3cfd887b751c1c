package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// ShareTally counts a unit's live shares of open tasks by what became of
// them, as of a day.
type ShareTally struct {
	UnitID uint
	Unit   string
	// Assigned counts every share; NA those not concerned.
	Assigned, NA int
	// ConfirmedOnTime and ConfirmedLate split the confirmed shares by
	// whether the confirmation came by the end of the due day (a share of
	// the task as a whole is always on time).
	ConfirmedOnTime, ConfirmedLate int
	// Reported are awaiting review; Open are neither reported nor settled.
	Reported, Open int
	// Overdue counts open shares past their due date; DaysOverdue sums
	// how many days each is past it.
	Overdue, DaysOverdue int
	// LastEntry is the unit's latest progress entry (zero: none).
	LastEntry time.Time
}

// StatsFilter narrows ShareTallies: to one list's tasks or one task,
// and/or to some units.
type StatsFilter struct {
	ListID uint
	TaskID uint
	Units  []uint
}

// ShareTallies returns one ShareTally per unit holding live shares of open
// tasks (collectives with members hold none), as of today in loc, ordered
// by unit. The whole list's counts are summed from share_counts (see
// countSums), one task's from its shares; the confirmations' timeliness is
// read from the confirmed shares of the units that have any. It returns
// EINTERNAL when a query fails.
func (s *Store) ShareTallies(ctx context.Context, today Date, loc *time.Location, f StatsFilter) ([]ShareTally, error) {
	// A confirmation is on time when it came before the end of the due
	// day in loc; stored times are UTC text, so the bound is too.
	endOfDue, _ := dueDayEnd(today, loc)
	day := today.String()
	where := `NOT s.retired AND NOT s.task_closed`
	var args []any
	if f.TaskID != 0 {
		where += ` AND s.task_id = ?`
		args = append(args, f.TaskID)
	}
	if f.Units != nil {
		where += ` AND s.unit_id IN ?`
		args = append(args, append([]uint{0}, f.Units...))
	}
	if f.ListID != 0 {
		where += ` AND s.list_id = ?`
		args = append(args, f.ListID)
	}
	names, err := s.unitNamesByID(ctx)
	if err != nil {
		return nil, Internal(err)
	}
	// Counts by unit and state, then the confirmations' timeliness.
	tally := map[uint]*ShareTally{}
	var order []uint
	get := func(id uint) *ShareTally {
		if tally[id] == nil {
			tally[id] = &ShareTally{UnitID: id, Unit: names[id]}
			order = append(order, id)
		}
		return tally[id]
	}
	var confirmed []uint // the units with confirmed shares, ascending
	add := func(id uint, state string, n, overdue, daysOverdue int) {
		x := get(id)
		x.Assigned += n
		switch state {
		case ShareConfirmed:
			if l := len(confirmed); l == 0 || confirmed[l-1] != id {
				confirmed = append(confirmed, id)
			}
		case ShareNA:
			x.NA += n
		case ShareReported:
			x.Reported += n
		case ShareOpen:
			x.Open += n
			x.Overdue += overdue
			x.DaysOverdue += daysOverdue
		}
	}
	if f.TaskID == 0 {
		var sums []countSum
		sums, err = s.countSums(ctx, today, f.Units, f.ListID)
		for _, c := range sums {
			add(c.unit, c.state, c.n, c.overdue, c.daysOverdue)
		}
	} else {
		err = s.scanRows(ctx, `SELECT s.unit_id, s.state, s.due, COUNT(*) FROM shares s WHERE `+where+`
			GROUP BY s.unit_id, s.state, s.due ORDER BY s.unit_id, s.state, s.due`, args, func(rows *sql.Rows) error {
			var id uint
			var state string
			var due sql.NullString
			var n int
			if err := rows.Scan(&id, &state, &due, &n); err != nil {
				return err
			}
			overdue, days := 0, 0
			if due.Valid && due.String != "" && due.String < day {
				d, err := ParseDate(due.String)
				if err != nil {
					return err
				}
				overdue, days = n, n*d.DaysUntil(today)
			}
			add(id, state, n, overdue, days)
			return nil
		})
	}
	if err != nil {
		return nil, Internal(err)
	}
	// Timeliness needs each confirmed share's dates: read on the index
	// ranges of the units that have any, not the whole index.
	if len(confirmed) == 0 {
		confirmed = []uint{0}
	}
	err = s.scanRows(ctx, `SELECT s.unit_id,
		COALESCE(SUM(CASE WHEN s.due IS NULL OR s.decided_at < `+s.endOf("s.due")+` THEN 1 ELSE 0 END), 0), COUNT(*)
		FROM shares s WHERE `+where+` AND s.unit_id IN ? AND s.state = 'confirmed' GROUP BY s.unit_id`,
		append(append([]any{endOfDue}, args...), confirmed), func(rows *sql.Rows) error {
			var id uint
			var onTime, n int
			if err := rows.Scan(&id, &onTime, &n); err != nil {
				return err
			}
			x := get(id)
			x.ConfirmedOnTime, x.ConfirmedLate = onTime, n-onTime
			return nil
		})
	if err != nil {
		return nil, Internal(err)
	}
	var out []ShareTally
	for _, id := range order {
		out = append(out, *tally[id])
	}
	last := map[uint]time.Time{}
	entries, entryArgs := `SELECT unit_id, created_at FROM progresses WHERE unit_id IS NOT NULL`, []any(nil)
	if f.ListID != 0 {
		entries += ` AND task_id IN (SELECT id FROM tasks WHERE list_id = ?)`
		entryArgs = append(entryArgs, f.ListID)
	}
	err = s.scanRows(ctx, entries, entryArgs, func(rows *sql.Rows) error {
		var id uint
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		if at.After(last[id]) {
			last[id] = at
		}
		return nil
	})
	if err != nil {
		return nil, Internal(err)
	}
	for i := range out {
		out[i].LastEntry = last[out[i].UnitID]
	}
	return out, nil
}

// Overview counts the tasks of every list, or of one, as of today in loc.
type Overview struct {
	TasksOpen, TasksClosed int
	// Milestones (retired ones aside): done by the end of the due day,
	// done later, still open and not yet due, open and overdue.
	DoneOnTime, DoneLate, Open, Overdue int
	// Awaiting counts shares reported done awaiting review.
	Awaiting int
}

// CountOverview returns the Overview of one list (every list when list is
// 0) as of today in loc (see ListOverviews).
func (s *Store) CountOverview(ctx context.Context, today Date, loc *time.Location, list uint) (Overview, error) {
	all, err := s.ListOverviews(ctx, today, loc)
	return all[list], err
}

// ListOverviews returns the Overview of every list (under 0) and of each
// list that has tasks, by ID, as of today in loc: the counts of tasks and
// milestones from the store's kept state, counted again for the tasks
// written since (see plan.go); the shares awaiting review summed from
// share_counts, in one pass. It returns EINTERNAL when a query fails.
func (s *Store) ListOverviews(ctx context.Context, today Date, loc *time.Location) (map[uint]Overview, error) {
	out := map[uint]Overview{}
	err := s.planCounts(ctx, today, loc, func(sum Overview, lists []Overview, _ []taskPlan) {
		out[0] = sum
		for l, o := range lists {
			if o.TasksOpen+o.TasksClosed > 0 {
				out[uint(l)] = o
			}
		}
	})
	if err != nil {
		return nil, err
	}
	awaiting, err := s.awaitingByList(ctx)
	if err != nil {
		return nil, Internal(err)
	}
	for list, n := range awaiting {
		o, all := out[list], out[0]
		o.Awaiting, all.Awaiting = n, all.Awaiting+n
		out[list], out[0] = o, all
	}
	return out, nil
}

// awaitingByList counts each list's shares awaiting review, from
// share_counts (a scan of it: milliseconds at 100,000 tasks), kept in
// memory until the counts version moves.
func (s *Store) awaitingByList(ctx context.Context) (map[uint]int, error) {
	var version int64
	if err := s.db.WithContext(ctx).Raw(`SELECT ` + tableVersionSQL(countsVersion)).Row().Scan(&version); err != nil {
		return nil, err
	}
	s.sumsMu.Lock()
	kept, ok := s.awaiting, version >= 0 && s.awaiting != nil && s.awaitingAt == version
	s.sumsMu.Unlock()
	if ok {
		return kept, nil
	}
	out := map[uint]int{}
	err := s.scanAll(ctx, `SELECT list_id, SUM(n) FROM share_counts WHERE state = 'reported' GROUP BY list_id`, func(rows *sql.Rows) error {
		var list uint
		var n int
		err := rows.Scan(&list, &n)
		out[list] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	if version >= 0 {
		s.sumsMu.Lock()
		s.awaitingAt, s.awaiting = version, out
		s.sumsMu.Unlock()
	}
	return out, nil
}

// CountEntriesSince counts the progress entries made at or after since,
// on one list's tasks (every list's when list is 0). It returns EINTERNAL
// when the query fails.
func (s *Store) CountEntriesSince(ctx context.Context, since time.Time, list uint) (int, error) {
	var n int64
	q := s.db.WithContext(ctx).Model(&Progress{}).Where("created_at >= ?", since.UTC())
	if list != 0 {
		q = q.Where("task_id IN (SELECT id FROM tasks WHERE list_id = ?)", list)
	}
	if err := q.Count(&n).Error; err != nil {
		return 0, Internal(err)
	}
	return int(n), nil
}

// dueDayEnd is endOf's parameter for days counted in loc as of today: a
// due day ends a day less the zone's offset today after its midnight UTC.
// off is that offset, in seconds east of UTC.
func dueDayEnd(today Date, loc *time.Location) (param string, off int) {
	_, off = today.In(zone(loc)).Zone()
	return fmt.Sprintf("%+d seconds", 86400-off), off
}

// endOf is the SQL for the moment a date column's day ends, in UTC, given
// as a parameter the offset "+N seconds" from the date's midnight UTC.
func (s *Store) endOf(col string) string {
	if s.dialect == Postgres {
		return "((" + col + ")::timestamp + CAST(? AS interval)) AT TIME ZONE 'UTC'"
	}
	return "datetime(" + col + ", ?)"
}

// countSum is one unit's live shares in one state, summed from
// share_counts as of a day.
type countSum struct {
	unit                    uint
	state                   string
	n, overdue, daysOverdue int
}

// countSums sums share_counts by unit and state as of today (for the
// given units, or all when nil; of one list, or every list when list is
// 0): a few rows per unit, due date and list instead of every share. Days
// overdue are today's day number times the overdue shares, less the sum
// of their due days. The sums are kept in memory until the counts
// version, the day, the units or the list change.
func (s *Store) countSums(ctx context.Context, today Date, units []uint, list uint) ([]countSum, error) {
	var version int64
	if err := s.db.WithContext(ctx).Raw(`SELECT ` + tableVersionSQL(countsVersion)).Row().Scan(&version); err != nil {
		return nil, err
	}
	key := fmt.Sprint(version, " ", today, " ", list, " ", units == nil, units) // nil is every unit, [] none
	s.sumsMu.Lock()
	kept, ok := s.sums, version >= 0 && s.sumsKey == key
	s.sumsMu.Unlock()
	if ok {
		return kept, nil
	}
	day := today.String()
	q := `SELECT unit_id, state, SUM(n), SUM(CASE WHEN due <> '' AND due < ? THEN n ELSE 0 END),
		SUM(CASE WHEN due <> '' AND due < ? THEN n * day ELSE 0 END) FROM share_counts`
	args := []any{day, day}
	var where []string
	if units != nil {
		where = append(where, `unit_id IN ?`)
		args = append(args, append([]uint{0}, units...))
	}
	if list != 0 {
		where = append(where, `list_id = ?`)
		args = append(args, list)
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	todayNumber := today.dayNumber()
	var out []countSum
	err := s.scanRows(ctx, q+` GROUP BY unit_id, state HAVING SUM(n) > 0 ORDER BY unit_id, state`, args, func(rows *sql.Rows) error {
		var c countSum
		var dueDays int
		if err := rows.Scan(&c.unit, &c.state, &c.n, &c.overdue, &dueDays); err != nil {
			return err
		}
		c.daysOverdue = c.overdue*todayNumber - dueDays
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if version >= 0 {
		s.sumsMu.Lock()
		s.sumsKey, s.sums = key, out
		s.sumsMu.Unlock()
	}
	return out, nil
}
