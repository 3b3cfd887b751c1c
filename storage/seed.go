package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SeedResult says what a Seed call changed.
type SeedResult struct {
	List    List // the list seeded
	Created int  // tasks new to the database
	Updated int  // existing tasks whose document fields were rewritten
	// Unchanged are the existing tasks the list holds as they are (left
	// alone).
	Unchanged int
	Skipped   bool // the database was already seeded from this version
	// The codes of the tasks created and updated, and of the list's tasks
	// the document no longer holds (left as they are), in list order.
	CreatedCodes, UpdatedCodes, MissingCodes []string
	// What happened to the milestones of the list's tasks that were there
	// before (imports only, see SeedOptions.List): "共性6 节点1" lines,
	// each with what changed.
	Moved, Retired, Added []string
	// Units: the tasks there before whose units changed, each with the
	// units it gains and loses ("共性2：增 市工信局；减 市公安局").
	Units []string
	// NewUnits are the units the document names that the database did not
	// know (imports only): a unit the list spells otherwise than the
	// database (市住建局, 市住房城乡建设局) becomes a unit of its own.
	NewUnits []string
}

const (
	metaSeedVersion    = "seed_version"
	metaContentVersion = "content_version"
	metaUnitsVersion   = "units_version"
)

func setMeta(tx *gorm.DB, name, value string) error {
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value"}),
	}).Create(&Meta{Name: name, Value: value}).Error
}

// Seed upserts tasks keyed by (section, number) in one transaction. Document
// fields, measures, leaders and unit links are rewritten; milestones are
// matched to the rows they were (by date and text, see matchMilestones) and
// updated in place, so that done marks and approved extensions survive,
// and a milestone the document no longer has is retired, not deleted.
// Nothing users created is ever removed. When version is not empty and
// equals the version of the last seed, Seed does nothing.
func (s *Store) Seed(ctx context.Context, tasks []Task, version string) (SeedResult, error) {
	return s.SeedFrom(ctx, tasks, version, "", nil)
}

// SeedFrom is Seed recording, in the same transaction, that the tasks are
// now those of source (MetaSeedSource, e.g. a hash of the document's
// bytes): a start that finds its source recorded need not read it again.
// An empty source records nothing known. The organisation's units (org,
// when not nil) are applied in the same transaction, after the list's own
// units were made, as ApplyUnits would after it: who holds which task and
// the shares are then worked out once, not once for the list and again
// for the organisation (on a first seeding of 100,000 tasks, millions of
// rows).
func (s *Store) SeedFrom(ctx context.Context, tasks []Task, version, source string, org []UnitSpec) (SeedResult, error) {
	return s.SeedList(ctx, tasks, SeedOptions{Version: version, Source: source, Org: org})
}

