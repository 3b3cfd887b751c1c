package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// UnitLinks returns, for each task, the units that hold it: those named
// directly, and the members of a collective named (with ViaID set, unless
// also named directly), as unit_tasks has them. It reads the direct links
// and expands collectives here: a collective's tasks would otherwise come
// back once per member, ten rows instead of one for 各县（市、区）.
func (s *Store) UnitLinks(ctx context.Context, taskIDs []uint) (map[uint][]UnitLink, error) {
	type ref struct {
		id   uint
		name string
	}
	members := map[uint][]ref{}
	err := s.scanAll(ctx, `SELECT um.collective_id, u.id, u.name FROM unit_members um
		JOIN units u ON u.id = um.member_id ORDER BY um.collective_id, um.seq`, func(rows *sql.Rows) error {
		var c uint
		var r ref
		err := rows.Scan(&c, &r.id, &r.name)
		members[c] = append(members[c], r)
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	out := map[uint][]UnitLink{}
	// Names from the (small) units table: joining them into every link
	// row costs more than the links themselves.
	names := map[uint]string{}
	err = s.scanAll(ctx, `SELECT id, name FROM units`, func(rows *sql.Rows) error {
		var id uint
		var name string
		err := rows.Scan(&id, &name)
		names[id] = name
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	var direct []UnitLink
	scan := func(rows *sql.Rows) error {
		var l UnitLink
		if err := rows.Scan(&l.TaskID, &l.UnitID, &l.Role); err != nil {
			return err
		}
		l.Unit = names[l.UnitID]
		l.Collective = len(members[l.UnitID]) > 0
		direct = append(direct, l)
		return nil
	}
	const cols = `SELECT tu.task_id, tu.unit_id, tu.role FROM task_units tu`
	if len(taskIDs) > 1000 {
		// Most of the list: one scan beats thousands of parameters.
		want := make(map[uint]bool, len(taskIDs))
		for _, id := range taskIDs {
			want[id] = true
		}
		all := scan
		scan = func(rows *sql.Rows) error {
			if err := all(rows); err != nil {
				return err
			}
			if l := direct[len(direct)-1]; !want[l.TaskID] {
				direct = direct[:len(direct)-1]
			}
			return nil
		}
		err = s.scanAll(ctx, cols+` ORDER BY tu.task_id, tu.role, tu.seq`, scan)
	} else {
		err = s.scanByTask(ctx, cols+` WHERE tu.task_id IN (%s) ORDER BY tu.task_id, tu.role, tu.seq`, taskIDs, scan)
	}
	named := map[[2]uint]bool{} // (task, unit) named directly, any role
	for _, l := range direct {
		named[[2]uint{l.TaskID, l.UnitID}] = true
	}
	for _, l := range direct {
		out[l.TaskID] = append(out[l.TaskID], l)
		for _, m := range members[l.UnitID] {
			if !named[[2]uint{l.TaskID, m.id}] {
				out[l.TaskID] = append(out[l.TaskID], UnitLink{TaskID: l.TaskID, UnitID: m.id, Unit: m.name, Role: l.Role, ViaID: l.UnitID})
			}
		}
	}
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
// most urgent first, at most limit, and the total.
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
	err := s.scanByTask(ctx, `SELECT task_id, post FROM leaders WHERE task_id IN (%s) ORDER BY task_id, seq`, taskIDs,
		func(rows *sql.Rows) error {
			var id uint
			var post string
			if err := rows.Scan(&id, &post); err != nil {
				return err
			}
			out[id] = append(out[id], post)
			return nil
		})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// scanAll runs query through database/sql, calling row for each row.
func (s *Store) scanAll(ctx context.Context, query string, row func(*sql.Rows) error) error {
	return s.scanRows(ctx, query, nil, row)
}

// scanByTask runs query (with %s for the task IDs' placeholders) in chunks
// of taskIDs through database/sql, calling row for each row.
func (s *Store) scanByTask(ctx context.Context, query string, taskIDs []uint, row func(*sql.Rows) error) error {
	return chunks(taskIDs, func(ids []uint) error {
		args := make([]any, len(ids))
		marks := make([]string, len(ids))
		for i, id := range ids {
			args[i], marks[i] = id, "?"
		}
		return s.scanRows(ctx, fmt.Sprintf(query, strings.Join(marks, ",")), args, row)
	})
}

// scanRows runs query and calls row for each row, scanning with
// database/sql (gorm's reflection costs more than the query on thousands
// of rows). The query goes through gorm, so "?" placeholders follow the
// dialect (PostgreSQL's $1…).
func (s *Store) scanRows(ctx context.Context, query string, args []any, row func(*sql.Rows) error) error {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// NudgeCandidates returns the ongoing and long-term tasks, not closed and
// with no open dated milestone (those get countdowns instead), that have
// had no progress since since.
func (s *Store) NudgeCandidates(ctx context.Context, since time.Time) ([]TaskSummary, error) {
	ts, _, err := s.summaries(ctx, `SELECT `+summaryCols+`, '' AS via, 0 AS total FROM tasks t
		WHERE t.closed_at IS NULL AND (t.ongoing OR t.long_term) AND t.next_due IS NULL
		AND NOT EXISTS (SELECT 1 FROM progresses p WHERE p.task_id = t.id AND p.created_at >= @since)
		ORDER BY t.section, t.number`, map[string]any{"since": since.UTC()})
	return ts, err
}
