package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"taskbot/storage"
)

// ProgressForm is a progress entry as a form gives it (a Slack modal): the
// same entry `progress` records, with the same authorization, audit and
// replies, without the command's grammar.
type ProgressForm struct {
	// Task is the task's code or number.
	Task string
	// Kind is what the form records: FormReport, FormDone, FormClose or
	// FormExtend.
	Kind      string
	Milestone int // 0: the task as a whole
	Percent   *int
	// ExtendTo is the day an extension asks for, YYYY-MM-DD.
	ExtendTo string
	Text     string
	Files    []File
	Unit     string // "" : the reporter's only unit
	// ID names the submission (a view's ID): submitted twice, it is
	// recorded once.
	ID string
}

// Kinds of ProgressForm.
const (
	FormReport = "report" // 报送进展
	FormDone   = "done"   // 报完成
	FormClose  = "close"  // 申请销号
	FormExtend = "extend" // 申请延期
)

var formKinds = map[string]string{FormReport: storage.KindReport, FormDone: storage.KindDone,
	FormClose: storage.KindCloseRequest, FormExtend: storage.KindExtensionRequest}

// Choice is an option of a form's select: a label and its value.
type Choice struct {
	Label string
	Value int
}

// FormChoices returns the task's title and the milestones a form offers
// user: the milestones where one of their units still has an open share
// (every open milestone for a supervisor or a leader of the task), after
// "整体进展" (0). It returns EFORBIDDEN naming who may report when user
// may not.
func (b *Bot) FormChoices(ctx context.Context, user, task string) (string, []Choice, error) {
	t, err := b.formTask(ctx, task)
	if err != nil {
		return "", nil, err
	}
	w, err := b.whoIs(ctx, user)
	if err != nil {
		return "", nil, err
	}
	g, err := b.grantOn(ctx, w, t)
	if err != nil {
		return "", nil, err
	}
	if !g.mayReport() {
		return "", nil, storage.Errorf(storage.EFORBIDDEN, "您无权报送任务 %s 的进展。%s", t.Ref(), whoMayReport(t))
	}
	var mids []uint
	for _, m := range t.Milestones {
		if m.Open && !m.Retired {
			mids = append(mids, m.ID)
		}
	}
	open, err := b.Store.UnsettledShares(ctx, mids)
	if err != nil {
		return "", nil, err
	}
	out := []Choice{{Label: "整体进展", Value: 0}}
	for _, m := range t.Milestones {
		if !m.Open || m.Retired {
			continue
		}
		mine := g.supervisor || g.leader
		for _, u := range g.units {
			mine = mine || open[m.ID][u.ID]
		}
		if _, has := open[m.ID]; mine || !has {
			out = append(out, Choice{Label: fmt.Sprintf("节点%d %s %s", m.Seq, m.Due, clip(m.Text, 20)), Value: m.Seq})
		}
	}
	return fmt.Sprintf("【%s】%s", t.Label(), ShortTitle(t.Title, 40)), out, nil
}

func (b *Bot) formTask(ctx context.Context, task string) (*storage.Task, error) {
	ref, err := ParseTaskRef(task)
	if err != nil {
		return nil, err
	}
	t, err := b.findTask(ctx, ref)
	return t, err
}

// SubmitProgress records a form's entry as user: checked like `progress`
// (a milestone of the task, a percentage 0–100, text or files, evidence for
// a close-out request, a date for an extension), then saved, audited and
// told to whom `progress` tells. A submission recorded before (the same
// ID) is answered as recorded and not saved twice. Errors say in Chinese
// what is wrong, for the form to show.
func (b *Bot) SubmitProgress(ctx context.Context, user string, f ProgressForm) (Reply, error) {
	t, err := b.formTask(ctx, f.Task)
	if err != nil {
		return Reply{}, err
	}
	kind, ok := formKinds[f.Kind]
	if !ok {
		return Reply{}, storage.Errorf(storage.EINVALID, "表单类型“%s”无效。", clip(f.Kind, 20))
	}
	pa := ProgressArgs{Task: TaskRef{Section: t.Section, Number: t.Number}, Unit: strings.TrimLeft(f.Unit, "@＠"), Kind: kind,
		Percent: f.Percent, Text: strings.TrimSpace(f.Text), Files: f.Files}
	if f.ExtendTo != "" {
		if pa.ExtendTo, err = ParseExtensionDate(f.ExtendTo); err != nil {
			return Reply{}, err
		}
	}
	if f.Milestone > 0 {
		if pa.Milestone, err = milestoneArg(t, fmt.Sprint(f.Milestone)); err != nil {
			return Reply{}, err
		}
	}
	pa.Evidence = Links(pa.Text)
	switch {
	case f.Percent != nil && (*f.Percent < 0 || *f.Percent > 100):
		return Reply{}, storage.Errorf(storage.EINVALID, "进度应为 0–100 之间的整数。")
	case pa.Text == "" && len(f.Files) == 0:
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明进展内容，或附上文件。")
	case (kind == storage.KindDone || kind == storage.KindExtensionRequest) && pa.Milestone == 0:
		return Reply{}, storage.Errorf(storage.EINVALID, "请选择节点。")
	case kind == storage.KindExtensionRequest && pa.ExtendTo.IsZero():
		return Reply{}, storage.Errorf(storage.EINVALID, "请选择申请延期到的日期。")
	case len([]rune(pa.Text)) > MaxProgressText:
		return Reply{}, storage.Errorf(storage.EINVALID, "进展内容过长（超过 %d 字），请精简或附链接。", MaxProgressText)
	}
	if pa.Text == "" {
		names := make([]string, len(f.Files))
		for i, file := range f.Files {
			names[i] = file.Name
		}
		pa.Text = "上传文件：" + strings.Join(names, "、")
	}
	if kind == storage.KindCloseRequest {
		if err := b.checkEvidence(ctx, t, pa); err != nil {
			return Reply{}, err
		}
	}
	p := &storage.Progress{Source: "form"}
	if f.ID != "" {
		p.Channel, p.SlackTS = "form", f.ID
	}
	p, err = b.record(ctx, user, t, pa, p)
	if errors.Is(err, storage.ErrAlreadyRecorded) {
		return Reply{Title: fmt.Sprintf("✅ 已保存：任务 %s 的%s（记录编号 %d）", t.Ref(), kindNames[p.Kind], p.ID)}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	return b.recorded(ctx, t, p, true), nil
}