// SeedOptions say which list a seeding writes and how (see SeedList).
type SeedOptions struct {
	// List is the list's name, made when there is none; "" is the
	// default list (DefaultList), made named after Title.
	List  string
	Title string // the document's title
	// Version and Source, of the default list only: see Seed and SeedFrom.
	Version, Source string
	Org             []UnitSpec // see SeedFrom
	// DryRun works everything out and writes nothing: the result says
	// what the seeding would change.
	DryRun bool
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("storage: dry run")

// SeedList seeds list o.List with tasks as SeedFrom does the default
// list: the tasks matched by section and number to the list's own (codes
// and numbers are unique within a list, not across lists). It sets every
// task's ListID. The tasks of the list that tasks no longer holds are left
// as they are and named (MissingCodes). An import (o.List set) also reports
// what changes of the milestones and units of the tasks it had.
func (s *Store) SeedList(ctx context.Context, tasks []Task, o SeedOptions) (SeedResult, error) {
	if o.List != "" {
		if err := CheckListName(o.List); err != nil {
			return SeedResult{}, err
		}
		o.Version, o.Source = "", ""
	}
	version, source, org := o.Version, o.Source, o.Org
	var res SeedResult
	err := s.writeBulk(ctx, func(tx *gorm.DB) error {
		if o.List != "" {
			if err := notUnitName(tx, o.List); err != nil {
				return err
			}
		}
		list, err := listNamed(tx, o.List, o.Title)
		if err != nil {
			return err
		}
		if o.List != "" && list.ID == DefaultList {
			// The start seeds it from its own document, which would
			// then no longer be what the database holds.
			return Errorf(EINVALID, "“%s”是默认清单，由启动时的 TASKBOT_SEED（未设置时为内置清单）播种，不能导入：要更新它，请替换该文件后重启；导入其他清单请用另一个名称。", list.Name)
		}
		res.List = list
		for i := range tasks {
			tasks[i].ListID = list.ID
		}
		if version != "" {
			var m Meta
			err := tx.Where("name = ?", metaSeedVersion).Take(&m).Error
			if err == nil && m.Value == version {
				res.Skipped = true
				if source == "" {
					return nil
				}
				var cur Meta
				if err := tx.Where("name = ?", MetaSeedSource).Limit(1).Find(&cur).Error; err != nil || cur.Value == source {
					return err
				}
				return setMeta(tx, MetaSeedSource, source)
			}
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		var before map[uint]listMilestone
		var unitsBefore map[uint]taskUnits
		var lastUnit uint
		var had map[uint]bool // the list's tasks before (see priorTasks)
		if o.List != "" {
			if err := tx.Model(&Unit{}).Select("COALESCE(MAX(id), 0)").Scan(&lastUnit).Error; err != nil {
				return err
			}
			if before, err = listMilestones(tx, list.ID); err != nil {
				return err
			}
			if unitsBefore, err = listUnits(tx, list.ID); err != nil {
				return err
			}
		}
		units := map[string]uint{}
		var existing int64
		if err := tx.Model(&Task{}).Count(&existing).Error; err != nil {
			return err
		}
		if existing == 0 {
			// An empty database: in bulk (see seedEmpty).
			var shares int64
			if err := tx.Model(&Share{}).Count(&shares).Error; err != nil {
				return err
			}
			err := s.bulk(tx, func() error { return s.seedEmpty(tx, tasks, units, org, shares > 0) })
			if err != nil {
				return err
			}
			res.Created = len(tasks)
			for i := range tasks {
				res.CreatedCodes = append(res.CreatedCodes, tasks[i].Code)
			}
		} else {
			// The tasks that changed, in one bulk write: on SQLite the
			// derived tables' row triggers are off and their counts made
			// once (re-seeding 10,000 tasks took 24 s with them on).
			priors, held, err := priorTasks(tx, list.ID, tasks)
			if err != nil {
				return err
			}
			res.MissingCodes, had = held.missing, held.ids
			err = s.bulk(tx, func() error {
				var changed []*Task
				var was []prior
				for i := range tasks {
					switch {
					case priors[i].id == 0:
						res.CreatedCodes = append(res.CreatedCodes, tasks[i].Code)
					case !priors[i].same:
						res.UpdatedCodes = append(res.UpdatedCodes, tasks[i].Code)
					}
					if priors[i].same {
						res.Unchanged++
					} else {
						changed = append(changed, &tasks[i])
						was = append(was, priors[i])
					}
				}
				w, err := seedChanged(tx, changed, was, units)
				if err != nil {
					return err
				}
				res.Created, res.Updated = w.created, len(changed)-w.created
				if err := deriveTasks(tx, w.ids, w.redone); err != nil {
					return err
				}
				orgChanged := false
				if org != nil {
					var err error
					if orgChanged, err = applyUnits(tx, org); err != nil {
						return err
					}
				}
				if orgChanged {
					// Every task's holders may have changed.
					if err := rebuildUnitTasks(tx); err != nil {
						return err
					}
					return syncShares(tx)
				}
				// New tasks, milestones and units get their per-unit
				// shares; only the tasks whose units or milestones were
				// written can have any. Many: all of them, in one pass
				// (each ID is a parameter, and backends bound their
				// number).
				switch {
				case len(w.reshare) == 0:
					return nil
				case len(w.reshare) > scopedSyncMax:
					return syncShares(tx)
				}
				return syncShares(tx, w.reshare...)
			})
			if err != nil {
				return err
			}
		}
		// The search index reloads when this changes, in any process.
		if err := setMeta(tx, metaContentVersion, fmt.Sprintf("%s@%d", version, s.now().UnixNano())); err != nil {
			return err
		}
		// This version wrote its shares' lists (see SettleShareLists).
		if err := shareListsChecked(tx); err != nil {
			return err
		}
		if o.List != "" {
			if err := milestoneChanges(tx, list.ID, had, before, &res); err != nil {
				return err
			}
			if err := unitChanges(tx, list.ID, unitsBefore, &res); err != nil {
				return err
			}
			// Into an empty database every unit is new: none is named.
			if lastUnit > 0 {
				if err := tx.Model(&Unit{}).Where("id > ?", lastUnit).Order("id").Pluck("name", &res.NewUnits).Error; err != nil {
					return err
				}
			}
		}
		if o.DryRun {
			return errDryRun
		}
		if o.List != "" {
			return nil // the start's document is the default list's
		}
		// The tasks are now source's (nothing known when it is empty).
		if err := setMeta(tx, MetaSeedSource, source); err != nil {
			return err
		}
		if version == "" {
			return nil
		}
		return setMeta(tx, metaSeedVersion, version)
	})
	if errors.Is(err, errDryRun) {
		return res, nil
	}
	if err != nil {
		return SeedResult{}, txError(err)
	}
	return res, nil
}

// listMilestone is a milestone as an import reports its changes.
type listMilestone struct {
	task       uint
	code       string
	seq        int
	plannedDue Date
	retired    bool
}

// listMilestones reads the milestones of list's tasks by ID.
func listMilestones(tx *gorm.DB, list uint) (map[uint]listMilestone, error) {
	out := map[uint]listMilestone{}
	err := scanIn(tx, `SELECT m.id, m.task_id, t.code, m.seq, m.planned_due, m.retired FROM milestones m JOIN tasks t ON t.id = m.task_id
		WHERE t.list_id = ?`, []any{list}, func(rows *sql.Rows) error {
		var id uint
		var m listMilestone
		err := rows.Scan(&id, &m.task, &m.code, &m.seq, &m.plannedDue, &m.retired)
		out[id] = m
		return err
	})
	return out, err
}

// milestoneChanges sets res's Moved, Retired and Added from the list's
// milestones before the seeding (rows keep their IDs when matched, see
// matchMilestones) and now, for the tasks there before (had); codes are
// the tasks' codes now. A retired milestone the document gives again is
// added back.
func milestoneChanges(tx *gorm.DB, list uint, had map[uint]bool, before map[uint]listMilestone, res *SeedResult) error {
	after, err := listMilestones(tx, list)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(after)) {
		m := after[id]
		was, ok := before[id]
		switch {
		case !had[m.task]:
		case !ok && !m.retired:
			res.Added = append(res.Added, fmt.Sprintf("%s 节点%d（%s）", m.code, m.seq, m.plannedDue))
		case !ok:
		case was.retired && !m.retired:
			res.Added = append(res.Added, fmt.Sprintf("%s 节点%d（%s，恢复）", m.code, m.seq, m.plannedDue))
		case m.retired && !was.retired:
			res.Retired = append(res.Retired, fmt.Sprintf("%s 节点%d（%s）", m.code, was.seq, was.plannedDue))
		case m.plannedDue != was.plannedDue && !m.retired:
			res.Moved = append(res.Moved, fmt.Sprintf("%s 节点%d %s→%s", m.code, m.seq, was.plannedDue, m.plannedDue))
		}
	}
	return nil
}

// taskUnits are a task's code and the names of the units it names.
type taskUnits struct {
	code  string
	names map[string]bool
}

// listUnits reads the units named on list's tasks, by task ID.
func listUnits(tx *gorm.DB, list uint) (map[uint]taskUnits, error) {
	out := map[uint]taskUnits{}
	err := scanIn(tx, `SELECT t.id, t.code, u.name FROM task_units tu JOIN tasks t ON t.id = tu.task_id
		JOIN units u ON u.id = tu.unit_id WHERE t.list_id = ?`, []any{list}, func(rows *sql.Rows) error {
		var id uint
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			return err
		}
		tu, ok := out[id]
		if !ok {
			tu = taskUnits{code: code, names: map[string]bool{}}
		}
		tu.names[name] = true
		out[id] = tu
		return nil
	})
	return out, err
}

