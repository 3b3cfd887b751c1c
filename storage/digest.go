package storage

import (
	"context"
	"database/sql"
	"sort"
	"time"
)

// ProgressBetween returns progress entries created in [from, to), newest
// first, at most limit, and the total. It returns EINTERNAL when a query
// fails.
func (s *Store) ProgressBetween(ctx context.Context, from, to time.Time, limit int) ([]ProgressItem, int, error) {
	var total int64
	q := s.db.WithContext(ctx).Table("progresses p").Where("p.created_at >= ? AND p.created_at < ?", from.UTC(), to.UTC())
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, Internal(err)
	}
	var out []ProgressItem
	err := q.Select("p.*, t.list_id, t.code").Joins("JOIN tasks t ON t.id = p.task_id").
		Order("p.created_at DESC, p.id DESC").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	return out, int(total), qualifyCodes(ctx, s, out, entryCode)
}

// ProgressItem is a progress entry with its task's code.
type ProgressItem struct {
	Progress
	ListID uint
	Code   string // qualified as TaskSummary's
}

// StaleTasks returns open (not closed) tasks tracked since before since
// (first seeded earlier) with no progress since then, most urgent first, at
// most limit, and the total: a task the bot has just started tracking is
// not silent. It returns EINTERNAL when a query fails.
func (s *Store) StaleTasks(ctx context.Context, since time.Time, limit int) ([]TaskSummary, int, error) {
	// The open tasks tracked before since (on an index), less those with
	// an entry since then (few): not a probe of the entries per task.
	var total int64
	err := s.db.WithContext(ctx).Raw(`SELECT
		(SELECT COUNT(*) FROM tasks t WHERE t.closed_at IS NULL AND t.created_at < @since) -
		(SELECT COUNT(DISTINCT p.task_id) FROM progresses p JOIN tasks t ON t.id = p.task_id
			WHERE p.created_at >= @since AND t.closed_at IS NULL AND t.created_at < @since)`,
		map[string]any{"since": since.UTC()}).Scan(&total).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	ts, _, err := s.summaries(ctx, `SELECT `+summaryCols+`, '' AS via, 0 AS total FROM tasks t
		WHERE t.closed_at IS NULL AND t.created_at < @since
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= @since)
		ORDER BY `+urgency+` LIMIT @limit`, map[string]any{"since": since.UTC(), "limit": limit})
	return ts, int(total), err
}

// MilestoneCounts counts milestones (retired ones excluded) as of today:
// open overdue, open due within soon days (today included), open later,
// and done or closed with their task.
type MilestoneCounts struct {
	Overdue, Soon, Later, Done int
}

// CountMilestones returns the MilestoneCounts as of today, soon being the
// number of days ahead that counts as due soon. It returns EINTERNAL when
// the query fails.
func (s *Store) CountMilestones(ctx context.Context, today Date, soon int) (MilestoneCounts, error) {
	var c MilestoneCounts
	err := s.db.WithContext(ctx).Raw(`SELECT
		COALESCE(SUM(CASE WHEN open = @t AND due < @today THEN 1 ELSE 0 END), 0) AS overdue,
		COALESCE(SUM(CASE WHEN open = @t AND due >= @today AND due <= @soon THEN 1 ELSE 0 END), 0) AS soon,
		COALESCE(SUM(CASE WHEN open = @t AND due > @soon THEN 1 ELSE 0 END), 0) AS later,
		COALESCE(SUM(CASE WHEN open = @f THEN 1 ELSE 0 END), 0) AS done
		FROM milestones WHERE NOT retired`,
		map[string]any{"t": true, "f": false, "today": today, "soon": today.AddDays(soon)}).Scan(&c).Error
	if err != nil {
		return c, Internal(err)
	}
	return c, nil
}

// NudgeCandidates returns the ongoing and long-term tasks, not closed and
// with no open dated milestone (those get countdowns instead), that have
// had no progress since since. It returns EINTERNAL when a query fails.
func (s *Store) NudgeCandidates(ctx context.Context, since time.Time) ([]TaskSummary, error) {
	ts, _, err := s.summaries(ctx, `SELECT `+summaryCols+`, '' AS via, 0 AS total FROM tasks t
		WHERE t.closed_at IS NULL AND (t.ongoing OR t.long_term) AND t.next_due IS NULL
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= @since)
		ORDER BY t.list_id, t.section, t.number`, map[string]any{"since": since.UTC()})
	return ts, err
}

// Silence is a unit's part of an ongoing or long-term task with nothing to
// count down to: how long the unit has been silent on it.
type Silence struct {
	TaskID uint
	Code   string
	Title  string
	UnitID uint
	Unit   string
	// Since is the later of the unit's last entry on the task and the day
	// the bot started tracking the task (its first seeding): silence is
	// never counted from before the bot existed.
	Since time.Time
}

