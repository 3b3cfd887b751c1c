package storage

import (
	"database/sql"

	"gorm.io/gorm"
)

// skipUnchanged lets a re-seeding leave alone the tasks it would rewrite
// with what they hold (the tests turn it off to compare).
var skipUnchanged = true

// unchangedTasks reports, for each task of in, whether seedTask would
// write it back exactly as the database holds it: the same document
// fields, measures, leaders and units (its doc, with every unit known by
// name), and its milestones already numbered, dated and open as seedTask
// would leave them. A re-seeding skips those: a changed list usually
// changes a few tasks of many, and seedTask costs a dozen statements a
// task. Anything not certainly the same counts as changed.
func unchangedTasks(tx *gorm.DB, in []Task) ([]bool, error) {
	out := make([]bool, len(in))
	if !skipUnchanged {
		return out, nil
	}
	units := map[string]uint{}
	if err := scanIn(tx, `SELECT id, name FROM units`, nil, func(rows *sql.Rows) error {
		var id uint
		var name string
		err := rows.Scan(&id, &name)
		units[name] = id
		return err
	}); err != nil {
		return nil, err
	}
	type stored struct {
		id                                                         uint
		code, title, problem, goal, persons, deadline, search, doc string
		immediate, ongoing, longTerm, closed                       bool
	}
	type key struct{ section, number int }
	tasks := map[key]*stored{}
	if err := scanIn(tx, `SELECT id, section, number, code, title, problem, goal, persons, deadline,
		immediate, ongoing, long_term, closed_at IS NOT NULL, search_text, doc FROM tasks`, nil, func(rows *sql.Rows) error {
		var t stored
		var k key
		err := rows.Scan(&t.id, &k.section, &k.number, &t.code, &t.title, &t.problem, &t.goal, &t.persons, &t.deadline,
			&t.immediate, &t.ongoing, &t.longTerm, &t.closed, &t.search, &t.doc)
		tasks[k] = &t
		return err
	}); err != nil {
		return nil, err
	}
	type milestone struct {
		seq                      int
		due, planned             Date
		text                     string
		retired, open, done, ext bool
	}
	milestones := map[uint][]milestone{}
	if err := scanIn(tx, `SELECT task_id, seq, due, planned_due, text, retired, open, done_at IS NOT NULL, extended_at IS NOT NULL
		FROM milestones ORDER BY task_id, seq`, nil, func(rows *sql.Rows) error {
		var id uint
		var m milestone
		err := rows.Scan(&id, &m.seq, &m.due, &m.planned, &m.text, &m.retired, &m.open, &m.done, &m.ext)
		milestones[id] = append(milestones[id], m)
		return err
	}); err != nil {
		return nil, err
	}
	// A task given twice is written twice, the last one winning: never
	// left alone.
	twice := map[key]int{}
	for i := range in {
		twice[key{in[i].Section, in[i].Number}]++
	}
	for i := range in {
		t := &in[i]
		cur := tasks[key{t.Section, t.Number}]
		if twice[key{t.Section, t.Number}] > 1 {
			continue
		}
		if cur == nil || cur.code != t.Code || cur.title != t.Title || cur.problem != t.Problem || cur.goal != t.Goal ||
			cur.persons != t.Persons || cur.deadline != t.Deadline || cur.immediate != t.Immediate ||
			cur.ongoing != t.Ongoing || cur.longTerm != t.LongTerm || cur.search != searchText(t) {
			continue
		}
		known := true
		for _, u := range t.Units {
			if _, ok := units[u.Unit.Name]; !ok {
				known = false // seedTask would make it
			}
		}
		if !known {
			continue
		}
		if doc, err := docOf(t, units); err != nil || doc != cur.doc {
			continue
		}
		// The document's milestones are rows 1…n, as planned, open unless
		// done (none of a closed task's); the rows after them retired and
		// closed, in order: seedMilestones would write the same values.
		ms := milestones[cur.id]
		same := len(ms) >= len(t.Milestones)
		for j := 0; same && j < len(ms); j++ {
			m := ms[j]
			if m.seq != j+1 {
				same = false
			} else if j < len(t.Milestones) {
				want := t.Milestones[j]
				same = m.planned == want.Due && m.text == want.Text && !m.retired &&
					(m.ext || m.due == want.Due) && m.open == (!m.done && !cur.closed)
			} else {
				same = m.retired && !m.open
			}
		}
		out[i] = same
	}
	return out, nil
}
