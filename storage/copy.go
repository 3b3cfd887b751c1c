package storage

import (
	"context"
	"fmt"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// TableCount is one table's rows in a copy: read from the source and
// found in the target afterwards.
type TableCount struct {
	Table        string
	Source, Copy int64
}

// CopyTo copies every row of every table from s into to, keys and all, in
// one transaction: to must be empty (no tasks), and on any error nothing
// is left in it. On PostgreSQL the id sequences are moved past the copied
// ids. It returns each table's counts, source and copy; a difference is
// an error (EINTERNAL). Moving a deployment from SQLite to PostgreSQL is
// `taskbot copy-db`.
func (s *Store) CopyTo(ctx context.Context, to *Store) ([]TableCount, error) {
	var n int64
	if err := to.db.WithContext(ctx).Model(&Task{}).Count(&n).Error; err != nil {
		return nil, Internal(err)
	}
	if n > 0 {
		return nil, Errorf(ECONFLICT, "目标数据库已有数据（%d 项任务），未复制：请使用空数据库。", n)
	}
	var counts []TableCount
	err := to.write(ctx, func(tx *gorm.DB) error {
		// Rows written by the seed of an empty target's first start (the
		// meta rows of its schema) give way to the source's.
		if err := tx.Exec("DELETE FROM meta").Error; err != nil {
			return err
		}
		for _, m := range models() {
			stmt := &gorm.Statement{DB: s.db}
			if err := stmt.Parse(m); err != nil {
				return err
			}
			table := stmt.Schema.Table
			var src int64
			if err := s.db.WithContext(ctx).Model(m).Count(&src).Error; err != nil {
				return err
			}
			var order []clause.OrderByColumn
			for _, f := range stmt.Schema.PrimaryFields {
				order = append(order, clause.OrderByColumn{Column: clause.Column{Name: f.DBName}})
			}
			const size = 500
			for off := 0; ; off += size {
				batch := reflect.New(reflect.SliceOf(reflect.TypeOf(m).Elem()))
				q := s.db.WithContext(ctx).Model(m).Limit(size).Offset(off)
				for _, o := range order {
					q = q.Order(o)
				}
				if err := q.Find(batch.Interface()).Error; err != nil {
					return fmt.Errorf("%s: %w", table, err)
				}
				if batch.Elem().Len() == 0 {
					break
				}
				// As column maps: gorm would put a column's default in place
				// of a struct's zero value (a milestone not open would
				// become open).
				rows := make([]map[string]any, batch.Elem().Len())
				for i := range rows {
					row := batch.Elem().Index(i)
					rows[i] = map[string]any{}
					for _, f := range stmt.Schema.Fields {
						if f.DBName != "" {
							v, _ := f.ValueOf(ctx, row)
							rows[i][f.DBName] = v
						}
					}
				}
				if err := tx.Table(table).Create(rows).Error; err != nil {
					return fmt.Errorf("%s: %w", table, err)
				}
				if batch.Elem().Len() < size {
					break
				}
			}
			var dst int64
			if err := tx.Model(m).Count(&dst).Error; err != nil {
				return err
			}
			counts = append(counts, TableCount{Table: table, Source: src, Copy: dst})
			if dst != src {
				return fmt.Errorf("%s: %d rows copied of %d", table, dst, src)
			}
			if pk := stmt.Schema.PrioritizedPrimaryField; to.dialect == Postgres && pk != nil && pk.AutoIncrement && len(stmt.Schema.PrimaryFields) == 1 {
				col := pk.DBName
				err := tx.Exec(fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)`,
					table, col, col, table)).Error
				if err != nil {
					return fmt.Errorf("%s: sequence: %w", table, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return counts, Internal(err)
	}
	return counts, nil
}
