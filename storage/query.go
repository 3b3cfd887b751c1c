package storage

import (
	"context"
	"strings"
	"time"
)

// TaskSummary is a task as it appears in a list: no long texts, but what a
// status line needs.
type TaskSummary struct {
	ID        uint
	Section   int
	Number    int
	Code      string
	Title     string
	Immediate bool
	Ongoing   bool
	LongTerm  bool
	ClosedAt  *time.Time
	NextDue   Date
	// Via names the collective through which a unit holds the task ("" when
	// the unit is named directly).
	Via string
	// Milestones are the task's milestones (retired ones excluded) in due
	// order; filled for the tasks returned.
	Milestones []Milestone `gorm:"-"`
}

// Next returns the earliest open milestone, or nil.
func (t *TaskSummary) Next() *Milestone {
	for i := range t.Milestones {
		if t.Milestones[i].Open {
			return &t.Milestones[i]
		}
	}
	return nil
}

// urgency orders tasks: dated open work by next due date (most overdue
// first), then immediate/ongoing/long-term, then done, then closed.
const urgency = `CASE WHEN t.closed_at IS NOT NULL THEN 3 WHEN t.next_due IS NOT NULL THEN 0
	WHEN t.immediate OR t.ongoing OR t.long_term THEN 1 ELSE 2 END, t.next_due, t.section, t.number`

const summaryCols = `t.id, t.section, t.number, t.code, t.title, t.immediate, t.ongoing, t.long_term,
	t.closed_at, t.next_due`

type summaryRow struct {
	TaskSummary
	Total int
}

func (s *Store) summaries(ctx context.Context, sql string, args map[string]any) ([]TaskSummary, int, error) {
	var rows []summaryRow
	if err := s.db.WithContext(ctx).Raw(sql, args).Scan(&rows).Error; err != nil {
		return nil, 0, Internal(err)
	}
	out := make([]TaskSummary, len(rows))
	total := 0
	for i, r := range rows {
		out[i], total = r.TaskSummary, r.Total
	}
	if err := s.fillMilestones(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

func (s *Store) fillMilestones(ctx context.Context, ts []TaskSummary) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]uint, len(ts))
	idx := map[uint]int{}
	for i, t := range ts {
		ids[i], idx[t.ID] = t.ID, i
	}
	var ms []Milestone
	err := s.db.WithContext(ctx).Where("task_id IN ? AND NOT retired", ids).Order("task_id, due, seq").Find(&ms).Error
	if err != nil {
		return Internal(err)
	}
	for _, m := range ms {
		t := &ts[idx[m.TaskID]]
		t.Milestones = append(t.Milestones, m)
	}
	return nil
}

// UnitTasks returns the tasks in which unit holds role, named directly or
// through a collective it belongs to (direct wins), most urgent first. It
// returns at most limit tasks and the total.
func (s *Store) UnitTasks(ctx context.Context, unitID uint, role string, limit int) ([]TaskSummary, int, error) {
	return s.summaries(ctx, `
		SELECT `+summaryCols+`, v.name AS via, COUNT(*) OVER () AS total
		FROM (
			SELECT task_id, MIN(via_id) AS via_id FROM (
				SELECT task_id, 0 AS via_id FROM task_units WHERE unit_id = @unit AND role = @role
				UNION ALL
				SELECT tu.task_id, tu.unit_id FROM task_units tu
				JOIN unit_members um ON um.collective_id = tu.unit_id
				WHERE um.member_id = @unit AND tu.role = @role
			) x GROUP BY task_id
		) l
		JOIN tasks t ON t.id = l.task_id
		LEFT JOIN units v ON v.id = l.via_id
		ORDER BY `+urgency+` LIMIT @limit`,
		map[string]any{"unit": unitID, "role": role, "limit": limit})
}

// LeaderTasks returns the tasks one of whose leader posts contains post,
// most urgent first: at most limit tasks and the total.
func (s *Store) LeaderTasks(ctx context.Context, post string, limit int) ([]TaskSummary, int, error) {
	return s.summaries(ctx, `
		SELECT `+summaryCols+`, '' AS via, COUNT(*) OVER () AS total
		FROM tasks t
		WHERE EXISTS (SELECT 1 FROM leaders l WHERE l.task_id = t.id AND l.post LIKE @post ESCAPE '\')
		ORDER BY `+urgency+` LIMIT @limit`,
		map[string]any{"post": likePattern(post), "limit": limit})
}

// UnitStat counts a unit's tasks and overdue milestones; the Via counts are
// the part that comes through collectives.
type UnitStat struct {
	UnitID      uint
	Name        string
	Lead        int
	Responsible int
	ViaLead     int
	ViaResp     int
	Overdue     int
	Collective  bool // the unit has members
}

