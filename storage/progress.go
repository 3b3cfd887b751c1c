package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kinds of progress entries.
const (
	KindReport           = "report"            // 进展
	KindDone             = "done"              // 完成节点
	KindCloseRequest     = "close_request"     // 申请销号
	KindExtensionRequest = "extension_request" // 申请延期
)

// Progress is one append-only entry reported on a task: never updated or
// deleted; a correction is a new entry.
type Progress struct {
	ID     uint `gorm:"primaryKey"`
	TaskID uint `gorm:"not null;index:idx_progress_task,priority:1"`
	// MilestoneID and MilestoneSeq name the milestone the entry is about
	// (nil and 0 for the task as a whole).
	MilestoneID  *uint
	MilestoneSeq int `gorm:"not null;default:0"`
	// idx_progress_kind finds the requests (close-out, extension) among
	// the entries, so that the open ones are read without visiting every
	// task (pending asked every time).
	Kind       string `gorm:"size:24;not null;index:idx_progress_kind,priority:1"`
	Author     string `gorm:"size:64;not null"` // Slack ID or the console's --as
	AuthorName string `gorm:"size:128;not null;default:''"`
	UnitID     *uint
	UnitName   string `gorm:"size:128;not null;default:''"` // the unit reported for
	Text       string `gorm:"type:text;not null"`
	Percent    *int
	Evidence   string `gorm:"type:text;not null;default:''"` // links, one per line
	// ExtendTo is the date an extension request asks for.
	ExtendTo Date   `gorm:"type:varchar(10)"`
	Source   string `gorm:"size:16;not null;default:''"` // console, slack, thread
	// Channel and SlackTS identify the Slack message a thread reply came
	// from, so that a redelivered event is not recorded twice.
	Channel   string    `gorm:"size:64;not null;default:'';uniqueIndex:idx_progress_slack_msg,priority:1,where:slack_ts <> ''"`
	SlackTS   string    `gorm:"size:32;not null;default:'';uniqueIndex:idx_progress_slack_msg,priority:2,where:slack_ts <> ''"`
	CreatedAt time.Time `gorm:"index:idx_progress_task,priority:2;index:idx_progress_kind,priority:2"`

	// Attachments are the files shared with the entry; their URLs are in
	// Evidence too. Written with the entry; read with Attachments.
	Attachments []Attachment `gorm:"-"`

	Task *Task `gorm:"constraint:OnDelete:CASCADE"`
}

// Attachment is a file shared with a progress entry as evidence: the chat
// platform's file ID, its name, type and size, and the link to it that the
// people deciding can open.
type Attachment struct {
	ID         uint   `gorm:"primaryKey"`
	ProgressID uint   `gorm:"not null;index"`
	FileID     string `gorm:"size:64;not null;default:''"`
	Name       string `gorm:"type:text;not null;default:''"`
	Mime       string `gorm:"size:128;not null;default:''"`
	Size       int64  `gorm:"not null;default:0"`
	URL        string `gorm:"type:text;not null;default:''"`
}

