package bot

import (
	"context"
	"fmt"

	"taskbot/storage"
)

// history lists every entry and audit record of t, newest first.
func (b *Bot) history(ctx context.Context, t *storage.Task) (Reply, error) {
	ps, err := b.Store.TaskProgress(ctx, t.ID, 0)
	if err != nil {
		return Reply{}, err
	}
	as, err := b.Store.TaskAudits(ctx, t.ID)
	if err != nil {
		return Reply{}, err
	}
	ids := make([]uint, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
	}
	files, err := b.Store.Attachments(ctx, ids)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: fmt.Sprintf("【%s】进展记录（%d 条）", t.Ref(), len(ps))}
	s := Section{Heading: "进展（最新在前）"}
	for i := range ps {
		if i == MaxItems {
			s.More = len(ps) - MaxItems
			break
		}
		line := b.entryLine(&ps[i])
		for _, f := range files[ps[i].ID] {
			line += fmt.Sprintf(" 📎%s %s", f.Name, f.URL)
		}
		s.Items = append(s.Items, Item{Text: line})
	}
	if len(ps) == 0 {
		s.Text = "尚无进展。报送：/progress " + t.Ref() + " 内容"
	}
	r.Sections = append(r.Sections, s)
	if len(as) > 0 {
		a := Section{Heading: fmt.Sprintf("变更记录（%d 条，按时间顺序）", len(as))}
		start := 0
		if len(as) > MaxItems {
			start = len(as) - MaxItems
			a.Text = fmt.Sprintf("（较早的 %d 条未列出）", start)
		}
		for _, x := range as[start:] {
			line := fmt.Sprintf("%s %s %s", x.At.In(b.Clock().Zone()).Format("2006-01-02 15:04"), authorLabel(x.Actor, x.ActorName), actionNames[x.Action])
			if x.Details != "" {
				line += "：" + clip(x.Details, 80)
			}
			a.Items = append(a.Items, Item{Text: line})
		}
		r.Sections = append(r.Sections, a)
	}
	return r, nil
}

var actionNames = map[string]string{
	storage.ActionProgress:          "报送进展",
	storage.ActionMilestoneDone:     "报完成",
	storage.ActionMilestoneSettled:  "节点完成",
	storage.ActionCloseRequested:    "申请销号",
	storage.ActionExtensionAsked:    "申请延期",
	storage.ActionClosed:            "销号",
	storage.ActionMilestoneApproved: "节点销号",
	storage.ActionSentBack:          "退回销号申请",
	storage.ActionExtensionApproved: "批准延期",
	storage.ActionExtensionRejected: "驳回延期",
	storage.ActionShareConfirmed:    "确认单位完成",
	storage.ActionShareSentBack:     "退回单位完成报告",
	storage.ActionShareNA:           "认定不涉及",
	storage.ActionReopened:          "重新打开",
	storage.ActionSuperseded:        "延期申请被新申请取代",
	storage.ActionBind:              "绑定成员",
	storage.ActionUnbind:            "解除成员",
}
