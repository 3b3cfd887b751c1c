package storage

import (
	"context"
	"database/sql"
)

// EachTask calls fn with every task, in section and number order, with
// its measures, leaders, units and milestones: two scans whatever the
// number of tasks (the ledger's first sheet). It returns fn's error, or
// EINTERNAL when a query fails.
func (s *Store) EachTask(ctx context.Context, fn func(*Task) error) error {
	ms := map[uint][]Milestone{}
	err := s.scanAll(ctx, `SELECT id, task_id, seq, due, planned_due, text, open, done_at, extended_at, retired
		FROM milestones ORDER BY task_id, seq`, func(rows *sql.Rows) error {
		var m Milestone
		var done, ext sql.NullTime
		if err := rows.Scan(&m.ID, &m.TaskID, &m.Seq, &m.Due, &m.PlannedDue, &m.Text, &m.Open, &done, &ext, &m.Retired); err != nil {
			return err
		}
		if done.Valid {
			m.DoneAt = &done.Time
		}
		if ext.Valid {
			m.ExtendedAt = &ext.Time
		}
		ms[m.TaskID] = append(ms[m.TaskID], m)
		return nil
	})
	if err != nil {
		return Internal(err)
	}
	names, err := s.ListNames(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.WithContext(ctx).Model(&Task{}).Order("list_id, section, number").Rows()
	if err != nil {
		return Internal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var t Task
		if err := s.db.ScanRows(rows, &t); err != nil {
			return Internal(err)
		}
		t.Milestones, t.ListName = ms[t.ID], names[t.ListID]
		if err := t.fill(); err != nil {
			return Internal(err)
		}
		if err := fn(&t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return Internal(err)
	}
	return nil
}

// LatestEntries returns each task's latest progress entry.
func (s *Store) LatestEntries(ctx context.Context) (map[uint]Progress, error) {
	var rows []Progress
	err := s.db.WithContext(ctx).Where(`id IN (SELECT MAX(id) FROM progresses GROUP BY task_id)`).Find(&rows).Error
	if err != nil {
		return nil, Internal(err)
	}
	out := make(map[uint]Progress, len(rows))
	for _, p := range rows {
		out[p.TaskID] = p
	}
	return out, nil
}

// EachShare calls fn with every live share of every task (closed ones
// too), by task, milestone and unit, with the names people read.
func (s *Store) EachShare(ctx context.Context, fn func(*ShareView) error) error {
	ev := map[[3]uint]int{}
	err := s.scanAll(ctx, `SELECT task_id, COALESCE(milestone_id, 0), COALESCE(unit_id, 0), evidence FROM progresses WHERE evidence <> ''`,
		func(rows *sql.Rows) error {
			var tid, mid, uid uint
			var text string
			if err := rows.Scan(&tid, &mid, &uid, &text); err != nil {
				return err
			}
			ev[[3]uint{tid, mid, uid}] += len(splitLines(text))
			return nil
		})
	if err != nil {
		return Internal(err)
	}
	lists, err := s.ListNames(ctx)
	if err != nil {
		return err
	}
	return txError(s.scanAll(ctx, `SELECT s.task_id, s.milestone_id, s.unit_id, s.state, s.reason, s.reported_at, s.decided_at, s.due, s.task_closed,
		u.name, t.list_id, t.code, COALESCE(m.seq, 0)
		FROM shares s JOIN units u ON u.id = s.unit_id JOIN tasks t ON t.id = s.task_id
		LEFT JOIN milestones m ON m.id = s.milestone_id
		WHERE NOT s.retired ORDER BY t.list_id, t.section, t.number, COALESCE(m.seq, 0), s.unit_id`, func(rows *sql.Rows) error {
		var v ShareView
		var rep, dec sql.NullTime
		var due sql.NullString
		var list uint
		if err := rows.Scan(&v.TaskID, &v.MilestoneID, &v.UnitID, &v.State, &v.Reason, &rep, &dec, &due, &v.TaskClosed, &v.Unit, &list, &v.Code, &v.Seq); err != nil {
			return err
		}
		v.Code = qualify(v.Code, list, lists)
		if rep.Valid {
			v.ReportedAt = &rep.Time
		}
		if dec.Valid {
			v.DecidedAt = &dec.Time
		}
		if due.Valid && due.String != "" {
			d, err := ParseDate(due.String)
			if err != nil {
				return err
			}
			v.Due = d
		}
		v.Evidence = ev[[3]uint{v.TaskID, v.MilestoneID, v.UnitID}]
		return fn(&v)
	}))
}

// EachEntry calls fn with every progress entry, oldest first, with its
// task's code and its attachments.
func (s *Store) EachEntry(ctx context.Context, fn func(*ProgressItem) error) error {
	files := map[uint][]Attachment{}
	var all []Attachment
	if err := s.db.WithContext(ctx).Order("id").Find(&all).Error; err != nil {
		return Internal(err)
	}
	for _, a := range all {
		files[a.ProgressID] = append(files[a.ProgressID], a)
	}
	lists, err := s.ListNames(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.WithContext(ctx).Table("progresses p").Select("p.*, t.list_id, t.code").Joins("JOIN tasks t ON t.id = p.task_id").
		Order("p.created_at, p.id").Rows()
	if err != nil {
		return Internal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p ProgressItem
		if err := s.db.ScanRows(rows, &p); err != nil {
			return Internal(err)
		}
		p.Attachments, p.Code = files[p.ID], qualify(p.Code, p.ListID, lists)
		if err := fn(&p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return Internal(err)
	}
	return nil
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
