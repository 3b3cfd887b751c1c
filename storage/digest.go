package storage

import (
	"context"
	"database/sql"
	"fmt"
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
	err := q.Select("p.*, t.code").Joins("JOIN tasks t ON t.id = p.task_id").
		Order("p.created_at DESC, p.id DESC").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	return out, int(total), nil
}

// ProgressItem is a progress entry with its task's code.
type ProgressItem struct {
	Progress
	Code string
}

// StaleTasks returns open (not closed) tasks tracked since before since
// (first seeded earlier) with no progress since then, most urgent first, at
// most limit, and the total: a task the bot has just started tracking is
// not silent. It returns EINTERNAL when a query fails.
func (s *Store) StaleTasks(ctx context.Context, since time.Time, limit int) ([]TaskSummary, int, error) {
	var total int64
	err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM tasks t WHERE t.closed_at IS NULL AND t.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= ?)`, since.UTC(), since.UTC()).Scan(&total).Error
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
		ORDER BY t.section, t.number`, map[string]any{"since": since.UTC()})
	return ts, err
}

// Silence is a unit's part of an ongoing or long-term task with nothing to
// count down to: how long the unit has been silent on it.
type Silence struct {
	TaskID uint
	Code   string
	Title  string
	UnitID uint
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
	var out []Silence
	err := s.scanAll(ctx, `SELECT ut.task_id, t.code, t.title, ut.unit_id, t.created_at,
		(SELECT MAX(p.created_at) FROM progresses p WHERE p.task_id = ut.task_id AND p.unit_id = ut.unit_id)
		FROM (SELECT DISTINCT task_id, unit_id FROM unit_tasks) ut
		JOIN tasks t ON t.id = ut.task_id
		WHERE t.closed_at IS NULL AND (t.ongoing OR t.long_term) AND t.next_due IS NULL
		AND NOT EXISTS (SELECT 1 FROM unit_members um WHERE um.collective_id = ut.unit_id)
		AND NOT EXISTS (SELECT 1 FROM shares sh WHERE sh.task_id = ut.task_id AND sh.unit_id = ut.unit_id
			AND sh.milestone_id = 0 AND sh.state <> 'open' AND NOT sh.retired)
		ORDER BY t.section, t.number, ut.unit_id`, func(rows *sql.Rows) error {
		var x Silence
		var created time.Time
		var last sql.NullString
		if err := rows.Scan(&x.TaskID, &x.Code, &x.Title, &x.UnitID, &created, &last); err != nil {
			return err
		}
		x.Since = created
		if last.Valid {
			if t, err := parseDBTime(last.String); err == nil && t.After(created) {
				x.Since = t
			}
		}
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// parseDBTime reads a time an aggregate returned as text (SQLite gives
// MAX(created_at) back as the stored string).
func parseDBTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("storage: unreadable time %q", s)
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
		WHERE EXISTS (SELECT 1 FROM shares sh JOIN tasks t ON t.id = sh.task_id AND t.closed_at IS NULL
			WHERE sh.unit_id = u.id AND sh.state = 'open' AND NOT sh.retired)
		AND NOT EXISTS (SELECT 1 FROM unit_channels c WHERE c.unit_id = u.id AND c.channel <> '')
		AND NOT EXISTS (SELECT 1 FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.unit_id = u.id AND p.slack_id <> '')
		ORDER BY u.id`).Scan(&out).Error
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}
