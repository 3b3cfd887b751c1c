package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UnitSpec configures a unit: other names people type for it and, for a
// collective such as 各县（市、区）, its member units.
type UnitSpec struct {
	Name    string
	Aliases []string
	Members []string
}

// ApplyUnits creates the named units and their members, and replaces the
// aliases and memberships of every unit named in specs. Units and links
// that users or the document created are never deleted. Specs equal to the
// last ones applied change nothing and are skipped (it runs at every start).
func (s *Store) ApplyUnits(ctx context.Context, specs []UnitSpec) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		changed, err := applyUnits(tx, specs)
		if err != nil || !changed {
			return err
		}
		// Who holds which task follows the memberships.
		return s.bulk(tx, func() error {
			if err := rebuildUnitTasks(tx); err != nil {
				return err
			}
			return syncShares(tx)
		})
	})
	if err != nil {
		return Internal(err)
	}
	return nil
}

// applyUnits is ApplyUnits without what derives from the units (unit_tasks,
// shares), which the caller brings up to date when it reports changed.
func applyUnits(tx *gorm.DB, specs []UnitSpec) (changed bool, err error) {
	b, err := json.Marshal(specs)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(b)
	version := hex.EncodeToString(sum[:12])
	var m Meta
	if err := tx.Where("name = ?", metaUnitsVersion).Take(&m).Error; err == nil && m.Value == version {
		return false, nil
	}
	ids := map[string]uint{}
	for _, sp := range specs {
		id, err := unitID(tx, sp.Name, ids)
		if err != nil {
			return false, err
		}
		if err := tx.Where("unit_id = ?", id).Delete(&UnitAlias{}).Error; err != nil {
			return false, err
		}
		if err := tx.Where("collective_id = ?", id).Delete(&UnitMember{}).Error; err != nil {
			return false, err
		}
		for _, a := range sp.Aliases {
			// An alias moved from another unit follows the configuration.
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "alias"}},
				DoUpdates: clause.AssignmentColumns([]string{"unit_id"}),
			}).Omit("Unit").Create(&UnitAlias{Alias: a, UnitID: id}).Error
			if err != nil {
				return false, err
			}
		}
		for i, m := range sp.Members {
			mid, err := unitID(tx, m, ids)
			if err != nil {
				return false, err
			}
			err = tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("Collective", "Member").
				Create(&UnitMember{CollectiveID: id, MemberID: mid, Seq: i + 1}).Error
			if err != nil {
				return false, err
			}
		}
	}
	return true, setMeta(tx, metaUnitsVersion, version)
}

// UnitName is a name a unit can be found by: its own or an alias.
type UnitName struct {
	UnitID uint
	Unit   string // the unit's own name
	Name   string // the name matched: Unit itself or an alias
}

// UnitNames returns every unit's own name and aliases, for resolving what
// people type.
func (s *Store) UnitNames(ctx context.Context) ([]UnitName, error) {
	var out []UnitName
	err := s.db.WithContext(ctx).Raw(`
		SELECT id AS unit_id, name AS unit, name FROM units
		UNION ALL
		SELECT u.id, u.name, a.alias FROM unit_aliases a JOIN units u ON u.id = a.unit_id
		ORDER BY 1, 3`).Scan(&out).Error
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// Collectives returns, for each collective unit, the names of its members,
// and for each member the collectives it belongs to.
func (s *Store) Collectives(ctx context.Context) (members, memberOf map[string][]string, err error) {
	var rows []struct{ Collective, Member string }
	err = s.db.WithContext(ctx).Raw(`
		SELECT c.name AS collective, m.name AS member FROM unit_members um
		JOIN units c ON c.id = um.collective_id JOIN units m ON m.id = um.member_id
		ORDER BY c.name, um.seq`).Scan(&rows).Error
	if err != nil {
		return nil, nil, Internal(err)
	}
	members, memberOf = map[string][]string{}, map[string][]string{}
	for _, r := range rows {
		members[r.Collective] = append(members[r.Collective], r.Member)
		memberOf[r.Member] = append(memberOf[r.Member], r.Collective)
	}
	return members, memberOf, nil
}

// UnitLinks returns, for each task, the units that hold it: those named
// directly, and the members of a collective named (with ViaID set, unless
// also named directly), as unit_tasks has them. It reads the direct links
// and expands collectives here: a collective's tasks would otherwise come
// back once per member, ten rows instead of one for 各县（市、区）. It
// returns EINTERNAL when a query fails.
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
	names, err := s.unitNamesByID(ctx)
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
	err = s.scanByIDs(ctx, `SELECT tu.task_id, tu.unit_id, tu.role FROM task_units tu
		WHERE tu.task_id IN (%s) ORDER BY tu.task_id, tu.role, tu.seq`, taskIDs, scan)
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

// unitNamesByID reads every unit's name by ID (the units are few).
func (s *Store) unitNamesByID(ctx context.Context) (map[uint]string, error) {
	return unitNames(s.db.WithContext(ctx))
}

// unitNames is unitNamesByID in db (a transaction, say).
func unitNames(db *gorm.DB) (map[uint]string, error) {
	names := map[uint]string{}
	err := scanIn(db, `SELECT id, name FROM units`, nil, func(rows *sql.Rows) error {
		var id uint
		var name string
		err := rows.Scan(&id, &name)
		names[id] = name
		return err
	})
	return names, err
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
// of its members (people whose ID is known), both by unit ID. It returns
// EINTERNAL when a query fails.
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
