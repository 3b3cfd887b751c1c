package storage

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// bulkRows are rows for one table, inserted many to a statement.
type bulkRows struct {
	table  string
	cols   []string
	suffix string // after the VALUES, e.g. ON CONFLICT …
	args   []any  // len(cols) per row
}

func (b *bulkRows) add(values ...any) { b.args = append(b.args, values...) }

// insert writes the rows: on PostgreSQL as one array per column
// (insertArrays), elsewhere 500 to a statement (within SQLite's limit on
// parameters).
func (b *bulkRows) insert(tx *gorm.DB) error {
	if tx.Dialector.Name() == Postgres && b.suffix == "" {
		return b.insertArrays(tx)
	}
	n := len(b.cols)
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	for start := 0; start < len(b.args); start += 500 * n {
		chunk := b.args[start:min(start+500*n, len(b.args))]
		q := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)/n), ", ") + b.suffix
		if err := tx.Exec(q, chunk...).Error; err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
	}
	return nil
}

// arrayRows is how many rows insertArrays sends per statement.
const arrayRows = 5000

// insertArrays writes the rows on PostgreSQL as
// INSERT … SELECT * FROM unnest($1::type[], $2::type[], …): one parameter
// per column, each an array of that column's values, so that 100,000 rows
// are a few statements instead of hundreds, parsed and planned once (a
// first seeding's 100,000 tasks and their children took 16–19 s 500 rows
// to a statement, 11–12 s as arrays). The arrays go to pgx as typed Go
// slices, past gorm, which would spread a slice into a list of parameters.
func (b *bulkRows) insertArrays(tx *gorm.DB) error {
	n := len(b.cols)
	if n == 0 || len(b.args) == 0 {
		return nil
	}
	var types []struct{ Name, Type string }
	err := tx.Raw(`SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
		WHERE attrelid = CAST(? AS regclass) AND attnum > 0 AND NOT attisdropped`, b.table).Scan(&types).Error
	if err != nil {
		return fmt.Errorf("%s: %w", b.table, err)
	}
	typeOf := map[string]string{}
	for _, t := range types {
		typeOf[t.Name] = t.Type
	}
	params := make([]string, n)
	for i, c := range b.cols {
		t, ok := typeOf[c]
		if !ok {
			return fmt.Errorf("storage: %s has no column %s", b.table, c)
		}
		params[i] = fmt.Sprintf("CAST($%d AS %s[])", i+1, t)
	}
	q := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") SELECT * FROM unnest(" + strings.Join(params, ", ") + ")"
	for start := 0; start < len(b.args); start += arrayRows * n {
		chunk := b.args[start:min(start+arrayRows*n, len(b.args))]
		arrays := make([]any, n)
		for c := range n {
			if arrays[c], err = column(chunk, c, n); err != nil {
				return fmt.Errorf("%s.%s: %w", b.table, b.cols[c], err)
			}
		}
		if _, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, q, arrays...); err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
	}
	return nil
}

// column returns column c of rows (n values each) as a slice pgx sends as
// an array: of int64, string, bool or time.Time, each a pointer so that a
// NULL (a nil, or a Valuer giving nil such as a zero Date) stays one.
func column(rows []any, c, n int) (any, error) {
	vals := make([]any, 0, len(rows)/n)
	kind := ""
	for i := c; i < len(rows); i += n {
		v := rows[i]
		if dv, ok := v.(driver.Valuer); ok {
			var err error
			if v, err = dv.Value(); err != nil {
				return nil, err
			}
		}
		var k string
		switch x := v.(type) {
		case nil:
		case int:
			v, k = int64(x), "int"
		case uint:
			v, k = int64(x), "int"
		case int64:
			k = "int"
		case string:
			k = "string"
		case bool:
			k = "bool"
		case time.Time:
			k = "time"
		default:
			return nil, fmt.Errorf("storage: cannot send %T in an array", v)
		}
		if k != "" && kind != "" && k != kind {
			return nil, fmt.Errorf("storage: a column of both %s and %s", kind, k)
		}
		if k != "" {
			kind = k
		}
		vals = append(vals, v)
	}
	switch kind {
	case "int":
		return pointers[int64](vals), nil
	case "bool":
		return pointers[bool](vals), nil
	case "time":
		return pointers[time.Time](vals), nil
	}
	return pointers[string](vals), nil // text, or every value NULL
}

func pointers[T any](vals []any) []*T {
	out := make([]*T, len(vals))
	for i, v := range vals {
		if v != nil {
			x := v.(T)
			out[i] = &x
		}
	}
	return out
}
