package storage

import (
	"context"

	"gorm.io/gorm"
)

// InstallDerived lets the tests run the derived tables' installation alone,
// as every schema migration does.
var InstallDerived = installDerived

// SkipUnchanged lets the tests re-seed every task, unchanged or not.
var SkipUnchanged = &skipUnchanged

// ScopedSyncMax lets the tests choose how many written tasks a re-seeding
// syncs the shares of by ID.
var ScopedSyncMax = &scopedSyncMax

// SeedPass lets the tests choose how many tasks a re-seeding writes per
// pass.
var SeedPass = &seedPass

// Rederive works out again, for every task, what derives from the list
// and the units: unit_tasks, docs, sort keys and shares.
func Rederive(ctx context.Context, s *Store) error {
	return s.write(ctx, func(tx *gorm.DB) error {
		var ids []uint
		if err := tx.Model(&Task{}).Order("id").Pluck("id", &ids).Error; err != nil {
			return err
		}
		if err := deriveTasks(tx, ids, ids); err != nil {
			return err
		}
		return syncShares(tx)
	})
}

// DeriveInGo lets the tests choose how a first seeding derives its
// unit_tasks and shares on each database.
var DeriveInGo = deriveInGo
