package storage

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// TaskSummary is a task as it appears in a list: no long texts, but what a
// status line needs.
type TaskSummary struct {
	ID      uint
	ListID  uint
	Section int
	Number  int
	// Code is what people type to name the task: its code, qualified by
	// its list's name when not in the default list of several (see
	// Task.Ref).
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
const urgency = `t.rank, t.next_due, t.section, t.number`

const summaryCols = `t.id, t.list_id, t.section, t.number, t.code, t.title, t.immediate, t.ongoing, t.long_term,
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
	names, err := s.ListNames(ctx)
	if err != nil {
		return nil, 0, err
	}
	for i, r := range rows {
		out[i], total = r.TaskSummary, r.Total
		out[i].Code = qualify(out[i].Code, out[i].ListID, names)
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
	// The count from the unit index (kept until the list or the units
	// change): a county holds most tasks through its collective.
	ix, _, err := s.unitIndex(ctx)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	if i, ok := slices.BinarySearchFunc(ix.units, unitID, func(u UnitStat, id uint) int { return cmp.Compare(u.UnitID, id) }); ok {
		switch role {
		case RoleLead:
			total = ix.units[i].Lead
		case RoleResponsible:
			total = ix.units[i].Responsible
		}
	}
	ts, _, err := s.summaries(ctx, `
		SELECT `+summaryCols+`, v.name AS via, 0 AS total
		FROM unit_tasks ut
		JOIN tasks t ON t.id = ut.task_id
		LEFT JOIN units v ON v.id = ut.via_id
		WHERE ut.unit_id = @unit AND ut.role = @role
		ORDER BY ut.rank, ut.next_due, ut.section, ut.number LIMIT @limit`,
		map[string]any{"unit": unitID, "role": role, "limit": limit})
	return ts, total, err
}

// ListTasks returns a list's tasks in the document's order (section,
// number), at most limit of them, and how many it has: the index
// (list_id, section, number) read in order.
func (s *Store) ListTasks(ctx context.Context, listID uint, limit int) ([]TaskSummary, int, error) {
	var total int64
	if err := s.db.WithContext(ctx).Model(&Task{}).Where("list_id = ?", listID).Count(&total).Error; err != nil {
		return nil, 0, Internal(err)
	}
	ts, _, err := s.summaries(ctx, `SELECT `+summaryCols+`, '' AS via, 0 AS total FROM tasks t
		WHERE t.list_id = @list ORDER BY t.section, t.number LIMIT @limit`, map[string]any{"list": listID, "limit": limit})
	return ts, int(total), err
}

// LeaderRule says how a query matched leader posts (see LeaderTasks).
type LeaderRule int

// Rules of LeaderTasks, tried in this order: the first that matches any
// post decides.
const (
	// LeaderNone: no post matched.
	LeaderNone LeaderRule = iota
	// LeaderWhole: the query is a whole post, with or without its organ
	// ("市长" is 市政府市长).
	LeaderWhole
	// LeaderPrefix: a post, with or without its organ, starts with the
	// query ("分管城建" for 市政府分管城建副市长).
	LeaderPrefix
	// LeaderContains: a post contains the query ("城建").
	LeaderContains
)

// LeaderMatch is what LeaderTasks found for a query.
type LeaderMatch struct {
	Rule LeaderRule
	// Posts are the posts matched, by post.
	Posts []string
	// Tasks are the tasks naming one of Posts, most urgent first, at most
	// the limit asked; Total counts them all.
	Tasks []TaskSummary
	Total int
}

// LeaderTasks returns the tasks whose leader posts (责任领导) match query,
// most urgent first: at most limit tasks, the total, and which posts
// matched by which rule. A whole post wins over a post that starts with
// the query, which wins over a post containing it, so that "市长" is the
// mayor and not every 副市长. Posts are compared with and without their
// organ (市委, 市政府, …). No match is a LeaderMatch with LeaderNone, not
// an error; a failed query is EINTERNAL.
func (s *Store) LeaderTasks(ctx context.Context, query string, limit int) (LeaderMatch, error) {
	// Posts are few: match them first (from the leader index, kept until
	// the list is seeded again), count their tasks, then fetch the tasks
	// the cheaper way for that count.
	ix, err := s.leaderIndex(ctx)
	if err != nil {
		return LeaderMatch{}, err
	}
	m := LeaderMatch{}
	m.Rule, m.Posts = matchLeaderPosts(ix.posts, NormalizeName(query))
	if m.Rule == LeaderNone {
		return m, nil
	}
	total, err := ix.count(ctx, s, m.Posts)
	if err != nil {
		return LeaderMatch{}, err
	}
	// A few tasks are found by post (idx_leaders_post) and sorted; many
	// are met early walking all tasks in urgency order (idx_tasks_urgency),
	// which stops at limit. At 10,000 tasks, sorting them all takes ~25 ms
	// when every task matches, and the walk reads every task when few do.
	where := `t.id IN (SELECT task_id FROM leaders WHERE post IN @posts)`
	if total > 10*int64(limit) {
		where = `EXISTS (SELECT 1 FROM leaders l WHERE l.task_id = t.id AND l.post IN @posts)`
	}
	m.Tasks, _, err = s.summaries(ctx, `
		SELECT `+summaryCols+`, '' AS via, 0 AS total
		FROM tasks t
		WHERE `+where+`
		ORDER BY `+urgency+` LIMIT @limit`,
		map[string]any{"posts": m.Posts, "limit": limit})
	if err != nil {
		return LeaderMatch{}, err
	}
	m.Total = int(total)
	return m, nil
}

// matchLeaderPosts returns the posts that query names by the first rule
// of LeaderTasks that matches any, in the order of posts.
func matchLeaderPosts(posts []string, query string) (LeaderRule, []string) {
	if query == "" {
		return LeaderNone, nil
	}
	rules := []struct {
		rule LeaderRule
		ok   func(post string) bool
	}{
		{LeaderWhole, func(p string) bool { return p == query || leaderTitle(p) == query }},
		{LeaderPrefix, func(p string) bool {
			return strings.HasPrefix(p, query) || strings.HasPrefix(leaderTitle(p), query)
		}},
		{LeaderContains, func(p string) bool { return strings.Contains(p, query) }},
	}
	for _, r := range rules {
		var out []string
		for _, p := range posts {
			if r.ok(p) {
				out = append(out, p)
			}
		}
		if len(out) > 0 {
			return r.rule, out
		}
	}
	return LeaderNone, nil
}

// leaderTitle is a post without the organ it is held in: 市长 for
// 市政府市长, 常委 for 市委常委. A post without a known organ is itself.
func leaderTitle(post string) string {
	// Longer organs first: 市人大常委会 before 市人大.
	for _, organ := range []string{"市人大常委会", "市人大", "市政协", "市政府", "市委"} {
		if t, ok := strings.CutPrefix(post, organ); ok && t != "" {
			return t
		}
	}
	return post
}

// LeaderPost is a leader post (责任领导) and the number of tasks naming it.
type LeaderPost struct {
	Post  string
	Tasks int
}

// LeaderPosts returns every leader post with its number of tasks, the
// posts with most tasks first (then by post). It returns EINTERNAL when
// the query fails.
func (s *Store) LeaderPosts(ctx context.Context) ([]LeaderPost, error) {
	ix, err := s.leaderIndex(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(ix.byCount), nil
}

// leaderIndex is what the leader questions read every time: the posts and
// the number of tasks of each set of posts asked about. Leaders change
// only when the list is seeded, so it is kept until the content version
// in the meta table changes, whichever process seeded (as the search
// index is); a 100,000-task list has some 120,000 leader rows.
type leaderIndex struct {
	version string
	posts   []string     // in order
	byCount []LeaderPost // most tasks first, then by post
	mu      sync.Mutex
	totals  map[string]int64 // distinct tasks of a set of posts, by the set
}

func (s *Store) leaderIndex(ctx context.Context) (*leaderIndex, error) {
	version, err := s.MetaValue(ctx, metaContentVersion)
	if err != nil {
		return nil, err
	}
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	if s.leaders != nil && s.leaders.version == version {
		return s.leaders, nil
	}
	ix := &leaderIndex{version: version, totals: map[string]int64{}}
	err = s.db.WithContext(ctx).Raw(`SELECT post, COUNT(DISTINCT task_id) AS tasks FROM leaders
		GROUP BY post ORDER BY tasks DESC, post`).Scan(&ix.byCount).Error
	if err != nil {
		return nil, Internal(err)
	}
	for _, p := range ix.byCount {
		ix.posts = append(ix.posts, p.Post)
		ix.totals[p.Post] = int64(p.Tasks)
	}
	slices.Sort(ix.posts)
	s.leaders = ix
	return ix, nil
}

// count returns the number of tasks with any of posts.
func (ix *leaderIndex) count(ctx context.Context, s *Store, posts []string) (int64, error) {
	key := strings.Join(posts, "\x00")
	ix.mu.Lock()
	n, ok := ix.totals[key]
	ix.mu.Unlock()
	if ok {
		return n, nil
	}
	if err := s.db.WithContext(ctx).Model(&Leader{}).Where("post IN ?", posts).Distinct("task_id").Count(&n).Error; err != nil {
		return 0, Internal(err)
	}
	ix.mu.Lock()
	if len(ix.totals) < 1024 {
		ix.totals[key] = n
	}
	ix.mu.Unlock()
	return n, nil
}

// TaskLeaderPosts returns each task's leader posts in document order, by
// task ID. It returns EINTERNAL when a query fails.
func (s *Store) TaskLeaderPosts(ctx context.Context, taskIDs []uint) (map[uint][]string, error) {
	out := map[uint][]string{}
	err := s.scanByIDs(ctx, `SELECT task_id, post FROM leaders WHERE task_id IN (%s) ORDER BY task_id, seq`, taskIDs,
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

// unitIndex is what UnitStats reads besides the day's overdue milestones:
// every unit, and the tasks of each (a task once whatever its roles) with
// its roles there. It changes only when a list is seeded, the
// organisation applied or a unit made, so it is kept until the lists' or
// the organisation's version in the meta table or the last unit's ID
// changes, whichever process wrote it.
type unitIndex struct {
	version string
	units   []UnitStat // Overdue not filled
	tasks   [][]uint32 // by the index in units
	roles   [][]uint8  // the roles (roleBits) of each of tasks
	maxTask uint
	// byList are units' counts of each list's tasks (Overdue not
	// filled), by the index in units and the list's place in lists
	// (guarded by Store.unitsMu; made at the first question asked with
	// several lists: a task's list and roles never change in an index).
	lists  []uint32
	byList [][]UnitStat
	// ranked holds UnitStats' last answers (guarded by Store.unitsMu).
	ranked rankedUnits
}

// rankedUnits are UnitStats' answers for every list (0) and for each, and
// the plan version and day they are valid for.
type rankedUnits struct {
	key   string
	lists map[uint][]UnitStat
}

// roleBits are a unit's roles in a task in unitIndex.roles: lead or
// responsible, each directly or through a collective (via); bit n
// counts one of its kind when shifted right by n (see UnitStat.count).
const (
	roleLead uint8 = 1 << iota
	roleResponsible
	roleViaLead
	roleViaResp
)

// count adds a task to u: its roles there (roleBits) and its open
// milestones overdue.
func (u *UnitStat) count(bits uint8, overdue int32) {
	u.Lead += int(bits & roleLead)
	u.Responsible += int(bits&roleResponsible) >> 1
	u.ViaLead += int(bits&roleViaLead) >> 2
	u.ViaResp += int(bits&roleViaResp) >> 3
	u.Overdue += int(overdue)
}

// unitIndex returns the unit index, and the plan version read before it
// (see table_versions in counts.go; -1 when unknown).
func (s *Store) unitIndex(ctx context.Context) (*unitIndex, int64, error) {
	// The lists' and the organisation's versions, and the last unit made
	// (ApplyPeople creates units a file names).
	var v struct {
		Content, Units, LastUnit string
		Plan                     int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT
		COALESCE((SELECT value FROM meta WHERE name = ?), '') AS content,
		COALESCE((SELECT value FROM meta WHERE name = ?), '') AS units,
		COALESCE((SELECT CAST(MAX(id) AS VARCHAR(20)) FROM units), '') AS last_unit,
		`+tableVersionSQL(planVersion)+` AS plan`,
		metaContentVersion, metaUnitsVersion).Scan(&v).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	version := v.Content + "|" + v.Units + "|" + v.LastUnit
	s.unitsMu.Lock()
	defer s.unitsMu.Unlock()
	if s.units != nil && s.units.version == version {
		return s.units, v.Plan, nil
	}
	var units []struct {
		ID         uint
		Name       string
		Collective bool
	}
	err = s.db.WithContext(ctx).Raw(`SELECT u.id, u.name,
		EXISTS (SELECT 1 FROM unit_members WHERE collective_id = u.id) AS collective FROM units u ORDER BY u.id`).Scan(&units).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	ix := &unitIndex{version: version, units: make([]UnitStat, len(units)), tasks: make([][]uint32, len(units)),
		roles: make([][]uint8, len(units))}
	pos := map[uint]int{}
	for i, u := range units {
		ix.units[i] = UnitStat{UnitID: u.ID, Name: u.Name, Collective: u.Collective}
		pos[u.ID] = i
	}
	// Rows in (unit_id, task_id) order: a task with two roles comes
	// twice in a row and is listed once, with both.
	err = s.scanAll(ctx, `SELECT unit_id, task_id, role, via_id <> 0 FROM unit_tasks ORDER BY unit_id, task_id`, func(rows *sql.Rows) error {
		var unit, task uint
		var role string
		var via bool
		if err := rows.Scan(&unit, &task, &role, &via); err != nil {
			return err
		}
		i, ok := pos[unit]
		if !ok {
			return nil
		}
		var bits uint8
		switch role {
		case RoleLead:
			bits = roleLead
			if via {
				bits |= roleViaLead
			}
		case RoleResponsible:
			bits = roleResponsible
			if via {
				bits |= roleViaResp
			}
		}
		if l := ix.tasks[i]; len(l) == 0 || l[len(l)-1] != uint32(task) {
			ix.tasks[i] = append(l, uint32(task))
			ix.roles[i] = append(ix.roles[i], bits)
		} else {
			ix.roles[i][len(l)-1] |= bits
		}
		ix.maxTask = max(ix.maxTask, task)
		return nil
	})
	if err != nil {
		return nil, 0, Internal(err)
	}
	for i := range ix.units {
		for _, bits := range ix.roles[i] {
			ix.units[i].count(bits, 0)
		}
	}
	s.units = ix
	return ix, v.Plan, nil
}