// UnitStats returns every unit with its counts as of today: tasks led,
// tasks responsible (each including those through collectives) and open
// milestones overdue on those tasks.
func (s *Store) UnitStats(ctx context.Context, today Date) ([]UnitStat, error) {
	var out []UnitStat
	err := s.db.WithContext(ctx).Raw(`
		WITH links AS (
			SELECT task_id, unit_id, role, 0 AS via FROM task_units
			UNION
			SELECT tu.task_id, um.member_id, tu.role, 1 FROM task_units tu
			JOIN unit_members um ON um.collective_id = tu.unit_id
			WHERE NOT EXISTS (SELECT 1 FROM task_units d
				WHERE d.task_id = tu.task_id AND d.unit_id = um.member_id AND d.role = tu.role)
		)
		SELECT u.id AS unit_id, u.name,
			(SELECT COUNT(*) FROM links WHERE unit_id = u.id AND role = 'lead') AS lead,
			(SELECT COUNT(*) FROM links WHERE unit_id = u.id AND role = 'responsible') AS responsible,
			(SELECT COUNT(*) FROM links WHERE unit_id = u.id AND role = 'lead' AND via = 1) AS via_lead,
			(SELECT COUNT(*) FROM links WHERE unit_id = u.id AND role = 'responsible' AND via = 1) AS via_resp,
			(SELECT COUNT(DISTINCT m.id) FROM milestones m JOIN links l ON l.task_id = m.task_id
				WHERE l.unit_id = u.id AND m.open AND m.due < @today) AS overdue,
			EXISTS (SELECT 1 FROM unit_members WHERE collective_id = u.id) AS collective
		FROM units u
		ORDER BY overdue DESC, lead DESC, responsible DESC, u.name`,
		map[string]any{"today": today}).Scan(&out).Error
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// MilestoneItem is an open milestone with its task's code and title.
type MilestoneItem struct {
	Milestone
	Code    string
	Title   string
	Section int
	Number  int
	Total   int `gorm:"->"`
}

// MilestoneFilter selects open milestones by due date, both ends inclusive;
// a zero end is unbounded.
type MilestoneFilter struct {
	DueFrom Date
	DueTo   Date
	Limit   int
}

// OpenMilestones returns open milestones in the filter's range, soonest
// (most overdue) first, at most f.Limit of them, and the total.
func (s *Store) OpenMilestones(ctx context.Context, f MilestoneFilter) ([]MilestoneItem, int, error) {
	q := s.db.WithContext(ctx).Table("milestones m").
		Select("m.*, t.code, t.title, t.section, t.number, COUNT(*) OVER () AS total").
		Joins("JOIN tasks t ON t.id = m.task_id").
		Where("m.open")
	if !f.DueFrom.IsZero() {
		q = q.Where("m.due >= ?", f.DueFrom)
	}
	if !f.DueTo.IsZero() {
		q = q.Where("m.due <= ?", f.DueTo)
	}
	var out []MilestoneItem
	err := q.Order("m.due, t.section, t.number, m.seq").Limit(f.Limit).Scan(&out).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	total := 0
	if len(out) > 0 {
		total = out[0].Total
	}
	return out, total, nil
}

// TaskUnitNames returns, for each task, its lead and responsible unit names
// in document order.
func (s *Store) TaskUnitNames(ctx context.Context, taskIDs []uint) (map[uint]map[string][]string, error) {
	out := map[uint]map[string][]string{}
	if len(taskIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		TaskID uint
		Role   string
		Name   string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT tu.task_id, tu.role, u.name FROM task_units tu
		JOIN units u ON u.id = tu.unit_id WHERE tu.task_id IN ? ORDER BY tu.task_id, tu.seq`, taskIDs).Scan(&rows).Error
	if err != nil {
		return nil, Internal(err)
	}
	for _, r := range rows {
		if out[r.TaskID] == nil {
			out[r.TaskID] = map[string][]string{}
		}
		out[r.TaskID][r.Role] = append(out[r.TaskID][r.Role], r.Name)
	}
	return out, nil
}

// SearchHit is a task that matched a search, with where it matched.
type SearchHit struct {
	ID      uint
	Section int
	Number  int
	Code    string
	Title   string
	Score   int
	Total   int
	// Snippet is the text around the first word's first match.
	Snippet string `gorm:"-"`
	Text    string `gorm:"column:search_text"`
}

// SearchTasks returns the tasks whose title, problem, goal or measures
// contain every word, best first (a match in the title counts most, then
// the goal), at most limit of them, and the total.
func (s *Store) SearchTasks(ctx context.Context, words []string, limit int) ([]SearchHit, int, error) {
	if len(words) == 0 {
		return nil, 0, nil
	}
	q := s.db.WithContext(ctx).Table("tasks")
	score := make([]string, 0, len(words))
	var scoreArgs []any
	for _, w := range words {
		p := likePattern(w)
		q = q.Where(`search_text LIKE ? ESCAPE '\'`, p)
		score = append(score, `(CASE WHEN title LIKE ? ESCAPE '\' THEN 4 ELSE 0 END + CASE WHEN goal LIKE ? ESCAPE '\' THEN 2 ELSE 0 END)`)
		scoreArgs = append(scoreArgs, p, p)
	}
	var out []SearchHit
	err := q.Select("id, section, number, code, title, search_text, "+strings.Join(score, " + ")+" AS score, COUNT(*) OVER () AS total", scoreArgs...).
		Order("score DESC, section, number").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	total := 0
	for i := range out {
		total = out[i].Total
		out[i].Snippet = snippet(out[i].Text, words[0], 24)
		out[i].Text = ""
	}
	return out, total, nil
}

// snippet returns about n runes of text on each side of the first match.
func snippet(text, word string, n int) string {
	i := strings.Index(text, word)
	if i < 0 {
		return ""
	}
	before := []rune(text[:i])
	after := []rune(text[i+len(word):])
	pre, post := "", ""
	if len(before) > n {
		before, pre = before[len(before)-n:], "…"
	}
	if len(after) > n {
		after, post = after[:n], "…"
	}
	s := pre + string(before) + word + string(after) + post
	return strings.ReplaceAll(s, "\n", " ")
}

// likePattern makes a LIKE pattern matching s anywhere, escaping % and _.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
