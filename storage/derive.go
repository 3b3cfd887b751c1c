package storage

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// deriveInGo says on which databases a first seeding derives its rows
// with deriveFresh rather than with the statements.
var deriveInGo = map[string]bool{Postgres: true}

// deriveFresh fills the empty unit_tasks and shares tables of a first
// seeding with the rows rebuildUnitTasks and insertShares(tx, true) would
// write, in the same share order: worked out here from the tasks, their
// units, the collectives' members and the milestones, and sent in bulk
// (on PostgreSQL by COPY), so that the database neither joins, groups
// nor sorts them (100,000 tasks on PostgreSQL: 4.6 s for unit_tasks and
// 8.6 s for shares as those statements). The statements stay for every
// later change, which touches some tasks; TestDeriveFreshAsStatements
// holds the two to the same rows.
func deriveFresh(tx *gorm.DB) error {
	// Rows of tasks deleted by hand (unit_tasks has no foreign key).
	if err := tx.Exec("DELETE FROM unit_tasks").Error; err != nil {
		return err
	}
	type task struct {
		list            uint
		rank            int
		nextDue         Date
		section, number int
		open            bool
		dated           bool // has a milestone the document still has
	}
	tasks := map[uint]*task{}
	err := scanIn(tx, `SELECT id, list_id, rank, next_due, section, number, closed_at IS NULL FROM tasks`, nil, func(r *sql.Rows) error {
		var id uint
		t := &task{}
		err := r.Scan(&id, &t.list, &t.rank, &t.nextDue, &t.section, &t.number, &t.open)
		tasks[id] = t
		return err
	})
	if err != nil {
		return err
	}
	members := map[uint][]uint{} // by collective
	err = scanIn(tx, `SELECT collective_id, member_id FROM unit_members`, nil, func(r *sql.Rows) error {
		var c, m uint
		err := r.Scan(&c, &m)
		members[c] = append(members[c], m)
		return err
	})
	if err != nil {
		return err
	}

	// unit_tasks: each unit named, and each member of a collective named,
	// once per role; named directly (via 0) before through the collective
	// of the smallest ID. In the primary key's order, which the index
	// takes fastest.
	type hold struct {
		unit, task, via uint
		responsible     bool // the role: lead sorts first
	}
	var holds []hold
	err = scanIn(tx, `SELECT task_id, unit_id, role FROM task_units`, nil, func(r *sql.Rows) error {
		var h hold
		var role string
		if err := r.Scan(&h.task, &h.unit, &role); err != nil {
			return err
		}
		h.responsible = role == RoleResponsible
		if tasks[h.task] == nil {
			return fmt.Errorf("storage: task_units names task %d, which is not in tasks", h.task)
		}
		holds = append(holds, h)
		for _, m := range members[h.unit] {
			holds = append(holds, hold{unit: m, task: h.task, via: h.unit, responsible: h.responsible})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(holds, func(a, b hold) int {
		switch {
		case a.unit != b.unit:
			return cmp.Compare(a.unit, b.unit)
		case a.responsible != b.responsible && a.responsible:
			return 1
		case a.responsible != b.responsible:
			return -1
		case a.task != b.task:
			return cmp.Compare(a.task, b.task)
		}
		return cmp.Compare(a.via, b.via)
	})
	holds = slices.CompactFunc(holds, func(a, b hold) bool {
		return a.unit == b.unit && a.responsible == b.responsible && a.task == b.task
	})
	unitTasks := bulkRows{table: "unit_tasks", cols: []string{"unit_id", "role", "task_id", "via_id", "rank", "next_due", "section", "number"},
		count: len(holds), fill: func(i int, row []any) {
			h := holds[i]
			t := tasks[h.task]
			role := RoleLead
			if h.responsible {
				role = RoleResponsible
			}
			row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] = h.unit, role, h.task, h.via, t.rank, t.nextDue, t.section, t.number
		}}
	if err := unitTasks.insert(tx); err != nil {
		return err
	}

	// Shares (see holders and insertShares): a unit, not a collective,
	// holding a task in either role, directly (via 0) or not (1), has one
	// per open milestone of the open task, or one for the whole task when
	// none of its milestones is in the document.
	type holder struct {
		task, unit uint
		via        int64
	}
	held := make([]holder, 0, len(holds))
	for _, h := range holds {
		if _, collective := members[h.unit]; !collective {
			held = append(held, holder{h.task, h.unit, int64(min(h.via, 1))})
		}
	}
	slices.SortFunc(held, func(a, b holder) int {
		switch {
		case a.task != b.task:
			return cmp.Compare(a.task, b.task)
		case a.unit != b.unit:
			return cmp.Compare(a.unit, b.unit)
		}
		return cmp.Compare(a.via, b.via)
	})
	held = slices.CompactFunc(held, func(a, b holder) bool { return a.task == b.task && a.unit == b.unit })
	byTask := map[uint][]holder{}
	for i := 0; i < len(held); {
		k := i + 1
		for k < len(held) && held[k].task == held[i].task {
			k++
		}
		byTask[held[i].task] = held[i:k]
		i = k
	}
	type share struct {
		order                 int64 // shareOrder's
		milestone, unit, task uint
		list                  uint
		due                   Date
	}
	var shares []share
	err = scanIn(tx, `SELECT id, task_id, seq, due, open, retired FROM milestones`, nil, func(r *sql.Rows) error {
		var id, taskID uint
		var seq int
		var due Date
		var open, retired bool
		if err := r.Scan(&id, &taskID, &seq, &due, &open, &retired); err != nil {
			return err
		}
		t := tasks[taskID]
		if t == nil {
			return fmt.Errorf("storage: milestone %d names task %d, which is not in tasks", id, taskID)
		}
		t.dated = t.dated || !retired
		if !open || !t.open {
			return nil
		}
		for _, h := range byTask[taskID] {
			shares = append(shares, share{packShare(0, h.via, taskID, seq, h.unit), id, h.unit, taskID, t.list, due})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, hs := range byTask {
		if t := tasks[id]; t.open && !t.dated {
			for _, h := range hs {
				shares = append(shares, share{packShare(1, h.via, id, 0, h.unit), 0, h.unit, id, t.list, Date{}})
			}
		}
	}
	slices.SortFunc(shares, func(a, b share) int { return cmp.Compare(a.order, b.order) })
	rows := bulkRows{table: "shares", cols: []string{"task_id", "list_id", "milestone_id", "unit_id", "state", "reason", "decided_by", "retired", "due"},
		count: len(shares), fill: func(i int, row []any) {
			s := &shares[i]
			row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] = s.task, s.list, s.milestone, s.unit, ShareOpen, "", "", false, s.due
		}}
	if tx.Dialector.Name() != Postgres || len(shares) == 0 {
		return rows.insert(tx)
	}
	// On PostgreSQL the shares are written in idx_shares_tally's order,
	// with their IDs given in list order: that index, the slowest to
	// build (1.9 million shares, most of them sharing a few keys: 4–6.5 s
	// from list order), is then built from rows already sorted (about 2 s),
	// and a unit's shares lie together. The primary key is built after
	// them too: kept while they are written in this order, its inserts
	// made writing them twice as slow.
	// The IDs are taken from the sequence in two statements: no other
	// writer can take one between them, as inserting a share needs a lock
	// on the table, which indexesAfter holds exclusively until the commit.
	var base int64
	if err := tx.Raw(`SELECT nextval(pg_get_serial_sequence('shares', 'id'))`).Scan(&base).Error; err != nil {
		return err
	}
	if err := tx.Exec(`SELECT setval(pg_get_serial_sequence('shares', 'id'), ?)`, base+int64(len(shares))-1).Error; err != nil {
		return err
	}
	inTally := make([]int, len(shares))
	for i := range inTally {
		inTally[i] = i
	}
	slices.SortFunc(inTally, func(i, k int) int {
		a, b := &shares[i], &shares[k]
		switch {
		case a.unit != b.unit:
			return cmp.Compare(a.unit, b.unit)
		case a.due != b.due && a.due.IsZero(): // NULL last
			return 1
		case a.due != b.due && b.due.IsZero():
			return -1
		case a.due != b.due && a.due.Before(b.due):
			return -1
		case a.due != b.due:
			return 1
		case a.list != b.list:
			return cmp.Compare(a.list, b.list)
		}
		return cmp.Compare(i, k)
	})
	rows.cols = append(rows.cols, "id")
	fill := rows.fill
	rows.fill = func(i int, row []any) {
		fill(inTally[i], row)
		row[len(row)-1] = base + int64(inTally[i]) // in list order
	}
	return constraintsAfter(tx, "p", []string{"shares"}, func() error { return rows.insert(tx) })
}

// packShare is shareOrder in Go, with the databases' 64-bit arithmetic.
func packShare(whole, via int64, task uint, seq int, unit uint) int64 {
	return whole<<62 | via<<61 | int64(task)<<28 | int64(seq)<<16 | int64(unit)
}
