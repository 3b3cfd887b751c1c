package storage

import (
	"context"
	"crypto/sha256"
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
	b, err := json.Marshal(specs)
	if err != nil {
		return Internal(err)
	}
	sum := sha256.Sum256(b)
	version := hex.EncodeToString(sum[:12])
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m Meta
		if err := tx.Where("name = ?", metaUnitsVersion).Take(&m).Error; err == nil && m.Value == version {
			return nil
		}
		ids := map[string]uint{}
		for _, sp := range specs {
			id, err := unitID(tx, sp.Name, ids)
			if err != nil {
				return err
			}
			if err := tx.Where("unit_id = ?", id).Delete(&UnitAlias{}).Error; err != nil {
				return err
			}
			if err := tx.Where("collective_id = ?", id).Delete(&UnitMember{}).Error; err != nil {
				return err
			}
			for _, a := range sp.Aliases {
				// An alias moved from another unit follows the configuration.
				err := tx.Clauses(clause.OnConflict{
					Columns:   []clause.Column{{Name: "alias"}},
					DoUpdates: clause.AssignmentColumns([]string{"unit_id"}),
				}).Omit("Unit").Create(&UnitAlias{Alias: a, UnitID: id}).Error
				if err != nil {
					return err
				}
			}
			for i, m := range sp.Members {
				mid, err := unitID(tx, m, ids)
				if err != nil {
					return err
				}
				err = tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("Collective", "Member").
					Create(&UnitMember{CollectiveID: id, MemberID: mid, Seq: i + 1}).Error
				if err != nil {
					return err
				}
			}
		}
		if err := rebuildUnitTasks(tx); err != nil {
			return err
		}
		return setMeta(tx, metaUnitsVersion, version)
	})
	if err != nil {
		return Internal(err)
	}
	return nil
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