// Attachments returns the files of the given entries, by entry.
func (s *Store) Attachments(ctx context.Context, progressIDs []uint) (map[uint][]Attachment, error) {
	out := map[uint][]Attachment{}
	err := chunks(progressIDs, func(ids []uint) error {
		var rows []Attachment
		err := s.db.WithContext(ctx).Where("progress_id IN ?", ids).Order("id").Find(&rows).Error
		for _, a := range rows {
			out[a.ProgressID] = append(out[a.ProgressID], a)
		}
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// EvidenceLinks returns the entry's evidence links.
func (p *Progress) EvidenceLinks() []string {
	if p.Evidence == "" {
		return nil
	}
	return strings.Split(p.Evidence, "\n")
}

var kindAction = map[string]string{
	KindReport:           ActionProgress,
	KindDone:             ActionMilestoneDone,
	KindCloseRequest:     ActionCloseRequested,
	KindExtensionRequest: ActionExtensionAsked,
}

// ErrAlreadyRecorded is the cause of the ECONFLICT error that CreateProgress
// returns for a Slack message recorded before (a redelivered event):
// errors.Is(err, ErrAlreadyRecorded) tells it from the other conflicts,
// while ErrorCode and ErrorMessage read the *Error around it as usual.
var ErrAlreadyRecorded = errors.New("storage: Slack message already recorded as progress")

// alreadyRecorded is the error for a Slack message recorded before.
func alreadyRecorded() *Error {
	return &Error{Code: ECONFLICT, Message: "该消息已记录为进展", Err: ErrAlreadyRecorded}
}

// CreateProgress appends p (TaskID, Kind, Author, Text set; MilestoneSeq
// when the entry is about a milestone) with its audit record, in one
// transaction. A KindDone entry reports the share of p's unit (UnitID
// required) done, for a supervisor to confirm (see ConfirmShares). It returns
// ENOTFOUND for an unknown task or milestone; ECONFLICT when the task is
// closed (for anything but a report), the milestone is already done, or
// the same Slack message was recorded before (that error wraps
// ErrAlreadyRecorded, and p then holds the earlier entry); EINVALID for an
// unknown kind, a done or extension entry without a milestone, or an
// extension to a date not after the current one; and EINTERNAL when the
// database fails, in which case nothing was written.
func (s *Store) CreateProgress(ctx context.Context, p *Progress) error {
	if kindAction[p.Kind] == "" {
		return Errorf(EINVALID, "未知的进展类型 %q", p.Kind)
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		if p.SlackTS != "" {
			var prev Progress
			err := tx.Where("channel = ? AND slack_ts = ?", p.Channel, p.SlackTS).Take(&prev).Error
			if err == nil {
				*p = prev
				return alreadyRecorded()
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		var t Task
		if err := tx.Take(&t, p.TaskID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return Errorf(ENOTFOUND, "没有找到该任务")
		} else if err != nil {
			return err
		}
		if t.Closed() && p.Kind != KindReport {
			return Errorf(ECONFLICT, "任务 %s 已销号", t.Code)
		}
		var m *Milestone
		if p.MilestoneSeq > 0 {
			var err error
			if m, err = findMilestone(tx, &t, p.MilestoneSeq); err != nil {
				return err
			}
			p.MilestoneID = &m.ID
		}
		now := s.now()
		p.CreatedAt = now
		switch p.Kind {
		case KindDone, KindExtensionRequest:
			if m == nil {
				return Errorf(EINVALID, "请指明节点")
			}
			if m.Done() {
				return Errorf(ECONFLICT, "节点%d 已完成", m.Seq)
			}
		}
		if p.Kind == KindExtensionRequest && !m.Due.Before(p.ExtendTo) {
			return Errorf(EINVALID, "延期日期 %s 须晚于节点%d 现在的时限 %s", p.ExtendTo, m.Seq, m.Due)
		}
		if p.Kind == KindCloseRequest && m != nil && m.Done() {
			return Errorf(ECONFLICT, "节点%d 已完成", m.Seq)
		}
		if err := tx.Omit(clause.Associations).Create(p).Error; err != nil {
			if isUniqueViolation(err) { // the same Slack message, delivered twice at once
				return alreadyRecorded()
			}
			return err
		}
		for i := range p.Attachments {
			a := p.Attachments[i]
			a.ID, a.ProgressID = 0, p.ID
			if err := tx.Create(&a).Error; err != nil {
				return err
			}
			p.Attachments[i] = a
		}
		if p.Kind == KindDone {
			if err := s.reportShare(tx, &t, m, p); err != nil {
				return err
			}
		}
		if p.Kind == KindExtensionRequest {
			// A newer request supersedes the older ones still pending on
			// the milestone: an approval can only ever apply the newest.
			if err := s.supersede(tx, &t, m, p); err != nil {
				return err
			}
		}
		return s.audit(tx, Audit{Actor: p.Author, ActorName: p.AuthorName, Action: kindAction[p.Kind],
			TaskID: &t.ID, MilestoneID: p.MilestoneID, ProgressID: &p.ID, UnitID: p.UnitID, Details: auditText(p)})
	})
	if err != nil {
		return txError(err)
	}
	return nil
}

func auditText(p *Progress) string {
	var b strings.Builder
	if p.UnitName != "" {
		fmt.Fprintf(&b, "[%s] ", p.UnitName)
	}
	if p.MilestoneSeq > 0 {
		fmt.Fprintf(&b, "节点%d ", p.MilestoneSeq)
	}
	if !p.ExtendTo.IsZero() {
		fmt.Fprintf(&b, "延期至 %s ", p.ExtendTo)
	}
	if p.Percent != nil {
		fmt.Fprintf(&b, "%d%% ", *p.Percent)
	}
	b.WriteString(p.Text)
	return b.String()
}

func findMilestone(tx *gorm.DB, t *Task, seq int) (*Milestone, error) {
	var m Milestone
	err := tx.Where("task_id = ? AND seq = ? AND NOT retired", t.ID, seq).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		var n int64
		tx.Model(&Milestone{}).Where("task_id = ? AND NOT retired", t.ID).Count(&n)
		if n == 0 {
			return nil, Errorf(ENOTFOUND, "任务 %s 没有带日期的节点", t.Code)
		}
		return nil, Errorf(ENOTFOUND, "任务 %s 没有节点%d（共 %d 个节点）", t.Code, seq, n)
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// pending returns the latest request of kind on the task (on the milestone
// when milestoneID is not nil) that no decision has settled, or nil.
func pending(tx *gorm.DB, taskID uint, kind string, milestoneID *uint) (*Progress, error) {
	q := tx.Where("task_id = ? AND kind = ?", taskID, kind).
		Where("NOT EXISTS (SELECT 1 FROM audits a WHERE a.progress_id = progresses.id AND a.action IN ?)", decisions)
	if milestoneID != nil {
		q = q.Where("milestone_id = ?", *milestoneID)
	}
	var p Progress
	err := q.Order("id DESC").Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// PendingRequests returns the task's unsettled close-out and extension
// requests, newest first.
func (s *Store) PendingRequests(ctx context.Context, taskID uint) ([]Progress, error) {
	var out []Progress
	err := s.db.WithContext(ctx).Where("task_id = ? AND kind IN ?", taskID, []string{KindCloseRequest, KindExtensionRequest}).
		Where("NOT EXISTS (SELECT 1 FROM audits a WHERE a.progress_id = progresses.id AND a.action IN ?)", decisions).
		Order("id DESC").Find(&out).Error
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// settleMilestone settles the requests still pending on a milestone that
// was just marked done (except decided, the one the decision answered):
// a close-out or an extension of a done milestone is moot.
func (s *Store) settleMilestone(tx *gorm.DB, taskID, milestoneID uint, decided *Progress, actor Actor) error {
	var open []Progress
	err := tx.Where("task_id = ? AND milestone_id = ? AND kind IN ?", taskID, milestoneID, []string{KindCloseRequest, KindExtensionRequest}).
		Where("NOT EXISTS (SELECT 1 FROM audits a WHERE a.progress_id = progresses.id AND a.action IN ?)", decisions).
		Find(&open).Error
	if err != nil {
		return err
	}
	for i := range open {
		if decided != nil && open[i].ID == decided.ID {
			continue
		}
		err := s.audit(tx, Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionMilestoneApproved, TaskID: &taskID,
			MilestoneID: &milestoneID, ProgressID: &open[i].ID, Details: "随节点完成"})
		if err != nil {
			return err
		}
	}
	return nil
}

// Decision is the outcome of a supervisor's decision: the request it
// settled (nil when there was none) and the milestone it changed.
type Decision struct {
	Request   *Progress
	Milestone *Milestone
}

// CloseTask closes the task out (销号): ClosedAt is set and every milestone
// leaves the open lists, with the audit record, in one transaction. A
// pending task close-out request is settled by it. It returns ENOTFOUND for
// an unknown task and ECONFLICT when it is already closed.
func (s *Store) CloseTask(ctx context.Context, taskID uint, actor Actor, note string) (Decision, error) {
	var d Decision
	err := s.write(ctx, func(tx *gorm.DB) error {
		t, err := takeTask(tx, taskID)
		if err != nil {
			return err
		}
		if t.Closed() {
			return Errorf(ECONFLICT, "任务 %s 已销号", t.Code) // no date: storage keeps UTC, users read their zone
		}
		// Closing settles every request still pending on the task: the
		// task's own close-out request is the one decided; the others
		// (a milestone's close-out, extensions) are moot.
		var open []Progress
		err = tx.Where("task_id = ? AND kind IN ?", t.ID, []string{KindCloseRequest, KindExtensionRequest}).
			Where("NOT EXISTS (SELECT 1 FROM audits a WHERE a.progress_id = progresses.id AND a.action IN ?)", decisions).
			Order("id DESC").Find(&open).Error
		if err != nil {
			return err
		}
		var req *Progress
		for i := range open {
			if open[i].Kind == KindCloseRequest && open[i].MilestoneID == nil && req == nil {
				req = &open[i]
			}
		}
		d.Request = req
		now := s.now()
		if err := tx.Model(t).Update("closed_at", now).Error; err != nil {
			return err
		}
		if err := tx.Model(&Share{}).Where("task_id = ?", t.ID).Update("task_closed", true).Error; err != nil {
			return err
		}
		if err := tx.Model(&Milestone{}).Where("task_id = ? AND open = ?", t.ID, true).Update("open", false).Error; err != nil {
			return err
		}
		if err := refreshNextDue(tx, t.ID); err != nil {
			return err
		}
		a := Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionClosed, TaskID: &t.ID, Details: note}
		if req != nil {
			a.ProgressID = &req.ID
		}
		if err := s.audit(tx, a); err != nil {
			return err
		}
		for i := range open {
			if &open[i] == req {
				continue
			}
			err := s.audit(tx, Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionClosed, TaskID: &t.ID,
				MilestoneID: open[i].MilestoneID, ProgressID: &open[i].ID, Details: "随任务销号"})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Decision{}, txError(err)
	}
	return d, nil
}

// ApproveMilestone marks milestone seq of the task done on a supervisor's
// decision (销号 of the milestone): every unsettled share is confirmed, and
// its pending close-out request, if any, settled. It returns ENOTFOUND, or
// ECONFLICT when the task is closed or the milestone done.
func (s *Store) ApproveMilestone(ctx context.Context, taskID uint, seq int, actor Actor) (Decision, error) {
	var d Decision
	err := s.write(ctx, func(tx *gorm.DB) error {
		t, m, err := openMilestone(tx, taskID, seq)
		if err != nil {
			return err
		}
		req, err := pending(tx, t.ID, KindCloseRequest, &m.ID)
		if err != nil {
			return err
		}
		if err := s.confirmAll(tx, m, actor); err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(m).Updates(map[string]any{"done_at": now, "open": false}).Error; err != nil {
			return err
		}
		m.DoneAt, m.Open = &now, false
		if err := refreshNextDue(tx, t.ID); err != nil {
			return err
		}
		d = Decision{Request: req, Milestone: m}
		a := Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionMilestoneApproved, TaskID: &t.ID, MilestoneID: &m.ID,
			Details: fmt.Sprintf("节点%d 销号", m.Seq)}
		if req != nil {
			a.ProgressID = &req.ID
		}
		if err := s.audit(tx, a); err != nil {
			return err
		}
		return s.settleMilestone(tx, t.ID, m.ID, req, actor)
	})
	if err != nil {
		return Decision{}, txError(err)
	}
	return d, nil
}

func openMilestone(tx *gorm.DB, taskID uint, seq int) (*Task, *Milestone, error) {
	t, err := takeTask(tx, taskID)
	if err != nil {
		return nil, nil, err
	}
	if t.Closed() {
		return nil, nil, Errorf(ECONFLICT, "任务 %s 已销号", t.Code)
	}
	m, err := findMilestone(tx, t, seq)
	if err != nil {
		return nil, nil, err
	}
	if m.Done() {
		return nil, nil, Errorf(ECONFLICT, "节点%d 已完成", m.Seq)
	}
	return t, m, nil
}

// SendBack returns the latest pending close-out request of the task (task
// or milestone) to its reporters with a reason. It returns EINVALID when
// there is none.
func (s *Store) SendBack(ctx context.Context, taskID uint, actor Actor, reason string) (Decision, error) {
	var d Decision
	err := s.write(ctx, func(tx *gorm.DB) error {
		req, err := pending(tx, taskID, KindCloseRequest, nil)
		if err != nil {
			return err
		}
		if req == nil {
			return Errorf(EINVALID, "该任务没有待审核的销号申请")
		}
		d.Request = req
		return s.audit(tx, Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionSentBack, TaskID: &taskID,
			MilestoneID: req.MilestoneID, ProgressID: &req.ID, Details: reason})
	})
	if err != nil {
		return Decision{}, txError(err)
	}
	return d, nil
}

// DecideExtension settles the pending extension request on milestone seq.
// Approved, the milestone's Due becomes the requested date and ExtendedAt
// is set (PlannedDue keeps the document's date); rejected, nothing but the
// audit record changes. It returns EINVALID when no request is pending,
// ENOTFOUND for an unknown task or milestone, ECONFLICT when the task is
// closed or the milestone done.
func (s *Store) DecideExtension(ctx context.Context, taskID uint, seq int, approve bool, actor Actor, reason string) (Decision, error) {
	var d Decision
	err := s.write(ctx, func(tx *gorm.DB) error {
		t, m, err := openMilestone(tx, taskID, seq)
		if err != nil {
			return err
		}
		req, err := pending(tx, t.ID, KindExtensionRequest, &m.ID)
		if err != nil {
			return err
		}
		if req == nil {
			return Errorf(EINVALID, "节点%d 没有待审批的延期申请", seq)
		}
		a := Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionExtensionRejected, TaskID: &t.ID,
			MilestoneID: &m.ID, ProgressID: &req.ID, Details: reason}
		if approve {
			now := s.now()
			if err := tx.Model(m).Updates(map[string]any{"due": req.ExtendTo, "extended_at": now}).Error; err != nil {
				return err
			}
			m.Due, m.ExtendedAt = req.ExtendTo, &now
			if err := refreshNextDue(tx, t.ID); err != nil {
				return err
			}
			a.Action = ActionExtensionApproved
			a.Details = fmt.Sprintf("节点%d 延期至 %s（原定 %s）", m.Seq, req.ExtendTo, m.PlannedDue)
		}
		d = Decision{Request: req, Milestone: m}
		return s.audit(tx, a)
	})
	if err != nil {
		return Decision{}, txError(err)
	}
	return d, nil
}

// TaskProgress returns the task's entries, newest first; limit <= 0 means
// all of them.
func (s *Store) TaskProgress(ctx context.Context, taskID uint, limit int) ([]Progress, error) {
	q := s.db.WithContext(ctx).Where("task_id = ?", taskID).Order("created_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var out []Progress
	if err := q.Find(&out).Error; err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// supersede settles the extension requests still pending on milestone m
// other than p, recording that p replaced them.
func (s *Store) supersede(tx *gorm.DB, t *Task, m *Milestone, p *Progress) error {
	var older []Progress
	err := tx.Where("task_id = ? AND milestone_id = ? AND kind = ? AND id <> ?", t.ID, m.ID, KindExtensionRequest, p.ID).
		Where("NOT EXISTS (SELECT 1 FROM audits a WHERE a.progress_id = progresses.id AND a.action IN ?)", decisions).
		Find(&older).Error
	if err != nil {
		return err
	}
	for i := range older {
		err := s.audit(tx, Audit{Actor: p.Author, ActorName: p.AuthorName, Action: ActionSuperseded, TaskID: &t.ID,
			MilestoneID: &m.ID, ProgressID: &older[i].ID, Details: fmt.Sprintf("被第 %d 条延期申请取代", p.ID)})
		if err != nil {
			return err
		}
	}
	return nil
}

// takeTask reads the task in tx; ENOTFOUND when there is none.
func takeTask(tx *gorm.DB, id uint) (*Task, error) {
	var t Task
	if err := tx.Take(&t, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "没有找到该任务")
	} else if err != nil {
		return nil, err
	}
	return &t, nil
}

// CleanText makes s storable everywhere: invalid UTF-8 becomes U+FFFD and
// NUL bytes are dropped (PostgreSQL refuses both; SQLite would keep bytes
// no reader can show). Entries are stored only as cleaned.
func CleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// BeforeSave keeps an entry's text fields valid UTF-8 (CleanText).
func (p *Progress) BeforeSave(*gorm.DB) error {
	p.Text, p.Evidence, p.AuthorName, p.UnitName = CleanText(p.Text), CleanText(p.Evidence), CleanText(p.AuthorName), CleanText(p.UnitName)
	return nil
}

// BeforeSave keeps a file's name valid UTF-8 (CleanText).
func (a *Attachment) BeforeSave(*gorm.DB) error {
	a.Name, a.URL = CleanText(a.Name), CleanText(a.URL)
	return nil
}