// unitChanges sets res.Units from the units of the list's tasks before
// the seeding and now (tasks there before only).
func unitChanges(tx *gorm.DB, list uint, before map[uint]taskUnits, res *SeedResult) error {
	after, err := listUnits(tx, list)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(before)) {
		was, now := before[id], after[id]
		code := now.code // the task's code now
		if code == "" {
			code = was.code
		}
		var gained, lost []string
		for name := range now.names {
			if !was.names[name] {
				gained = append(gained, name)
			}
		}
		for name := range was.names {
			if !now.names[name] {
				lost = append(lost, name)
			}
		}
		if len(gained)+len(lost) == 0 {
			continue
		}
		slices.Sort(gained)
		slices.Sort(lost)
		line := code + "："
		if len(gained) > 0 {
			line += "增 " + strings.Join(gained, "、")
		}
		if len(lost) > 0 {
			if len(gained) > 0 {
				line += "；"
			}
			line += "减 " + strings.Join(lost, "、")
		}
		res.Units = append(res.Units, line)
	}
	return nil
}

// seedEmpty seeds a database without tasks (see SeedFrom): the list's
// rows inserted in bulk (the same rows seedChanged would write), then the
// organisation, then what derives from both. Left says shares are left by
// tasks deleted by hand: those are synced; otherwise the shares table is
// empty, and the derived rows are inserted without looking for any first,
// before the indexes and foreign keys that check them.
func (s *Store) seedEmpty(tx *gorm.DB, tasks []Task, units map[string]uint, org []UnitSpec, left bool) error {
	insert := func() error { // the list, then the organisation
		if _, err := seedFresh(tx, tasks, units); err != nil {
			return err
		}
		if org == nil {
			return nil
		}
		_, err := applyUnits(tx, org)
		return err
	}
	if left {
		if err := insert(); err != nil {
			return err
		}
		if err := rebuildUnitTasks(tx); err != nil {
			return err
		}
		return syncShares(tx)
	}
	children := []string{"measures", "leaders", "task_units", "milestones", "unit_members", "unit_tasks", "shares"}
	return s.foreignKeysAfter(tx, children, func() error {
		if err := insert(); err != nil {
			return err
		}
		return s.indexesAfter(tx, func() error {
			if err := s.analyze(tx, "tasks", "milestones", "task_units"); err != nil {
				return err
			}
			if deriveInGo[s.dialect] {
				if err := deriveFresh(tx); err != nil {
					return err
				}
				return s.analyze(tx, "unit_tasks")
			}
			if err := rebuildUnitTasks(tx); err != nil {
				return err
			}
			if err := s.analyze(tx, "unit_tasks"); err != nil {
				return err
			}
			return insertShares(tx, true)
		})
	})
}