// countByList returns the units' counts of each list's tasks (see
// unitIndex.byList), the lists in place order, a task's list's place by
// list ID in place. Made once per index and lists, under Store.unitsMu.
func (ix *unitIndex) countByList(lists []uint32, listOf []uint32, place []int) [][]UnitStat {
	if slices.Equal(ix.lists, lists) && ix.byList != nil {
		return ix.byList
	}
	by := make([][]UnitStat, len(ix.units))
	for i := range ix.units {
		by[i] = make([]UnitStat, len(lists))
		for k := range lists {
			by[i][k] = UnitStat{UnitID: ix.units[i].UnitID, Name: ix.units[i].Name, Collective: ix.units[i].Collective}
		}
		for j, t := range ix.tasks[i] {
			if k := place[listOf[t]]; k >= 0 {
				by[i][k].count(ix.roles[i][j], 0)
			}
		}
	}
	ix.lists, ix.byList = slices.Clone(lists), by
	return by
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
// milestones overdue on those tasks. For one list (list not 0) it counts
// that list's tasks and leaves out the units with none there. Two grouped
// scans, whatever the number of units; then counted in memory, for every
// list at once.
func (s *Store) UnitStats(ctx context.Context, today Date, list uint) ([]UnitStat, error) {
	ix, plan, err := s.unitIndex(ctx)
	if err != nil {
		return nil, err
	}
	// The answer depends on the units (the index), the tasks and
	// milestones (the plan version, read before them) and the day.
	key := ""
	if plan >= 0 {
		key = fmt.Sprint(plan, " ", today)
		s.unitsMu.Lock()
		r := ix.ranked
		s.unitsMu.Unlock()
		if r.key == key {
			return slices.Clone(r.lists[list]), nil
		}
	}
	// Overdue milestones and the list of each task, from the store's
	// kept counts (counted again for the tasks written since, see
	// plan.go); then summed over each unit's tasks in memory.
	perTask := make([]int32, ix.maxTask+1)
	listOf := make([]uint32, ix.maxTask+1)
	var lists []uint32 // the lists with tasks
	ids := 1           // past the largest list ID
	err = s.planCounts(ctx, today, s.Clock.Zone(), func(_ Overview, byList []Overview, tasks []taskPlan) {
		ids = max(ids, len(byList))
		for id := range min(len(tasks), len(perTask)) {
			perTask[id] = tasks[id].overdue // as of today: planCounts counted it
			listOf[id] = tasks[id].list
		}
		for l, o := range byList {
			if o.TasksOpen+o.TasksClosed > 0 {
				lists = append(lists, uint32(l))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// The units' task counts, of every list and of each (kept with the
	// index), and their overdue milestones summed over their tasks: with
	// several lists, each list's too, by the list's place in lists.
	place := make([]int, ids)
	for i := range place {
		place[i] = -1
	}
	for k, l := range lists {
		place[l] = k
	}
	var byList [][]UnitStat
	if len(lists) > 1 {
		s.unitsMu.Lock()
		byList = ix.countByList(lists, listOf, place)
		s.unitsMu.Unlock()
	}
	out := map[uint][]UnitStat{}
	each := make([]UnitStat, len(lists))
	for i := range ix.units {
		all := ix.units[i]
		if byList == nil {
			for _, t := range ix.tasks[i] {
				all.Overdue += int(perTask[t])
			}
		} else {
			copy(each, byList[i])
			for _, t := range ix.tasks[i] {
				n := int(perTask[t])
				all.Overdue += n
				if k := place[listOf[t]]; k >= 0 {
					each[k].Overdue += n
				}
			}
		}
		for k, l := range lists {
			u := each[k]
			if byList == nil {
				u = all
			}
			if u.Lead+u.Responsible > 0 {
				out[uint(l)] = append(out[uint(l)], u)
			}
		}
		out[0] = append(out[0], all)
	}
	for _, units := range out {
		slices.SortFunc(units, func(a, b UnitStat) int {
			return cmp.Or(cmp.Compare(b.Overdue, a.Overdue), cmp.Compare(b.Lead, a.Lead),
				cmp.Compare(b.Responsible, a.Responsible), strings.Compare(a.Name, b.Name))
		})
	}
	if key != "" {
		s.unitsMu.Lock()
		ix.ranked = rankedUnits{key, out}
		s.unitsMu.Unlock()
	}
	return slices.Clone(out[list]), nil
}

// MilestoneItem is an open milestone with its task's code and title.
type MilestoneItem struct {
	Milestone
	ListID uint
	// Code is the task's, as TaskSummary's.
	Code    string
	Title   string
	Section int
	Number  int
}

// MilestoneFilter selects open milestones by due date, both ends inclusive;
// a zero end is unbounded.
type MilestoneFilter struct {
	DueFrom Date
	DueTo   Date
	Limit   int
}

// OpenMilestones returns open milestones in the filter's range, soonest
// (most overdue) first, at most f.Limit of them (all when negative), and
// the total. Ties are in
// task order; the (open, due, task_id, seq) index serves both queries.
func (s *Store) OpenMilestones(ctx context.Context, f MilestoneFilter) ([]MilestoneItem, int, error) {
	where := func(q *gorm.DB) *gorm.DB {
		q = q.Where("m.open = ?", true) // an equality, so the index prefix applies
		if !f.DueFrom.IsZero() {
			q = q.Where("m.due >= ?", f.DueFrom)
		}
		if !f.DueTo.IsZero() {
			q = q.Where("m.due <= ?", f.DueTo)
		}
		return q
	}
	var total int64
	if err := where(s.db.WithContext(ctx).Table("milestones m")).Count(&total).Error; err != nil {
		return nil, 0, Internal(err)
	}
	if f.Limit < 0 {
		out, err := s.allOpenMilestones(ctx, f)
		return out, len(out), err
	}
	var out []MilestoneItem
	err := where(s.db.WithContext(ctx).Table("milestones m")).
		Select("m.*, t.list_id, t.code, t.title, t.section, t.number").
		Joins("JOIN tasks t ON t.id = m.task_id").
		Order("m.due, m.task_id, m.seq").Limit(f.Limit).Scan(&out).Error
	if err != nil {
		return nil, 0, Internal(err)
	}
	return out, int(total), qualifyCodes(ctx, s, out, itemCode)
}

// allOpenMilestones is OpenMilestones without a limit and without titles,
// for a reminder pass over every open milestone: read with database/sql,
// since gorm's reflection costs more than the query on thousands of rows.
func (s *Store) allOpenMilestones(ctx context.Context, f MilestoneFilter) ([]MilestoneItem, error) {
	from, to := f.DueFrom.String(), f.DueTo.String()
	if f.DueFrom.IsZero() {
		from = "0000-00-00"
	}
	if f.DueTo.IsZero() {
		to = "9999-99-99"
	}
	// Without the title: a reminder line does not show it.
	var out []MilestoneItem
	err := s.scanRows(ctx, `SELECT `+milestoneItemCols+` FROM milestones m JOIN tasks t ON t.id = m.task_id
		WHERE m.open = ? AND m.due >= ? AND m.due <= ? ORDER BY m.due, m.task_id, m.seq`, []any{true, from, to}, func(rows *sql.Rows) error {
		it, err := scanMilestoneItem(rows)
		out = append(out, it)
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, qualifyCodes(ctx, s, out, itemCode)
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
