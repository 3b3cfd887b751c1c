package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Audit actions: every change users make leaves one.
const (
	ActionProgress          = "progress"
	ActionMilestoneDone     = "milestone_done"
	ActionCloseRequested    = "close_requested"
	ActionExtensionAsked    = "extension_requested"
	ActionClosed            = "closed"
	ActionMilestoneApproved = "milestone_close_approved"
	ActionSentBack          = "sent_back"
	ActionExtensionApproved = "extension_approved"
	ActionExtensionRejected = "extension_rejected"
	ActionMilestoneSettled  = "milestone_settled"
	ActionShareConfirmed    = "share_confirmed"
	ActionShareSentBack     = "share_sent_back"
	ActionShareNA           = "share_not_concerned"
	ActionReopened          = "reopened"
	ActionSuperseded        = "superseded"
	ActionBind              = "bind"
	ActionUnbind            = "unbind"
)

// decisions are the actions that settle a request (close-out or extension).
var decisions = []string{ActionClosed, ActionMilestoneApproved, ActionSentBack, ActionExtensionApproved, ActionExtensionRejected, ActionSuperseded}

// Actor is who makes a change: a Slack user ID (or the console's --as) and
// the name shown for them.
type Actor struct {
	ID   string
	Name string
}

// Label is the actor's name, or their ID.
func (a Actor) Label() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// Audit is one append-only record of a change: who, what, when. Rows are
// never updated or deleted.
type Audit struct {
	ID          uint      `gorm:"primaryKey"`
	At          time.Time `gorm:"not null;index"`
	Actor       string    `gorm:"size:64;not null"`
	ActorName   string    `gorm:"size:128;not null;default:''"`
	Action      string    `gorm:"size:32;not null"`
	TaskID      *uint     `gorm:"index"`
	MilestoneID *uint
	// ProgressID is the entry the change made, or the request it decided.
	ProgressID *uint `gorm:"index"`
	UnitID     *uint
	Details    string `gorm:"type:text;not null;default:''"`
}

// audit appends a record in tx, stamped with the store's clock.
func (s *Store) audit(tx *gorm.DB, a Audit) error {
	a.At = s.now()
	return tx.Create(&a).Error
}

// TaskAudits returns a task's audit records, oldest first.
func (s *Store) TaskAudits(ctx context.Context, taskID uint) ([]Audit, error) {
	var out []Audit
	if err := s.db.WithContext(ctx).Where("task_id = ?", taskID).Order("at, id").Find(&out).Error; err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// BeforeSave keeps a decision's text valid UTF-8 (CleanText).
func (a *Audit) BeforeSave(*gorm.DB) error {
	a.Details, a.ActorName = CleanText(a.Details), CleanText(a.ActorName)
	return nil
}
