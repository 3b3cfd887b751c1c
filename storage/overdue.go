package storage

import (
	"context"
	"database/sql"
)

// The weekly reminder pass tells every unit its overdue shares and every
// leader post its long-overdue milestones. On a list of 100,000 tasks that
// is hundreds of thousands of shares, of which a message shows the first
// few dozen: the readers here return each recipient's count and its first
// lines, without reading every share.

// UnitOverdue is one unit's overdue shares as of a day: how many, and the
// first of them in reminder order (due date, task, milestone number).
type UnitOverdue struct {
	UnitID uint
	Unit   string
	Total  int
	First  []MilestoneItem // without titles
}

// OverdueByUnit returns, for each unit (by ID) with open shares of open
// milestones due before day, their number and the first limit of them.
// The numbers come from share_counts; the first lines from idx_shares_tally,
// one unit at a time. It returns EINTERNAL when a query fails.
func (s *Store) OverdueByUnit(ctx context.Context, day Date, limit int) ([]UnitOverdue, error) {
	var out []UnitOverdue
	err := s.scanRows(ctx, `SELECT c.unit_id, u.name, SUM(c.n) FROM share_counts c JOIN units u ON u.id = c.unit_id
		WHERE c.state = ? AND c.due <> '' AND c.due < ? GROUP BY c.unit_id, u.name ORDER BY c.unit_id`,
		[]any{ShareOpen, day.String()}, func(rows *sql.Rows) error {
			var u UnitOverdue
			err := rows.Scan(&u.UnitID, &u.Unit, &u.Total)
			out = append(out, u)
			return err
		})
	if err != nil {
		return nil, Internal(err)
	}
	for i := range out {
		u := &out[i]
		err := s.scanRows(ctx, `SELECT `+milestoneItemCols+`
			FROM shares s JOIN milestones m ON m.id = s.milestone_id JOIN tasks t ON t.id = s.task_id
			WHERE s.unit_id = ? AND s.state = ? AND s.due < ? AND NOT s.retired AND NOT s.task_closed AND m.open
			ORDER BY s.due, s.task_id, m.seq LIMIT ?`, []any{u.UnitID, ShareOpen, day.String(), limit}, func(rows *sql.Rows) error {
			it, err := scanMilestoneItem(rows)
			u.First = append(u.First, it)
			return err
		})
		if err != nil {
			return nil, Internal(err)
		}
		if err := qualifyCodes(ctx, s, u.First, itemCode); err != nil {
			return nil, err
		}
		// share_counts counts every live open share; one left open on a
		// closed milestone (syncShares no longer revives those) is not
		// listed. Exact when the first lines are all there are.
		if len(u.First) < limit {
			u.Total = len(u.First)
		}
		u.Total = max(u.Total, len(u.First))
	}
	return out, nil
}

// OverduePost is one leader post of the task of an overdue milestone.
type OverduePost struct {
	MilestoneID, TaskID uint
	Post                string
}

// OverduePosts returns the open milestones due on or before day with the
// leader posts of their tasks, in reminder order (due date, task,
// milestone number, then the posts in document order): two narrow columns
// from the index and the leaders, for every overdue milestone. Tasks
// without leader posts are left out. It returns EINTERNAL when the query
// fails.
func (s *Store) OverduePosts(ctx context.Context, day Date) ([]OverduePost, error) {
	var out []OverduePost
	err := s.scanRows(ctx, `SELECT m.id, m.task_id, l.post FROM milestones m JOIN leaders l ON l.task_id = m.task_id
		WHERE m.open = ? AND m.due <= ? ORDER BY m.due, m.task_id, m.seq, l.seq`, []any{true, day.String()}, func(rows *sql.Rows) error {
		var p OverduePost
		err := rows.Scan(&p.MilestoneID, &p.TaskID, &p.Post)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// MilestoneItems returns the given milestones (without titles) by ID. It
// returns EINTERNAL when the query fails.
func (s *Store) MilestoneItems(ctx context.Context, ids []uint) (map[uint]MilestoneItem, error) {
	out := make(map[uint]MilestoneItem, len(ids))
	err := s.scanByIDs(ctx, `SELECT `+milestoneItemCols+`
		FROM milestones m JOIN tasks t ON t.id = m.task_id WHERE m.id IN (%s)`, ids, func(rows *sql.Rows) error {
		it, err := scanMilestoneItem(rows)
		out[it.ID] = it
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	names, err := s.ListNames(ctx)
	for id, it := range out {
		it.Code = qualify(it.Code, it.ListID, names)
		out[id] = it
	}
	return out, err
}

// milestoneItemCols are the columns scanMilestoneItem reads, in its order
// (milestones m, tasks t).
const milestoneItemCols = "m.id, m.task_id, m.seq, m.due, m.planned_due, m.text, t.list_id, t.code, t.section, t.number"

// scanMilestoneItem scans milestoneItemCols of an open milestone.
func scanMilestoneItem(rows *sql.Rows) (MilestoneItem, error) {
	var it MilestoneItem
	err := rows.Scan(&it.ID, &it.TaskID, &it.Seq, &it.Due, &it.PlannedDue, &it.Text, &it.ListID, &it.Code, &it.Section, &it.Number)
	it.Open = true
	return it, err
}
