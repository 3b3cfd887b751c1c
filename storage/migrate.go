package storage

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// dataMigration is a one-time change to existing rows that a schema change
// needs (AutoMigrate only adds tables, columns and indexes). Each is applied
// once per database, in order, in its own transaction together with the
// record that it ran ("migration:NAME" in meta), so that a crash leaves it
// either done or not started. On a new database it runs over empty tables.
type dataMigration struct {
	name string
	run  func(tx *gorm.DB) error
}

// dataMigrations lists the data migrations, oldest first. Append only: a
// name once released never changes.
func dataMigrations() []dataMigration {
	return []dataMigration{
		{name: "milestones-by-due-date", run: migrateMilestonesByDue},
		{name: "per-unit-shares", run: migrateShares},
		{name: "lists", run: migrateLists},
		{name: "share-lists", run: migrateShareLists},
	}
}

// applyDataMigrations runs the data migrations this database has not had,
// within db (the migration's transaction).
func (s *Store) applyDataMigrations(db *gorm.DB) error {
	for _, m := range dataMigrations() {
		key := "migration:" + m.name
		err := db.Transaction(func(tx *gorm.DB) error {
			var done Meta
			err := tx.Where("name = ?", key).Take(&done).Error
			if err == nil {
				return nil
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			if err := m.run(tx); err != nil {
				return err
			}
			return tx.Create(&Meta{Name: key, Value: s.now().Format("2006-01-02T15:04:05Z")}).Error
		})
		if err != nil {
			return fmt.Errorf("data migration %s: %w", m.name, err)
		}
	}
	return nil
}
