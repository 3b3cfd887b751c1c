package storage

import (
	"context"
	"time"
)

// chunks calls f with consecutive slices of ids of at most 5,000 (below
// every backend's bound on query parameters).
func chunks(ids []uint, f func([]uint) error) error {
	for start := 0; start < len(ids); start += 5000 {
		if err := f(ids[start:min(start+5000, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

// LastProgressAt returns, for each of the tasks that has progress, the time
// of its latest entry.
func (s *Store) LastProgressAt(ctx context.Context, taskIDs []uint) (map[uint]time.Time, error) {
	out := map[uint]time.Time{}
	err := chunks(taskIDs, func(ids []uint) error {
		var rows []struct {
			TaskID uint
			Last   time.Time
		}
		// MAX over a DATETIME loses its type in SQLite, so take the newest row.
		err := s.db.WithContext(ctx).Raw(`SELECT p.task_id, p.created_at AS last FROM progresses p
			WHERE p.task_id IN ? AND NOT EXISTS (SELECT 1 FROM progresses q
				WHERE q.task_id = p.task_id AND (q.created_at > p.created_at OR q.created_at = p.created_at AND q.id > p.id))`, ids).
			Scan(&rows).Error
		for _, r := range rows {
			out[r.TaskID] = r.Last
		}
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// Threads returns the tracking threads of the tasks that have one.
func (s *Store) Threads(ctx context.Context, taskIDs []uint) (map[uint]Thread, error) {
	out := map[uint]Thread{}
	err := chunks(taskIDs, func(ids []uint) error {
		var rows []Thread
		err := s.db.WithContext(ctx).Where("task_id IN ?", ids).Find(&rows).Error
		for _, t := range rows {
			out[t.TaskID] = t
		}
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// UnitLinks returns, for each task, the units that hold it (collectives
// expanded; see UnitTask), with the units' names.
func (s *Store) UnitLinks(ctx context.Context, taskIDs []uint) (map[uint][]UnitLink, error) {
	out := map[uint][]UnitLink{}
	err := chunks(taskIDs, func(ids []uint) error {
		var rows []UnitLink
		err := s.db.WithContext(ctx).Raw(`SELECT ut.task_id, ut.unit_id, u.name AS unit, ut.role, ut.via_id,
			EXISTS (SELECT 1 FROM unit_members um WHERE um.collective_id = ut.unit_id) AS collective
			FROM unit_tasks ut JOIN units u ON u.id = ut.unit_id
			WHERE ut.task_id IN ? ORDER BY ut.task_id, ut.role, ut.unit_id`, ids).Scan(&rows).Error
		for _, r := range rows {
			out[r.TaskID] = append(out[r.TaskID], r)
		}
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// UnitLink is a unit holding a task.
type UnitLink struct {
	TaskID     uint
	UnitID     uint
	Unit       string
	Role       string
	ViaID      uint
	Collective bool
}

// Recipients returns each unit's configured Slack channel and the Slack IDs
// of its members (people whose ID is known).
func (s *Store) Recipients(ctx context.Context) (channels map[uint]string, members map[uint][]string, err error) {
	channels, err = s.UnitChannels(ctx)
	if err != nil {
		return nil, nil, err
	}
	var rows []struct {
		UnitID  uint
		SlackID string
	}
	err = s.db.WithContext(ctx).Raw(`SELECT m.unit_id, p.slack_id FROM memberships m
		JOIN people p ON p.id = m.person_id WHERE p.slack_id <> '' ORDER BY m.unit_id, p.id`).Scan(&rows).Error
	if err != nil {
		return nil, nil, Internal(err)
	}
	members = map[uint][]string{}
	for _, r := range rows {
		members[r.UnitID] = append(members[r.UnitID], r.SlackID)
	}
	return channels, members, nil
}

// ProgressBetween returns progress entries created in [from, to), newest
// first, at most limit, and the total.
func (s *Store) ProgressBetween(ctx context.Context, from, to time.Time, limit int) ([]ProgressItem, int, error) {
	var total int64
	q := s.db.WithContext(ctx).Table("progresses p").Where("p.created_at >= ? AND p.created_at < ?", from, to)
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
// most urgent first, at most limit, and the total.
func (s *Store) StaleTasks(ctx context.Context, since time.Time, limit int) ([]TaskSummary, int, error) {
	if limit < 0 {
		limit = 1 << 30 // all; a negative LIMIT is not portable
	}
	var total int64
	err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM tasks t WHERE t.closed_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= ?)`, since).Scan(&total).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	ts, _, err := s.summaries(ctx, `SELECT `+summaryCols+`, '' AS via, 0 AS total FROM tasks t
		WHERE t.closed_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= @since)
		ORDER BY `+urgency+` LIMIT @limit`, map[string]any{"since": since, "limit": limit})
	return ts, int(total), err
}

// MilestoneCounts counts milestones (retired ones excluded) as of today:
// open overdue, open due within soon days (today included), open later,
// and done or closed with their task.
type MilestoneCounts struct {
	Overdue, Soon, Later, Done int
}

// CountMilestones returns the MilestoneCounts as of today.
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

// TaskLeaderPosts returns each task's leader posts in document order.
func (s *Store) TaskLeaderPosts(ctx context.Context, taskIDs []uint) (map[uint][]string, error) {
	out := map[uint][]string{}
	err := chunks(taskIDs, func(ids []uint) error {
		var rows []Leader
		err := s.db.WithContext(ctx).Where("task_id IN ?", ids).Order("task_id, seq").Find(&rows).Error
		for _, l := range rows {
			out[l.TaskID] = append(out[l.TaskID], l.Post)
		}
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}
