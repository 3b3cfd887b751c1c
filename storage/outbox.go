package storage

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ReminderStep records that one step of one milestone's reminders (d30 …
// d0 before the due date, o1, o2 … every interval after it, or a monthly
// nudge) was claimed. Its unique key is the exactly-once guarantee: a step
// is planned, and its messages enqueued, by exactly one pass of one process.
type ReminderStep struct {
	ID          uint   `gorm:"primaryKey"`
	Key         string `gorm:"size:96;not null;uniqueIndex"`
	MilestoneID *uint  `gorm:"index"`
	TaskID      uint   `gorm:"not null;index"`
	Step        string `gorm:"size:32;not null"`
	FireOn      Date   `gorm:"type:varchar(10);not null"`
	CreatedAt   time.Time
}

// Outbox is one message to deliver: a reminder to one unit, an escalation,
// a digest. It is written in the same transaction as the claim that caused
// it, then delivered at least once by whichever process leases it; SentAt
// is set only after the chat platform accepted it.
type Outbox struct {
	ID uint `gorm:"primaryKey"`
	// Key identifies the message for dedupe (e.g. "digest:2021-09-23").
	Key  string `gorm:"size:128;not null;uniqueIndex"`
	Kind string `gorm:"size:16;not null"`
	// Group orders delivery: a message is not sent while an earlier one
	// of its group is unsent (a task's thread posts stay in order).
	Group string `gorm:"column:grp;size:64;not null;default:'';index"`
	// Payload is the message, encoded by the core (opaque here).
	Payload       string `gorm:"type:text;not null"`
	CreatedAt     time.Time
	NextAttemptAt time.Time `gorm:"not null;index:idx_outbox_pending,priority:2"`
	Attempts      int       `gorm:"not null;default:0"`
	LastError     string    `gorm:"type:text;not null;default:''"`
	LeasedBy      string    `gorm:"size:64;not null;default:''"`
	LeasedUntil   *time.Time
	SentAt        *time.Time `gorm:"index:idx_outbox_pending,priority:1"`
	// DeadAt is set when delivery was given up (see MarkDead); the message
	// and its last error stay for the record.
	DeadAt *time.Time
	// Uncertain: an earlier lease of it ran out with no outcome recorded:
	// its sender may have died after the platform accepted it, so the
	// next sender looks before sending again (set by Lease).
	Uncertain bool `gorm:"not null;default:false"`
}

// ClaimedSteps returns the keys of the reminder steps already claimed for
// the given tasks.
func (s *Store) ClaimedSteps(ctx context.Context, taskIDs []uint) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(taskIDs); start += 5000 {
		var keys []string
		end := min(start+5000, len(taskIDs))
		if err := s.db.WithContext(ctx).Model(&ReminderStep{}).Where("task_id IN ?", taskIDs[start:end]).Pluck("key", &keys).Error; err != nil {
			return nil, Internal(err)
		}
		for _, k := range keys {
			out[k] = true
		}
	}
	return out, nil
}

// Claim records steps and enqueues msgs in one transaction, all or nothing:
// when another pass claimed any of the steps first it returns ECONFLICT and
// writes nothing, and the caller plans again. A message whose key exists
// already is skipped. It returns the messages enqueued.
func (s *Store) Claim(ctx context.Context, steps []ReminderStep, msgs []Outbox) ([]Outbox, error) {
	var queued []Outbox
	err := s.write(ctx, func(tx *gorm.DB) error {
		queued = nil
		// The unique key decides: a step another pass claimed first makes
		// the insert fail and the whole claim roll back.
		// Plain multi-row INSERTs: a first pass over a large list claims
		// thousands of steps, and gorm's per-row reflection would dominate.
		now := s.now()
		for start := 0; start < len(steps); start += 150 {
			batch := steps[start:min(start+150, len(steps))]
			marks := make([]string, len(batch))
			args := make([]any, 0, len(batch)*6)
			for i, st := range batch {
				marks[i] = "(?, ?, ?, ?, ?, ?)"
				args = append(args, st.Key, st.MilestoneID, st.TaskID, st.Step, st.FireOn, now)
			}
			err := tx.Exec("INSERT INTO reminder_steps (key, milestone_id, task_id, step, fire_on, created_at) VALUES "+
				strings.Join(marks, ", "), args...).Error
			if isUniqueViolation(err) {
				return errClaimed
			}
			if err != nil {
				return err
			}
		}
		for _, m := range msgs {
			var n int64
			if err := tx.Model(&Outbox{}).Where("key = ?", m.Key).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			m.CreatedAt = s.now()
			if m.NextAttemptAt.IsZero() {
				m.NextAttemptAt = m.CreatedAt
			}
			m.NextAttemptAt = m.NextAttemptAt.UTC()
			if err := tx.Create(&m).Error; err != nil {
				return err
			}
			queued = append(queued, m)
		}
		return nil
	})
	if errors.Is(err, errClaimed) {
		return nil, Errorf(ECONFLICT, "提醒已由其他进程处理")
	}
	if err != nil {
		return nil, Internal(err)
	}
	return queued, nil
}

