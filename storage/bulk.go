package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// bulkRows are rows for one table, inserted many to a statement: added
// one by one (add), or made as they are sent (count and fill), which
// keeps millions of derived rows from being held as values first.
type bulkRows struct {
	table  string
	cols   []string
	suffix string // after the VALUES, e.g. ON CONFLICT …
	args   []any  // len(cols) per row

	count int                    // rows made by fill
	fill  func(i int, row []any) // sets row i's values, in cols' order
}

func (b *bulkRows) add(values ...any) { b.args = append(b.args, values...) }

func (b *bulkRows) rows() int {
	if b.fill != nil {
		return b.count
	}
	return len(b.args) / len(b.cols)
}

// row sets row i's values into dst.
func (b *bulkRows) row(i int, dst []any) {
	if b.fill != nil {
		b.fill(i, dst)
		return
	}
	copy(dst, b.args[i*len(b.cols):])
}

// insert writes the rows: on PostgreSQL, in a transaction begun by
// Store.writeBulk, with COPY; otherwise 500 to a statement (within
// SQLite's limit on parameters).
func (b *bulkRows) insert(tx *gorm.DB) error {
	if tx.Dialector.Name() == Postgres && b.suffix == "" {
		if conn, ok := tx.Statement.Context.Value(bulkConnKey{}).(*sql.Conn); ok {
			return b.copy(tx.Statement.Context, conn)
		}
	}
	n := len(b.cols)
	values := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	var chunk []any
	for start := 0; start < b.rows(); start += 500 {
		end := min(start+500, b.rows())
		chunk = slices.Grow(chunk[:0], (end-start)*n)[:(end-start)*n]
		for i := start; i < end; i++ {
			b.row(i, chunk[(i-start)*n:(i-start+1)*n])
		}
		q := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(values+", ", end-start), ", ") + b.suffix
		if err := tx.Exec(q, chunk...).Error; err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
	}
	return nil
}

// bulkConnKey keys, in the context of a transaction begun by
// Store.writeBulk, the *sql.Conn it runs on.
type bulkConnKey struct{}

// copy writes the rows on PostgreSQL with COPY, in the transaction open on
// conn: they stream to the server as they are made and encoded, and it
// writes them in batches. A first seeding's 100,000 tasks and their
// children took 16–19 s 500 rows to a statement, 11–12 s as one array per
// column (INSERT … SELECT FROM unnest), 7–9 s by COPY.
func (b *bulkRows) copy(ctx context.Context, conn *sql.Conn) error {
	n := len(b.cols)
	if n == 0 || b.rows() == 0 {
		return nil
	}
	row := make([]any, n)
	next := func(i int) ([]any, error) {
		b.row(i, row)
		for c, v := range row {
			var err error
			if row[c], err = pgValue(v); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", b.table, b.cols[c], err)
			}
		}
		return row, nil // pgx encodes it before asking for the next
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage: COPY on a %T", dc)
		}
		if _, err := c.Conn().CopyFrom(ctx, pgx.Identifier{b.table}, b.cols, pgx.CopyFromSlice(b.rows(), next)); err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
		return nil
	})
}

// pgValue is v as COPY sends it: an unsigned integer as an int64, a
// Valuer (such as Date) as its value.
func pgValue(v any) (any, error) {
	switch x := v.(type) {
	case uint:
		return int64(x), nil
	case driver.Valuer:
		return x.Value()
	}
	return v, nil
}
