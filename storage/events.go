package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// SlackEvent is an Events API event_id being processed or processed, so
// that Slack's retries of it, to this process or another, after a restart
// or not, do the work once.
type SlackEvent struct {
	ID string    `gorm:"primaryKey;size:64"`
	At time.Time `gorm:"not null;index"` // claimed, or processed
}

// ClaimEvent reports whether the caller should process event id: true for
// an id not seen, or seen more than ttl ago (work that hung, or an old
// one); false while another delivery holds it or after it was done. One
// caller wins a race (the id is the primary key).
func (s *Store) ClaimEvent(ctx context.Context, id string, now time.Time, ttl time.Duration) (bool, error) {
	db := s.db.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&SlackEvent{ID: id, At: now.UTC()})
	if res.Error != nil {
		return false, Internal(res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	res = db.Model(&SlackEvent{}).Where("id = ? AND at < ?", id, now.Add(-ttl).UTC()).
		Update("at", now.UTC())
	if res.Error != nil {
		return false, Internal(res.Error)
	}
	return res.RowsAffected == 1, nil
}

// FinishEvent records a claim's outcome: done (retries are ignored for
// ttl), or released for Slack's retry. Ids older than ttl are forgotten.
func (s *Store) FinishEvent(ctx context.Context, id string, ok bool, now time.Time, ttl time.Duration) error {
	db := s.db.WithContext(ctx)
	var err error
	if ok {
		err = db.Model(&SlackEvent{}).Where("id = ?", id).Update("at", now.UTC()).Error
	} else {
		err = db.Where("id = ?", id).Delete(&SlackEvent{}).Error
	}
	if err == nil {
		err = db.Where("at < ?", now.Add(-ttl).UTC()).Delete(&SlackEvent{}).Error
	}
	if err != nil {
		return Internal(err)
	}
	return nil
}