var errClaimed = errors.New("storage: reminder step claimed by another pass")

// isUniqueViolation reports a unique-constraint failure (SQLite and
// PostgreSQL word it differently; gorm translates neither by default).
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(msg, "UNIQUE constraint failed") ||
		strings.Contains(msg, "duplicate key value")
}

// Enqueue adds one message unless a message with its key exists. It
// reports whether it was added.
func (s *Store) Enqueue(ctx context.Context, m Outbox) (bool, error) {
	q, err := s.Claim(ctx, nil, []Outbox{m})
	return len(q) == 1, err
}

// Lease takes up to limit unsent messages whose next attempt is due at now
// and that no live lease holds, for holder, until now+ttl; with prefixes,
// only messages whose key starts with one of them. A message waits while an
// earlier message of its group is unsent. A message is leased by one
// holder at a time, so two processes never send it together.
func (s *Store) Lease(ctx context.Context, holder string, now time.Time, ttl time.Duration, limit int, prefixes []string) ([]Outbox, error) {
	now = now.UTC()
	const due = `sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= ? AND (leased_until IS NULL OR leased_until < ?)`
	const inOrder = `(grp = '' OR NOT EXISTS (SELECT 1 FROM outboxes e WHERE e.grp = outboxes.grp AND e.id < outboxes.id
			AND e.sent_at IS NULL AND e.dead_at IS NULL))`
	cond, args := due+" AND "+inOrder, []any{now, now}
	if len(prefixes) > 0 {
		keys, keyArgs := keyPrefixes(prefixes)
		cond += " AND " + keys
		args = append(args, keyArgs...)
	}
	until := now.Add(ttl)
	// An unexpired lease is never taken, so one still set had expired: its
	// holder recorded nothing, and may have sent it (Uncertain).
	set := map[string]any{"leased_by": holder, "leased_until": until,
		"uncertain": gorm.Expr("uncertain OR leased_until IS NOT NULL")}
	if s.dialect == Postgres {
		// One statement: rows another replica is leasing right now are
		// skipped, not waited for.
		var out []Outbox
		err := s.db.WithContext(ctx).Raw(`UPDATE outboxes SET leased_by = ?, leased_until = ?,
			uncertain = (uncertain OR leased_until IS NOT NULL)
			WHERE id IN (SELECT id FROM outboxes WHERE `+cond+` ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING *`, append(append([]any{holder, until}, args...), limit)...).Scan(&out).Error
		if err != nil {
			return nil, Internal(err)
		}
		sort.Slice(out, func(i, j int) bool {
			if !out[i].NextAttemptAt.Equal(out[j].NextAttemptAt) {
				return out[i].NextAttemptAt.Before(out[j].NextAttemptAt)
			}
			return out[i].ID < out[j].ID
		})
		return out, nil
	}
	var ids []uint
	// A few more candidates than needed: another process may take some.
	err := s.db.WithContext(ctx).Model(&Outbox{}).Where(cond, args...).Order("next_attempt_at, id").Limit(limit*4+4).Pluck("id", &ids).Error
	if err != nil {
		return nil, Internal(err)
	}
	var out []Outbox
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		res := s.db.WithContext(ctx).Model(&Outbox{}).Where("id = ? AND "+due, id, now, now).Updates(set)
		if res.Error != nil {
			return nil, Internal(res.Error)
		}
		if res.RowsAffected == 0 {
			continue // another process took it, or gave it up, in between
		}
		var m Outbox
		if err := s.db.WithContext(ctx).Take(&m, id).Error; err != nil {
			return nil, Internal(err)
		}
		out = append(out, m)
	}
	return out, nil
}

