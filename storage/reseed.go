package storage

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// skipUnchanged lets a re-seeding trust what it read before writing: leave
// alone the tasks it would rewrite with what they hold, and the parts of a
// task that stay the same (the tests turn it off to compare).
var skipUnchanged = true

// prior is what a re-seeding knows of a list task's row before it writes.
type prior struct {
	id     uint // 0 when the database does not hold the task
	code   string
	closed bool
	// same: writing the task would leave its rows as they are, so it is
	// left alone. docSame: its measures, leaders and unit links are as in
	// the list (its doc, with every unit known by name).
	same, docSame bool
}

// held is what a list held before a re-seeding: its tasks' IDs, and the
// codes of those the document no longer gives, in list order.
type held struct {
	ids     map[uint]bool
	missing []string
}

// priorTasks reads, for each task of in, its row and whether writing it
// would change it: the same document fields, measures, leaders and units,
// and its milestones already numbered, dated and open as rewriteTasks
// would leave them. A changed list usually changes a few tasks of many.
// Anything not certainly the same counts as changed. It also returns what
// the list held (from the same read).
func priorTasks(tx *gorm.DB, list uint, in []Task) ([]prior, held, error) {
	out := make([]prior, len(in))
	names, err := unitNames(tx)
	if err != nil {
		return nil, held{}, err
	}
	units := make(map[string]uint, len(names))
	for id, name := range names {
		units[name] = id
	}
	type stored struct {
		id                                                 uint
		code, title, problem, goal, persons, deadline, doc string
		docStatus, otherNotes                              string
		immediate, ongoing, longTerm, closed               bool
	}
	type key struct{ section, number int }
	tasks := map[key]*stored{}
	if err := scanIn(tx, `SELECT id, section, number, code, title, problem, goal, persons, deadline,
		immediate, ongoing, long_term, closed_at IS NOT NULL, doc, doc_status, other_notes FROM tasks WHERE list_id = ?`, []any{list}, func(rows *sql.Rows) error {
		var t stored
		var k key
		err := rows.Scan(&t.id, &k.section, &k.number, &t.code, &t.title, &t.problem, &t.goal, &t.persons, &t.deadline,
			&t.immediate, &t.ongoing, &t.longTerm, &t.closed, &t.doc, &t.docStatus, &t.otherNotes)
		tasks[k] = &t
		return err
	}); err != nil {
		return nil, held{}, err
	}
	var milestones map[uint][]storedMilestone
	if skipUnchanged {
		var err error
		if milestones, err = storedMilestones(tx, nil); err != nil {
			return nil, held{}, err
		}
	}
	h := held{ids: make(map[uint]bool, len(tasks))}
	given := make(map[key]bool, len(in))
	for i := range in {
		given[key{in[i].Section, in[i].Number}] = true
	}
	var gone []key
	for k, t := range tasks {
		h.ids[t.id] = true
		if !given[k] {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(gone, func(a, b key) int { return cmp.Or(cmp.Compare(a.section, b.section), cmp.Compare(a.number, b.number)) })
	for _, k := range gone {
		h.missing = append(h.missing, tasks[k].code)
	}
	// A task given twice is written twice, the last one winning: nothing
	// read before is true of it by its second writing.
	twice := map[key]int{}
	for i := range in {
		twice[key{in[i].Section, in[i].Number}]++
	}
	for i := range in {
		t := &in[i]
		cur := tasks[key{t.Section, t.Number}]
		if cur == nil {
			continue
		}
		out[i].id, out[i].code, out[i].closed = cur.id, cur.code, cur.closed
		if twice[key{t.Section, t.Number}] > 1 || !skipUnchanged {
			continue
		}
		known := true
		for _, u := range t.Units {
			if _, ok := units[u.Unit.Name]; !ok {
				known = false // the writing makes it
			}
		}
		if !known {
			continue
		}
		if doc, err := docOf(t, units); err != nil || doc != cur.doc {
			continue
		}
		out[i].docSame = true
		if cur.code != t.Code || cur.title != t.Title || cur.problem != t.Problem || cur.goal != t.Goal ||
			cur.persons != t.Persons || cur.deadline != t.Deadline || cur.immediate != t.Immediate ||
			cur.ongoing != t.Ongoing || cur.longTerm != t.LongTerm ||
			cur.docStatus != t.DocStatus || cur.otherNotes != t.OtherNotes {
			continue
		}
		// The document's milestones are rows 1…n, as planned, open unless
		// done (none of a closed task's); the rows after them retired and
		// closed, in order: rewriteMilestones would write the same values.
		ms := milestones[cur.id]
		same := len(ms) >= len(t.Milestones)
		for j := 0; same && j < len(ms); j++ {
			m := ms[j]
			if m.seq != j+1 {
				same = false
			} else if j < len(t.Milestones) {
				want := t.Milestones[j]
				same = m.plannedDue == want.Due && m.text == want.Text && !m.retired &&
					(m.extended || m.due == want.Due) && m.open == (!m.done && !cur.closed)
			} else {
				same = m.retired && !m.open
			}
		}
		out[i].same = same
	}
	return out, h, nil
}

// storedMilestone is a milestone row as a re-seeding compares and
// rewrites it.
type storedMilestone struct {
	id                            uint
	seq                           int
	due, plannedDue               Date
	text                          string
	retired, open, done, extended bool
}

// planned is the document's date the row was seeded with (Due on rows
// older than planned_due).
func (m *storedMilestone) planned() Date {
	if m.plannedDue.IsZero() {
		return m.due
	}
	return m.plannedDue
}

// storedMilestones reads the milestones of the given tasks (of every task
// when ids is nil), by task, in order.
func storedMilestones(tx *gorm.DB, ids []uint) (map[uint][]storedMilestone, error) {
	q, args := `SELECT task_id, id, seq, due, planned_due, text, retired, open, done_at IS NOT NULL, extended_at IS NOT NULL
		FROM milestones`, []any(nil)
	if ids != nil {
		q, args = q+" WHERE task_id IN ?", []any{ids}
	}
	out := map[uint][]storedMilestone{}
	err := scanIn(tx, q+" ORDER BY task_id, seq", args, func(rows *sql.Rows) error {
		var task uint
		var m storedMilestone
		err := rows.Scan(&task, &m.id, &m.seq, &m.due, &m.plannedDue, &m.text, &m.retired, &m.open, &m.done, &m.extended)
		out[task] = append(out[task], m)
		return err
	})
	return out, err
}

// seedPass is how many tasks a re-seeding writes per pass.
var seedPass = 500

// seeded is what a re-seeding wrote.
type seeded struct {
	ids     []uint // every task written, in the list's order
	created int
	// redone are the tasks whose measures, leaders or unit links were
	// written (new ones too): their docs and unit_tasks follow.
	redone []uint
	// reshare are the tasks whose doc (so maybe their units) or
	// milestones changed: their shares follow.
	reshare []uint
}

// seedChanged writes the tasks of in that a re-seeding does not leave
// alone (see Seed), new or changed, as their priors found them, a pass of
// a few hundred at a time in a dozen statements: a dozen a task made
// rewriting 100,000 tasks take minutes. What derives from them is the
// caller's (deriveTasks, syncShares).
func seedChanged(tx *gorm.DB, in []*Task, priors []prior, units map[string]uint) (seeded, error) {
	var out seeded
	for _, t := range in {
		for _, tu := range t.Units {
			if _, err := unitID(tx, tu.Unit.Name, units); err != nil {
				return seeded{}, err
			}
		}
	}
	type key struct{ section, number int }
	have := map[key]prior{}
	var recoded []uint
	for i, p := range priors {
		if p.id != 0 {
			have[key{in[i].Section, in[i].Number}] = p
			if p.code != in[i].Code {
				recoded = append(recoded, p.id)
			}
		}
	}
	// Codes are unique, and a code may pass from one task to another
	// (a section added before others renumbers their codes): the codes
	// that change are first parked on values no code has, so that neither
	// a new task nor one statement's rows meet one still in place.
	err := chunksOf(recoded, 2000, func(part []uint) error {
		return tx.Exec("UPDATE tasks SET code = '~' || CAST(id AS TEXT) WHERE id IN ?", part).Error
	})
	if err != nil {
		return seeded{}, err
	}
	for start := 0; start < len(in); {
		// A pass names each task once: a task the list gives twice is
		// written twice, in order, the last one winning.
		seen := map[key]bool{}
		end := start
		for ; end < len(in) && end-start < seedPass; end++ {
			k := key{in[end].Section, in[end].Number}
			if seen[k] {
				break
			}
			seen[k] = true
		}
		pass := in[start:end]
		start = end
		var fresh []Task
		isNew := map[key]bool{}
		for _, t := range pass {
			if _, ok := have[key{t.Section, t.Number}]; !ok {
				fresh = append(fresh, *t)
				isNew[key{t.Section, t.Number}] = true
			}
		}
		if len(fresh) > 0 {
			ids, err := seedFresh(tx, fresh, units)
			if err != nil {
				return seeded{}, err
			}
			for i := range fresh {
				have[key{fresh[i].Section, fresh[i].Number}] = prior{id: ids[i]}
			}
			out.created += len(fresh)
			out.redone = append(out.redone, ids...)
			out.reshare = append(out.reshare, ids...)
		}
		var old []rewrite
		for _, t := range pass {
			p := have[key{t.Section, t.Number}]
			out.ids = append(out.ids, p.id)
			if !isNew[key{t.Section, t.Number}] {
				old = append(old, rewrite{t, p})
			}
		}
		redone, reshare, err := rewriteTasks(tx, old, units)
		if err != nil {
			return seeded{}, err
		}
		out.redone = append(out.redone, redone...)
		out.reshare = append(out.reshare, reshare...)
	}
	return out, nil
}

// rewrite is a task of the list over its row.
type rewrite struct {
	t *Task
	prior
}

// rewriteTasks writes the list's tasks over their rows: the document's
// fields, measures and leaders by position (their IDs stay), the unit
// links, and the milestones matched to the rows they were (see
// matchMilestones), keeping what users recorded on them. Nothing users
// created is removed: a milestone the list no longer has is retired. It
// returns the tasks whose measures, leaders or links it wrote (redone),
// and those whose links or milestones changed (reshare).
func rewriteTasks(tx *gorm.DB, in []rewrite, units map[string]uint) (redone, reshare []uint, err error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	tasks := bulkSet{table: "tasks",
		cols: []string{"code", "title", "problem", "goal", "persons", "deadline", "immediate", "ongoing", "long_term",
			"doc_status", "other_notes", "updated_at"},
		types: []string{"bigint", "text", "text", "text", "text", "text", "text", "boolean", "boolean", "boolean",
			"text", "text", "timestamptz"}}
	now := tx.Config.NowFunc()
	for _, r := range in {
		t := r.t
		tasks.add(r.id, t.Code, t.Title, t.Problem, t.Goal, t.Persons, t.Deadline, t.Immediate, t.Ongoing, t.LongTerm,
			t.DocStatus, t.OtherNotes, now)
	}
	if err := tasks.exec(tx); err != nil {
		return nil, nil, err
	}
	// Measures and leaders by position, so that their IDs stay; the
	// positions the list no longer has go. A task whose doc is the list's
	// has them already.
	measures := bulkRows{table: "measures", cols: []string{"task_id", "seq", "text"},
		suffix: " ON CONFLICT (task_id, seq) DO UPDATE SET text = excluded.text"}
	leaders := bulkRows{table: "leaders", cols: []string{"task_id", "seq", "post"},
		suffix: " ON CONFLICT (task_id, seq) DO UPDATE SET post = excluded.post"}
	links := bulkRows{table: "task_units", cols: []string{"task_id", "unit_id", "role", "seq"}}
	keepMeasures, keepLeaders := map[int][]uint{}, map[int][]uint{}
	for _, r := range in {
		if r.docSame {
			continue
		}
		t := r.t
		redone = append(redone, r.id)
		keepMeasures[len(t.Measures)] = append(keepMeasures[len(t.Measures)], r.id)
		keepLeaders[len(t.Leaders)] = append(keepLeaders[len(t.Leaders)], r.id)
		docRows(r.id, t, units, &measures, &leaders, &links)
	}
	for _, keep := range []struct {
		table string
		by    map[int][]uint
	}{{"measures", keepMeasures}, {"leaders", keepLeaders}} {
		for n, ids := range keep.by {
			if err := tx.Exec("DELETE FROM "+keep.table+" WHERE seq > ? AND task_id IN ?", n, ids).Error; err != nil {
				return nil, nil, err
			}
		}
	}
	if len(redone) > 0 {
		if err := tx.Exec("DELETE FROM task_units WHERE task_id IN ?", redone).Error; err != nil {
			return nil, nil, err
		}
	}
	for _, b := range []*bulkRows{&measures, &leaders, &links} {
		if err := b.insert(tx); err != nil {
			return nil, nil, err
		}
	}
	moved, err := rewriteMilestones(tx, in)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range in {
		if !r.docSame || moved[r.id] {
			reshare = append(reshare, r.id)
		}
	}
	return redone, reshare, nil
}

// rewriteMilestones writes the list's milestones of the tasks over their
// rows (see rewriteTasks), and returns the tasks whose milestones it
// wrote.
func rewriteMilestones(tx *gorm.DB, in []rewrite) (map[uint]bool, error) {
	ids := make([]uint, len(in))
	for i, r := range in {
		ids[i] = r.id
	}
	stored, err := storedMilestones(tx, ids)
	if err != nil {
		return nil, err
	}
	sets := bulkSet{table: "milestones", cols: []string{"seq", "due", "planned_due", "text", "retired", "open"},
		types: []string{"bigint", "bigint", "text", "text", "text", "boolean", "boolean"}}
	added := bulkRows{table: "milestones", cols: []string{"task_id", "seq", "due", "planned_due", "text", "open", "retired"}}
	var park []uint
	written := map[uint]bool{}
	for _, r := range in {
		cur, want := stored[r.id], r.t.Milestones
		match := matchMilestones(cur, want)
		type set struct {
			row       *storedMilestone
			seq       int
			due, plan Date
			text      string
			retired   bool
		}
		var out []set
		used := make([]bool, len(cur))
		for i, m := range want {
			if match[i] < 0 {
				added.add(r.id, i+1, m.Due, m.Due, m.Text, !r.closed, false)
				written[r.id] = true
				continue
			}
			old := &cur[match[i]]
			used[match[i]] = true
			due := m.Due
			if old.extended {
				due = old.due // an approved extension outranks the document
			}
			out = append(out, set{old, i + 1, due, m.Due, m.Text, false})
		}
		next := len(want)
		for j := range cur {
			if !used[j] {
				next++
				out = append(out, set{&cur[j], next, cur[j].due, cur[j].plannedDue, cur[j].text, true})
			}
		}
		moved := false
		for _, o := range out {
			moved = moved || o.row.seq != o.seq
		}
		if moved {
			// Out of the way of the new numbers first: (task, seq) is
			// unique, and one statement writes them all.
			park = append(park, r.id)
		}
		for _, o := range out {
			open := !o.retired && !o.row.done && !r.closed
			if moved || o.row.due != o.due || o.row.plannedDue != o.plan || o.row.text != o.text ||
				o.row.retired != o.retired || o.row.open != open {
				sets.add(o.row.id, o.seq, o.due, o.plan, o.text, o.retired, open)
				written[r.id] = true
			}
		}
	}
	if len(park) > 0 {
		if err := tx.Exec("UPDATE milestones SET seq = -seq WHERE task_id IN ?", park).Error; err != nil {
			return nil, err
		}
	}
	if err := sets.exec(tx); err != nil {
		return nil, err
	}
	if err := added.insert(tx); err != nil {
		return nil, err
	}
	if len(park) == 0 {
		return written, nil
	}
	// Entries name their milestone by number too: they follow it.
	return written, tx.Exec(`UPDATE progresses SET milestone_seq = (SELECT m.seq FROM milestones m WHERE m.id = progresses.milestone_id)
		WHERE task_id IN ? AND milestone_id IS NOT NULL`, park).Error
}

// matchMilestones matches a task's milestones in the list (in) to its rows
// (cur, in order) by what they are before their position: the same date
// and text, then the same date, then the same text, then what is left in
// order. match[i] is in[i]'s row, or -1 for a new one. Numbers follow the
// due dates, so matching by position alone would move every done mark,
// extension and unit decision onto another deadline when one is added
// before others.
func matchMilestones(cur []storedMilestone, in []Milestone) []int {
	used := make([]bool, len(cur))
	match := make([]int, len(in))
	for i := range match {
		match[i] = -1
	}
	try := func(same func(o *storedMilestone, m Milestone) bool) {
		for i, m := range in {
			for j := range cur {
				if match[i] < 0 && !used[j] && same(&cur[j], m) {
					match[i], used[j] = j, true
				}
			}
		}
	}
	try(func(o *storedMilestone, m Milestone) bool { return o.planned() == m.Due && o.text == m.Text })
	try(func(o *storedMilestone, m Milestone) bool { return o.planned() == m.Due })
	try(func(o *storedMilestone, m Milestone) bool { return o.text == m.Text })
	// What is left, in order: a milestone reworded and moved at once.
	try(func(*storedMilestone, Milestone) bool { return true })
	return match
}

// bulkSet updates rows of a table by ID, many to a statement:
// UPDATE table SET col = v.columnN, … FROM (VALUES …) AS v WHERE id = v.column1.
type bulkSet struct {
	table string
	cols  []string // set, after the ID
	// types are the PostgreSQL types of the ID and the columns: its
	// VALUES would otherwise take every parameter for text.
	types []string
	args  []any // 1+len(cols) per row
}

func (b *bulkSet) add(id uint, values ...any) { b.args = append(append(b.args, id), values...) }

// exec writes the rows, 500 to a statement.
func (b *bulkSet) exec(tx *gorm.DB) error {
	n := 1 + len(b.cols)
	params := make([]string, n)
	for i := range params {
		params[i] = "?"
		if tx.Dialector.Name() == Postgres {
			params[i] = "CAST(? AS " + b.types[i] + ")"
		}
	}
	row := "(" + strings.Join(params, ", ") + ")"
	sets := make([]string, len(b.cols))
	for i, c := range b.cols {
		sets[i] = fmt.Sprintf("%s = v.column%d", c, i+2)
	}
	for start := 0; start < len(b.args); start += 500 * n {
		chunk := b.args[start:min(start+500*n, len(b.args))]
		q := "UPDATE " + b.table + " SET " + strings.Join(sets, ", ") + " FROM (VALUES " +
			strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)/n), ", ") + ") AS v WHERE " + b.table + ".id = v.column1"
		if err := tx.Exec(q, chunk...).Error; err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
	}
	return nil
}
