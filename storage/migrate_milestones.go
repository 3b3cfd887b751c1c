package storage

import (
	"sort"

	"gorm.io/gorm"
)

// migrateMilestonesByDue renumbers every task's milestones by due date, as
// the parser now numbers them (节点1 is the earliest deadline), where the
// previous version numbered them in the order the deadline text named
// them. A milestone keeps its row and ID (so done marks, extensions,
// audits, shares and reminder steps, which all name it by ID, stay with
// it); only its seq changes, and so does every stored copy of a seq:
// progresses.milestone_seq. Text already written (entries, audit details,
// queued and sent messages) is history and keeps the numbers it was
// written with.
//
// The order is the one the re-seed that follows will write, so that its
// match by position finds each milestone again:
//   - live milestones first, by their document date (planned_due: an
//     approved extension moves due, not the date the document names),
//     the old seq (the order written) breaking ties;
//   - retired milestones after them, in the same order among themselves:
//     the document no longer has them, and seeding keeps them retired only
//     while their seq is beyond the document's milestones.
func migrateMilestonesByDue(tx *gorm.DB) error {
	var rows []struct {
		ID         uint
		TaskID     uint
		Seq        int
		Due        Date
		PlannedDue Date
		Retired    bool
	}
	err := tx.Raw(`SELECT id, task_id, seq, due, planned_due, retired FROM milestones ORDER BY task_id, seq`).Scan(&rows).Error
	if err != nil {
		return err
	}
	type renumber struct {
		id       uint
		from, to int
	}
	var moves []renumber
	maxSeq := 0
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end].TaskID == rows[start].TaskID {
			maxSeq = max(maxSeq, rows[end].Seq)
			end++
		}
		task := rows[start:end] // in old seq order: the stable sort keeps it for ties
		docDue := func(i int) Date {
			if task[i].PlannedDue.IsZero() {
				return task[i].Due
			}
			return task[i].PlannedDue
		}
		order := make([]int, len(task))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			i, j := order[a], order[b]
			if task[i].Retired != task[j].Retired {
				return !task[i].Retired
			}
			return docDue(i).Before(docDue(j))
		})
		for k, i := range order {
			if task[i].Seq != k+1 {
				moves = append(moves, renumber{task[i].ID, task[i].Seq, k + 1})
			}
		}
		start = end
	}
	if len(moves) == 0 {
		return nil
	}
	// (task_id, seq) is unique: park the moving rows beyond every seq in
	// use, then give each its number.
	ids := make([]uint, len(moves))
	for i, m := range moves {
		ids[i] = m.id
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		if err := tx.Exec(`UPDATE milestones SET seq = seq + ? WHERE id IN ?`, maxSeq, chunk).Error; err != nil {
			return err
		}
	}
	for _, m := range moves {
		if err := tx.Exec(`UPDATE milestones SET seq = ? WHERE id = ?`, m.to, m.id).Error; err != nil {
			return err
		}
	}
	// An entry names its milestone by ID and by number; the number follows
	// the milestone. Entries have had an ID whenever they had a number, so
	// the ID decides.
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		err := tx.Exec(`UPDATE progresses SET milestone_seq = (
			SELECT m.seq FROM milestones m WHERE m.id = progresses.milestone_id
		) WHERE milestone_id IN ?`, chunk).Error
		if err != nil {
			return err
		}
	}
	return nil
}