// keyPrefixes is the condition that a message's key starts with one of
// prefixes, and its arguments.
func keyPrefixes(prefixes []string) (string, []any) {
	or := make([]string, len(prefixes))
	args := make([]any, len(prefixes))
	for i, p := range prefixes {
		or[i], args[i] = `key LIKE ? ESCAPE '\'`, likePrefix(p)
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}

// likePrefix makes a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
}

// MarkSent records that the message was accepted by the chat platform.
func (s *Store) MarkSent(ctx context.Context, id uint, holder string, at time.Time) error {
	at = at.UTC()
	err := s.db.WithContext(ctx).Model(&Outbox{}).Where("id = ? AND leased_by = ?", id, holder).
		Updates(map[string]any{"sent_at": at, "leased_until": nil, "attempts": gorm.Expr("attempts + 1")}).Error
	if err != nil {
		return Internal(err)
	}
	return nil
}

// MarkFailed records a failed attempt and when to try again.
func (s *Store) MarkFailed(ctx context.Context, id uint, holder string, cause string, retryAt time.Time) error {
	retryAt = retryAt.UTC()
	err := s.db.WithContext(ctx).Model(&Outbox{}).Where("id = ? AND leased_by = ?", id, holder).
		Updates(map[string]any{"last_error": cause, "next_attempt_at": retryAt, "leased_until": nil,
			"attempts": gorm.Expr("attempts + 1")}).Error
	if err != nil {
		return Internal(err)
	}
	return nil
}

// MarkDead gives up on a message that failed too often; it stays in the
// outbox with its last error and is counted by CountDeadOutbox. It returns
// EINTERNAL when the write fails.
func (s *Store) MarkDead(ctx context.Context, id uint, holder string, cause string) error {
	err := s.db.WithContext(ctx).Model(&Outbox{}).Where("id = ? AND leased_by = ?", id, holder).
		Updates(map[string]any{"last_error": cause, "dead_at": s.now(), "leased_until": nil,
			"attempts": gorm.Expr("attempts + 1")}).Error
	if err != nil {
		return Internal(err)
	}
	return nil
}

// CountDeadOutbox returns how many messages were given up on (see
// MarkDead). It returns EINTERNAL when the query fails.
func (s *Store) CountDeadOutbox(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Outbox{}).Where("dead_at IS NOT NULL").Count(&n).Error; err != nil {
		return 0, Internal(err)
	}
	return int(n), nil
}

// CountPendingOutbox returns how many messages are neither sent nor given
// up on. It returns EINTERNAL when the query fails.
func (s *Store) CountPendingOutbox(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Outbox{}).Where("sent_at IS NULL AND dead_at IS NULL").Count(&n).Error; err != nil {
		return 0, Internal(err)
	}
	return int(n), nil
}

// UnsentOutbox counts the unsent, not given up messages whose key starts
// with one of prefixes: held (a live lease at now: another process is
// sending them) and waiting (their next attempt is after now).
func (s *Store) UnsentOutbox(ctx context.Context, now time.Time, prefixes []string) (held, waiting int, err error) {
	now = now.UTC()
	q := s.db.WithContext(ctx).Model(&Outbox{}).Where("sent_at IS NULL AND dead_at IS NULL")
	if len(prefixes) > 0 {
		keys, args := keyPrefixes(prefixes)
		q = q.Where(keys, args...)
	}
	var row struct{ Held, Waiting int }
	err = q.Select(`COALESCE(SUM(CASE WHEN leased_until IS NOT NULL AND leased_until >= ? THEN 1 ELSE 0 END), 0) AS held,
		COALESCE(SUM(CASE WHEN (leased_until IS NULL OR leased_until < ?) AND next_attempt_at > ? THEN 1 ELSE 0 END), 0) AS waiting`, now, now, now).
		Scan(&row).Error
	if err != nil {
		return 0, 0, Internal(err)
	}
	return row.Held, row.Waiting, nil
}

// ReviveDead queues again every message given up on (MarkDead), its
// attempts counted afresh, due at now; its last error stays until the next
// attempt. It returns how many.
func (s *Store) ReviveDead(ctx context.Context, now time.Time) (int, error) {
	res := s.db.WithContext(ctx).Model(&Outbox{}).Where("dead_at IS NOT NULL AND sent_at IS NULL").
		Updates(map[string]any{"dead_at": nil, "attempts": 0, "next_attempt_at": now.UTC(), "leased_until": nil})
	if res.Error != nil {
		return 0, Internal(res.Error)
	}
	return int(res.RowsAffected), nil
}