// scopedSyncMax is how many tasks a re-seeding syncs the shares of by ID
// (seeded.reshare); past it, every task's.
var scopedSyncMax = 5000

// deriveTasks brings what derives from the written tasks (ids) up to
// date, a few thousand at a time: the unit_tasks rows and docs of those
// whose measures, leaders or units were written (redone), and every one's
// sort keys (re-seeding 10,000 tasks spent half its time doing this one
// task at a time).
func deriveTasks(tx *gorm.DB, ids, redone []uint) error {
	err := chunksOf(redone, 2000, func(part []uint) error {
		if err := rebuildUnitTasks(tx, part...); err != nil {
			return err
		}
		return writeDocs(tx, part)
	})
	if err != nil {
		return err
	}
	return refreshNextDue(tx, ids...)
}

// taskDoc is the read copy of a task's document lists kept in tasks.doc, so
// that a task card loads with two queries. The normalized tables stay the
// source of truth; seeding, the only writer of both, rewrites it.
type taskDoc struct {
	Measures []string     `json:"m"`
	Leaders  []string     `json:"l"`
	Units    []taskDocRef `json:"u"`
}

type taskDocRef struct {
	ID   uint   `json:"i"`
	Role string `json:"r"`
	Seq  int    `json:"s"`
	Name string `json:"n"`
}