// Silences returns, for every open ongoing or long-term task with no open
// dated milestone, each unit holding it (collectives replaced by their
// members) whose share of the task is not settled or reported, with the
// start of its silence (see Silence). It returns EINTERNAL when the query
// fails.
func (s *Store) Silences(ctx context.Context) ([]Silence, error) {
	// The candidate tasks are few (ongoing or long-term, nothing dated
	// open); each step below reads only theirs, with no correlated
	// subquery per unit.
	type task struct {
		code, title string
		created     time.Time
	}
	tasks := map[uint]task{}
	var ids []uint
	// Rank 1 is an open task without an open dated milestone that is
	// immediate, ongoing or long-term: read on idx_tasks_urgency, not by
	// scanning every task.
	lists, err := s.ListNames(ctx)
	if err != nil {
		return nil, err
	}
	err = s.scanAll(ctx, `SELECT id, list_id, code, title, created_at FROM tasks
		WHERE rank = 1 AND (ongoing OR long_term) ORDER BY list_id, section, number`, func(rows *sql.Rows) error {
		var id, list uint
		var t task
		err := rows.Scan(&id, &list, &t.code, &t.title, &t.created)
		t.code = qualify(t.code, list, lists)
		tasks[id] = t
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	collective := map[uint]bool{}
	if err := s.scanAll(ctx, `SELECT DISTINCT collective_id FROM unit_members`, func(rows *sql.Rows) error {
		var id uint
		err := rows.Scan(&id)
		collective[id] = true
		return err
	}); err != nil {
		return nil, Internal(err)
	}
	names, err := s.unitNamesByID(ctx)
	if err != nil {
		return nil, Internal(err)
	}
	type pair struct{ task, unit uint }
	var pairs []pair
	held := map[pair]bool{}
	if err := s.scanByIDs(ctx, `SELECT task_id, unit_id FROM unit_tasks WHERE task_id IN (%s) ORDER BY task_id, unit_id`, ids, func(rows *sql.Rows) error {
		var p pair
		if err := rows.Scan(&p.task, &p.unit); err != nil {
			return err
		}
		if !collective[p.unit] && !held[p] {
			held[p] = true
			pairs = append(pairs, p)
		}
		return nil
	}); err != nil {
		return nil, Internal(err)
	}
	settled := map[pair]bool{}
	if err := s.scanByIDs(ctx, `SELECT task_id, unit_id FROM shares
		WHERE milestone_id = 0 AND state <> 'open' AND NOT retired AND task_id IN (%s)`, ids, func(rows *sql.Rows) error {
		var p pair
		err := rows.Scan(&p.task, &p.unit)
		settled[p] = true
		return err
	}); err != nil {
		return nil, Internal(err)
	}
	last := map[pair]time.Time{}
	if err := s.scanByIDs(ctx, `SELECT task_id, unit_id, created_at FROM progresses
		WHERE unit_id IS NOT NULL AND task_id IN (%s)`, ids, func(rows *sql.Rows) error {
		var p pair
		var at time.Time
		if err := rows.Scan(&p.task, &p.unit, &at); err != nil {
			return err
		}
		if at.After(last[p]) {
			last[p] = at
		}
		return nil
	}); err != nil {
		return nil, Internal(err)
	}
	// In the order of the tasks, then of their units.
	order := map[uint]int{}
	for i, id := range ids {
		order[id] = i
	}
	sort.SliceStable(pairs, func(i, j int) bool { return order[pairs[i].task] < order[pairs[j].task] })
	var out []Silence
	for _, p := range pairs {
		if settled[p] {
			continue
		}
		t := tasks[p.task]
		x := Silence{TaskID: p.task, Code: t.code, Title: t.title, UnitID: p.unit, Unit: names[p.unit], Since: t.created}
		if l := last[p]; l.After(x.Since) {
			x.Since = l
		}
		out = append(out, x)
	}
	return out, nil
}

// CountDoneSince counts the milestones (not retired) done at or after
// since. It returns EINTERNAL when the query fails.
func (s *Store) CountDoneSince(ctx context.Context, since time.Time) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Milestone{}).Where("done_at >= ? AND NOT retired", since.UTC()).Count(&n).Error
	if err != nil {
		return 0, Internal(err)
	}
	return int(n), nil
}

// UnreachableUnits returns the names of the units that hold open shares
// of open tasks but have neither a channel nor a member with a Slack ID:
// their reminders go to the fallback channel. It returns EINTERNAL when the
// query fails.
func (s *Store) UnreachableUnits(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Raw(`SELECT u.name FROM units u
		WHERE EXISTS (SELECT 1 FROM shares sh WHERE sh.unit_id = u.id AND sh.state = 'open'
			AND sh.retired = FALSE AND sh.task_closed = FALSE)
		AND NOT EXISTS (SELECT 1 FROM unit_channels c WHERE c.unit_id = u.id AND c.channel <> '')
		AND NOT EXISTS (SELECT 1 FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.unit_id = u.id AND p.slack_id <> '')
		ORDER BY u.id`).Scan(&out).Error
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}
