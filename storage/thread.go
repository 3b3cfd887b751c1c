package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Thread is a task's parent message in the tracking channel: every entry
// on the task is posted as a reply to it. One per task.
type Thread struct {
	TaskID    uint   `gorm:"primaryKey"`
	Channel   string `gorm:"size:64;not null;uniqueIndex:idx_threads_channel_ts,priority:1"`
	TS        string `gorm:"size:32;not null;uniqueIndex:idx_threads_channel_ts,priority:2"`
	CreatedAt time.Time
	Task      *Task `gorm:"constraint:OnDelete:CASCADE"`
}

// FindThread returns the task's thread. It returns ENOTFOUND when the task
// has none (or does not exist) and EINTERNAL when the query fails.
func (s *Store) FindThread(ctx context.Context, taskID uint) (*Thread, error) {
	var th Thread
	err := s.db.WithContext(ctx).Where("task_id = ?", taskID).Take(&th).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "该任务还没有跟踪线程")
	}
	if err != nil {
		return nil, Internal(err)
	}
	return &th, nil
}

// FindThreadByTS returns the thread whose parent message is ts in channel.
// It returns ENOTFOUND when that message is no task's thread and EINTERNAL
// when the query fails.
func (s *Store) FindThreadByTS(ctx context.Context, channel, ts string) (*Thread, error) {
	var th Thread
	err := s.db.WithContext(ctx).Where("channel = ? AND ts = ?", channel, ts).Take(&th).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "不是任务跟踪线程")
	}
	if err != nil {
		return nil, Internal(err)
	}
	return &th, nil
}

// Threads returns the tracking threads of the tasks that have one, by task
// ID; tasks without one are absent. It returns EINTERNAL when a query fails.
func (s *Store) Threads(ctx context.Context, taskIDs []uint) (map[uint]Thread, error) {
	out := map[uint]Thread{}
	err := chunks(taskIDs, func(ids []uint) error {
		var rows []Thread
		err := s.db.WithContext(ctx).Where("task_id IN ?", ids).Find(&rows).Error
		for _, t := range rows {
			out[t.TaskID] = t
		}
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// CreateThread remembers a task's parent message. When the task already has
// one (another process created it first), that one is kept and returned,
// without error. It returns ENOTFOUND, writing nothing, when the message is
// already another task's thread, and EINTERNAL when the write fails (for a
// task that does not exist too).
func (s *Store) CreateThread(ctx context.Context, th Thread) (*Thread, error) {
	th.CreatedAt = s.now()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Omit(clause.Associations).Create(&th).Error
	if err != nil {
		return nil, Internal(err)
	}
	return s.FindThread(ctx, th.TaskID)
}