// docOf is the doc writeDocs would read back for t once seeded, its units'
// IDs in units (by name): units by role, then seq.
func docOf(t *Task, units map[string]uint) (string, error) {
	doc := taskDoc{Measures: []string{}, Leaders: []string{}, Units: []taskDocRef{}}
	for _, m := range t.Measures {
		doc.Measures = append(doc.Measures, m.Text)
	}
	for _, l := range t.Leaders {
		doc.Leaders = append(doc.Leaders, l.Post)
	}
	for _, role := range []string{RoleLead, RoleResponsible} {
		seen := map[uint]bool{}
		for k, tu := range t.Units {
			if uid := units[tu.Unit.Name]; tu.Role == role && !seen[uid] {
				seen[uid] = true
				doc.Units = append(doc.Units, taskDocRef{ID: uid, Role: role, Seq: k + 1, Name: tu.Unit.Name})
			}
		}
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// writeDocs rebuilds the given tasks' docs from the normalized tables.
func writeDocs(tx *gorm.DB, ids []uint) error {
	docs := make(map[uint]*taskDoc, len(ids))
	for _, id := range ids {
		// Empty lists as [], as seedFresh writes them.
		docs[id] = &taskDoc{Measures: []string{}, Leaders: []string{}, Units: []taskDocRef{}}
	}
	// Measures and leaders: a text a row, in order.
	for _, list := range []struct {
		query string
		add   func(d *taskDoc, text string)
	}{
		{`SELECT task_id, text FROM measures WHERE task_id IN ? ORDER BY task_id, seq`, func(d *taskDoc, text string) { d.Measures = append(d.Measures, text) }},
		{`SELECT task_id, post FROM leaders WHERE task_id IN ? ORDER BY task_id, seq`, func(d *taskDoc, text string) { d.Leaders = append(d.Leaders, text) }},
	} {
		err := scanIn(tx, list.query, []any{ids}, func(rows *sql.Rows) error {
			var id uint
			var text string
			err := rows.Scan(&id, &text)
			list.add(docs[id], text)
			return err
		})
		if err != nil {
			return err
		}
	}
	err := scanIn(tx, `SELECT tu.task_id, tu.unit_id, tu.role, tu.seq, u.name FROM task_units tu
		JOIN units u ON u.id = tu.unit_id WHERE tu.task_id IN ? ORDER BY tu.task_id, tu.role, tu.seq`, []any{ids}, func(rows *sql.Rows) error {
		var id uint
		var r taskDocRef
		err := rows.Scan(&id, &r.ID, &r.Role, &r.Seq, &r.Name)
		docs[id].Units = append(docs[id].Units, r)
		return err
	})
	if err != nil {
		return err
	}
	set := bulkSet{table: "tasks", cols: []string{"doc"}, types: []string{"bigint", "text"}}
	for _, id := range ids {
		if docs[id] == nil {
			continue // given twice
		}
		b, err := json.Marshal(docs[id])
		if err != nil {
			return err
		}
		set.add(id, string(b))
		docs[id] = nil
	}
	return set.exec(tx)
}

// fill sets the task's measures, leaders and units from its doc column.
func (t *Task) fill() error {
	var doc taskDoc
	if err := json.Unmarshal([]byte(t.Doc), &doc); err != nil {
		return fmt.Errorf("storage: task %d: bad doc: %w", t.ID, err)
	}
	t.Measures = make([]Measure, len(doc.Measures))
	for i, m := range doc.Measures {
		t.Measures[i] = Measure{TaskID: t.ID, Seq: i + 1, Text: m}
	}
	t.Leaders = make([]Leader, len(doc.Leaders))
	for i, l := range doc.Leaders {
		t.Leaders[i] = Leader{TaskID: t.ID, Seq: i + 1, Post: l}
	}
	t.Units = make([]TaskUnit, len(doc.Units))
	for i, u := range doc.Units {
		t.Units[i] = TaskUnit{TaskID: t.ID, UnitID: u.ID, Role: u.Role, Seq: u.Seq, Unit: Unit{ID: u.ID, Name: u.Name}}
	}
	return nil
}

// refreshNextDue recomputes the sort keys (next_due, rank) of the given
// tasks and of their unit_tasks rows. Every write that opens, closes or
// moves a milestone, or closes a task, calls it in the same transaction.
func refreshNextDue(tx *gorm.DB, taskIDs ...uint) error {
	// A few thousand at a time: each statement names them twice, and both
	// databases bound a statement's parameters.
	return chunksOf(taskIDs, 2000, func(ids []uint) error { return refreshNextDueOf(tx, ids) })
}

// refreshNextDueOf is refreshNextDue for at most a few thousand tasks.
func refreshNextDueOf(tx *gorm.DB, taskIDs []uint) error {
	// One aggregate over the tasks' milestones, joined back: a correlated
	// MIN(due) per task would let SQLite walk the (open, due) index from
	// its start for each task, quadratic in the list's size. Open is not
	// in the WHERE clause either, for the same reason: SQLite would take
	// the (open, due) index for it and read every open milestone for one
	// task (re-seeding 10,000 tasks took 30 s, half of it here). Each
	// statement writes only the rows whose keys change: rewriting the
	// same values costs as much as new ones, index entries included.
	err := tx.Exec(`UPDATE tasks SET next_due = NULL WHERE id IN ? AND next_due IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM milestones m WHERE m.task_id = tasks.id)`, taskIDs).Error
	if err != nil {
		return err
	}
	err = tx.Exec(`UPDATE tasks SET next_due = x.due FROM (
		SELECT m.task_id, MIN(CASE WHEN m.open THEN m.due END) AS due FROM milestones m
		WHERE m.task_id IN ? GROUP BY m.task_id
	) x WHERE x.task_id = tasks.id AND tasks.next_due IS DISTINCT FROM x.due`, taskIDs).Error
	if err != nil {
		return err
	}
	const rank = `CASE
		WHEN closed_at IS NOT NULL THEN 3
		WHEN next_due IS NOT NULL THEN 0
		WHEN immediate OR ongoing OR long_term THEN 1
		ELSE 2 END`
	err = tx.Exec(`UPDATE tasks SET rank = `+rank+` WHERE id IN ? AND rank <> `+rank, taskIDs).Error
	if err != nil {
		return err
	}
	// The joined tables are named by task too: PostgreSQL otherwise
	// hashes every task, or every milestone, to join a few thousand.
	err = tx.Exec(`UPDATE unit_tasks SET rank = t.rank, next_due = t.next_due FROM tasks t
	WHERE t.id = unit_tasks.task_id AND unit_tasks.task_id IN @ids AND t.id IN @ids
		AND (unit_tasks.rank <> t.rank OR unit_tasks.next_due IS DISTINCT FROM t.next_due)`, map[string]any{"ids": taskIDs}).Error
	if err != nil {
		return err
	}
	return tx.Exec(`UPDATE shares SET due = m.due FROM milestones m
	WHERE m.id = shares.milestone_id AND shares.task_id IN @ids AND m.task_id IN @ids AND shares.milestone_id <> 0
		AND shares.due IS DISTINCT FROM m.due`, map[string]any{"ids": taskIDs}).Error
}

// rebuildUnitTasks re-derives unit_tasks for the given tasks, or for all
// tasks when none is given. A unit named directly wins over the same unit
// reached through a collective.
func rebuildUnitTasks(tx *gorm.DB, taskIDs ...uint) error {
	del, direct, via, tasks := tx.Where("1 = 1"), "", "", ""
	args := []any{}
	if len(taskIDs) > 0 {
		del = tx.Where("task_id IN ?", taskIDs)
		// The tasks too: PostgreSQL, with the statistics of a table just
		// filled, hashed every task to join one (9 ms a task at 10,000).
		direct, via, tasks = " WHERE task_id IN @ids", " WHERE tu.task_id IN @ids", " WHERE t.id IN @ids"
	}
	if err := del.Delete(&UnitTask{}).Error; err != nil {
		return err
	}
	if len(taskIDs) > 0 {
		args = append(args, map[string]any{"ids": taskIDs})
	}
	return tx.Exec(`INSERT INTO unit_tasks (unit_id, role, task_id, via_id, rank, next_due, section, number)
		SELECT x.unit_id, x.role, x.task_id, MIN(x.via_id), t.rank, t.next_due, t.section, t.number
		FROM (
			SELECT unit_id, role, task_id, 0 AS via_id FROM task_units`+direct+`
			UNION ALL
			SELECT um.member_id, tu.role, tu.task_id, tu.unit_id FROM task_units tu
			JOIN unit_members um ON um.collective_id = tu.unit_id`+via+`
		) x JOIN tasks t ON t.id = x.task_id`+tasks+`
		GROUP BY x.unit_id, x.role, x.task_id, t.rank, t.next_due, t.section, t.number`, args...).Error
}

func unitID(tx *gorm.DB, name string, cache map[string]uint) (uint, error) {
	if id, ok := cache[name]; ok {
		return id, nil
	}
	u := Unit{Name: name}
	if err := tx.Where("name = ?", name).FirstOrCreate(&u).Error; err != nil {
		return 0, err
	}
	cache[name] = u.ID
	return u.ID, nil
}

// seedFresh inserts tasks the database does not hold, in batches of
// rows (a 10,000-task list in about a second instead of tens), and returns
// their IDs. What derives from them (unit_tasks, shares) is the caller's
// to work out.
func seedFresh(tx *gorm.DB, in []Task, units map[string]uint) ([]uint, error) {
	for i := range in {
		for _, tu := range in[i].Units {
			if _, err := unitID(tx, tu.Unit.Name, units); err != nil {
				return nil, err
			}
		}
	}
	rows := make([]Task, len(in))
	for i := range in {
		t := in[i]
		rows[i] = Task{ListID: t.ListID, Section: t.Section, Number: t.Number, Code: t.Code, Title: t.Title, Problem: t.Problem,
			Goal: t.Goal, Persons: t.Persons, Deadline: t.Deadline, Immediate: t.Immediate, Ongoing: t.Ongoing,
			LongTerm: t.LongTerm, DocStatus: t.DocStatus, OtherNotes: t.OtherNotes}
		// The sort keys refreshNextDue would give a new task (every
		// milestone open, the task open), set here so that no row is
		// written twice.
		for _, m := range t.Milestones {
			if rows[i].NextDue.IsZero() || m.Due.Before(rows[i].NextDue) {
				rows[i].NextDue = m.Due
			}
		}
		switch {
		case !rows[i].NextDue.IsZero():
			rows[i].Rank = 0
		case t.Immediate || t.Ongoing || t.LongTerm:
			rows[i].Rank = 1
		default:
			rows[i].Rank = 2
		}
		doc, err := docOf(&t, units)
		if err != nil {
			return nil, err
		}
		rows[i].Doc = doc
	}
	if err := insertTasks(tx, rows); err != nil {
		return nil, err
	}
	// The children as plain multi-row INSERTs: gorm's batches read every
	// new row's ID back, which nothing here needs.
	measures := bulkRows{table: "measures", cols: []string{"task_id", "seq", "text"}}
	leaders := bulkRows{table: "leaders", cols: []string{"task_id", "seq", "post"}}
	links := bulkRows{table: "task_units", cols: []string{"task_id", "unit_id", "role", "seq"}}
	milestones := bulkRows{table: "milestones", cols: []string{"task_id", "seq", "due", "planned_due", "text", "open", "retired"}}
	ids := make([]uint, len(in))
	for i := range in {
		id := rows[i].ID
		ids[i] = id
		if id == 0 {
			return nil, fmt.Errorf("storage: bulk insert returned no id for task %s", in[i].Code)
		}
		docRows(id, &in[i], units, &measures, &leaders, &links)
		for k, m := range in[i].Milestones {
			milestones.add(id, k+1, m.Due, m.Due, m.Text, true, false)
		}
	}
	for _, b := range []*bulkRows{&measures, &leaders, &links, &milestones} {
		if err := b.insert(tx); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// MetaSeedSource is the meta row naming the source the tasks were last
// seeded from (see SeedFrom).
const MetaSeedSource = "seed_source"

// MetaValue returns the bookkeeping value called name ("" when unset): a
// row of the meta table, such as which source the tasks were last seeded
// from.
func (s *Store) MetaValue(ctx context.Context, name string) (string, error) {
	var m Meta
	err := s.db.WithContext(ctx).Where("name = ?", name).Limit(1).Find(&m).Error
	if err != nil {
		return "", Internal(err)
	}
	return m.Value, nil
}

// SetMetaValue sets the bookkeeping value called name, writing only when it
// changes.
func (s *Store) SetMetaValue(ctx context.Context, name, value string) error {
	if v, err := s.MetaValue(ctx, name); err != nil || v == value {
		return err
	}
	return s.write(ctx, func(tx *gorm.DB) error { return setMeta(tx, name, value) })
}

// docRows adds task id's measures and leaders by position, and its unit
// links (a unit once per role), to their rows.
func docRows(id uint, t *Task, units map[string]uint, measures, leaders, links *bulkRows) {
	for k, m := range t.Measures {
		measures.add(id, k+1, m.Text)
	}
	for k, l := range t.Leaders {
		leaders.add(id, k+1, l.Post)
	}
	seen := map[[2]any]bool{}
	for k, tu := range t.Units {
		uid := units[tu.Unit.Name]
		if key := [2]any{uid, tu.Role}; !seen[key] {
			seen[key] = true
			links.add(id, uid, tu.Role, k+1)
		}
	}
}

// insertTasks inserts new tasks' rows and sets their IDs: taken first (on
// PostgreSQL from the table's sequence, on SQLite past the largest, the
// transaction holding the only write lock), then the rows sent in bulk
// (bulkRows: on PostgreSQL by COPY). gorm's batches of 200, reading
// each new row's ID back, took 7 of a 100,000-task seeding's 45 s on
// PostgreSQL.
func insertTasks(tx *gorm.DB, rows []Task) error {
	var ids []uint
	var err error
	if tx.Dialector.Name() == Postgres {
		err = tx.Raw(`SELECT nextval(pg_get_serial_sequence('tasks', 'id')) FROM generate_series(1, ?) ORDER BY 1`,
			len(rows)).Scan(&ids).Error
	} else {
		var last uint
		err = tx.Raw(`SELECT COALESCE(MAX(id), 0) FROM tasks`).Scan(&last).Error
		for i := range rows {
			ids = append(ids, last+uint(i)+1)
		}
	}
	if err != nil {
		return err
	}
	if len(ids) != len(rows) {
		return fmt.Errorf("storage: %d task IDs for %d tasks", len(ids), len(rows))
	}
	now := tx.NowFunc()
	b := bulkRows{table: "tasks", cols: []string{"id", "list_id", "section", "number", "code", "title", "problem", "goal",
		"persons", "deadline", "immediate", "ongoing", "long_term", "doc_status", "other_notes", "search_text", "doc",
		"next_due", "rank", "created_at", "updated_at"}}
	for i := range rows {
		t := &rows[i]
		t.ID, t.CreatedAt, t.UpdatedAt = ids[i], now, now
		b.add(t.ID, t.ListID, t.Section, t.Number, t.Code, t.Title, t.Problem, t.Goal, t.Persons, t.Deadline,
			t.Immediate, t.Ongoing, t.LongTerm, t.DocStatus, t.OtherNotes, "", t.Doc, t.NextDue, t.Rank, now, now) // "": see Task.SearchText
	}
	return b.insert(tx)
}
