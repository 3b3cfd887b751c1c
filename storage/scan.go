package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// chunks calls f with consecutive slices of ids of at most 5,000 (below
// every backend's bound on query parameters).
func chunks(ids []uint, f func([]uint) error) error { return chunksOf(ids, 5000, f) }

// chunksOf calls f with consecutive slices of ids of at most n.
func chunksOf(ids []uint, n int, f func([]uint) error) error {
	for start := 0; start < len(ids); start += n {
		if err := f(ids[start:min(start+n, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

// scanAll runs query through database/sql, calling row for each row.
func (s *Store) scanAll(ctx context.Context, query string, row func(*sql.Rows) error) error {
	return s.scanRows(ctx, query, nil, row)
}

// scanByIDs runs query (with %s for the IDs' placeholders) in chunks of ids
// through database/sql, calling row for each row.
func (s *Store) scanByIDs(ctx context.Context, query string, taskIDs []uint, row func(*sql.Rows) error) error {
	return chunks(taskIDs, func(ids []uint) error {
		args := make([]any, len(ids))
		marks := make([]string, len(ids))
		for i, id := range ids {
			args[i], marks[i] = id, "?"
		}
		return s.scanRows(ctx, fmt.Sprintf(query, strings.Join(marks, ",")), args, row)
	})
}

// scanRows runs query and calls row for each row, scanning with
// database/sql (gorm's reflection costs more than the query on thousands
// of rows). The query goes through gorm, so "?" placeholders follow the
// dialect (PostgreSQL's $1…).
func (s *Store) scanRows(ctx context.Context, query string, args []any, row func(*sql.Rows) error) error {
	return scanIn(s.db.WithContext(ctx), query, args, row)
}

// scanIn is scanRows on db (a transaction, say).
func scanIn(db *gorm.DB, query string, args []any, row func(*sql.Rows) error) error {
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
