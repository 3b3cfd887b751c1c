package storage

import (
	"context"
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

// StaleTasks returns open (not closed) tasks with no progress since since,
// most urgent first, at most limit, and the total. It returns EINTERNAL
// when a query fails.
func (s *Store) StaleTasks(ctx context.Context, since time.Time, limit int) ([]TaskSummary, int, error) {
	var total int64
	err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM tasks t WHERE t.closed_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= ?)`, since.UTC()).Scan(&total).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	ts, _, err := s.summaries(ctx, `SELECT `+summaryCols+`, '' AS via, 0 AS total FROM tasks t
		WHERE t.closed_at IS NULL
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
