package bot

import (
	"context"
	"fmt"
	"strings"

	"taskbot/storage"
)

// taskAction runs `task N VERB …` through the command table: it finds
// the task, then authorizes and runs the verb.
func (b *Bot) taskAction(ctx context.Context, req Request, c *command, args []string) (Reply, error) {
	ref, err := ParseTaskRef(args[0])
	if err != nil {
		return Reply{}, err
	}
	v := c.verb(args[1])
	if v == nil {
		return Reply{}, storage.Errorf(storage.EINVALID, "不认识的任务操作“%s”：可用 %s。", clip(args[1], 20), c.verbNames())
	}
	t, err := b.findTask(ctx, ref)
	if err != nil {
		return Reply{}, err
	}
	call := verbCall{verb: v, req: req, task: t, typed: args[1], args: args[2:]}
	if v.who != anyone {
		if call.who, err = b.authorize(ctx, req.User, v); err != nil {
			return Reply{}, err
		}
	}
	return v.run(b, ctx, call)
}

// historyVerb is `task N history`.
func (b *Bot) historyVerb(ctx context.Context, c verbCall) (Reply, error) {
	if len(c.args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "history 不带参数。")
	}
	return b.history(ctx, c.task)
}

// closeVerb is `task N 销号 [M]`: with a milestone number (which must be
// one of the task's) it confirms every unit's share of that milestone;
// alone it closes the whole task. Anything else is refused: a typo must
// never close a task.
func (b *Bot) closeVerb(ctx context.Context, c verbCall) (Reply, error) {
	t, w := c.task, c.who
	if len(c.args) > 1 {
		return Reply{}, storage.Errorf(storage.EINVALID, "销号只接受一个节点编号：/task %s 销号（整个任务）或 /task %s 销号 节点。未做任何更改。", t.Ref(), t.Ref())
	}
	if len(c.args) == 1 {
		m, err := milestoneArg(t, c.args[0])
		if err != nil {
			return Reply{}, err
		}
		d, err := b.Store.ApproveMilestone(ctx, t.ID, m, w.actor)
		if err != nil {
			return Reply{}, err
		}
		title := fmt.Sprintf("✅ 已保存：任务 %s 节点%d 销号（各单位的部分均记为已确认）", t.Ref(), m)
		return b.decided(ctx, t, w, d, title, ""), nil
	}
	d, err := b.Store.CloseTask(ctx, t.ID, w.actor, "")
	if err != nil {
		return Reply{}, err
	}
	return b.decided(ctx, t, w, d, fmt.Sprintf("✅ 已保存：任务 %s 已销号，不再出现在提醒和未完成清单中。", t.Ref()), ""), nil
}

// sendBackVerb is `task N 退回 M 单位 理由` (a unit's report of milestone
// M goes back) or `task N 退回 理由` (the close-out request goes back). A
// first word that is a milestone number followed by a unit of the task is
// the former; then the number must be one of the task's.
func (b *Bot) sendBackVerb(ctx context.Context, c verbCall) (Reply, error) {
	t := c.task
	if len(c.args) >= 2 {
		if _, err := b.findUnit(ctx, c.args[1]); err == nil {
			m, err := milestoneArg(t, c.args[0])
			if err != nil {
				return Reply{}, err
			}
			return b.sendBackShareVerb(ctx, c, m)
		}
	}
	reason := strings.Join(c.args, " ")
	if reason == "" {
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明退回理由：/task %s 退回 理由", t.Ref())
	}
	d, err := b.Store.SendBack(ctx, t.ID, c.who.actor, reason)
	if err != nil {
		return Reply{}, err
	}
	return b.decided(ctx, t, c.who, d, fmt.Sprintf("✅ 已保存：任务 %s 的销号申请已退回。", t.Ref()), reason), nil
}

// approveVerb is `task N 批准延期 M`.
func (b *Bot) approveVerb(ctx context.Context, c verbCall) (Reply, error) {
	return b.decideExtension(ctx, c, true)
}

// rejectVerb is `task N 驳回延期 M 理由`.
func (b *Bot) rejectVerb(ctx context.Context, c verbCall) (Reply, error) {
	return b.decideExtension(ctx, c, false)
}

func (b *Bot) decideExtension(ctx context.Context, c verbCall, approve bool) (Reply, error) {
	t := c.task
	if len(c.args) == 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出节点编号：/task %s %s 1", t.Ref(), c.typed)
	}
	m, err := milestoneArg(t, c.args[0])
	if err != nil {
		return Reply{}, err
	}
	reason := strings.Join(c.args[1:], " ")
	if !approve && reason == "" {
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明驳回理由：/task %s 驳回延期 %d 理由", t.Ref(), m)
	}
	d, err := b.Store.DecideExtension(ctx, t.ID, m, approve, c.who.actor, reason)
	if err != nil {
		return Reply{}, err
	}
	title := fmt.Sprintf("✅ 已保存：任务 %s 节点%d 延期申请已驳回。", t.Ref(), m)
	if approve {
		title = fmt.Sprintf("✅ 已保存：任务 %s 节点%d 原定 %s，经批准延期至 %s。", t.Ref(), m, d.Milestone.PlannedDue, d.Milestone.Due)
	}
	return b.decided(ctx, t, c.who, d, title, reason), nil
}

// decided is the reply to a supervisor's decision, with notices to the
// requester (and their unit's channel) and the task's thread.
func (b *Bot) decided(ctx context.Context, t *storage.Task, w who, d storage.Decision, title, reason string) Reply {
	r := Reply{Title: title}
	if reason != "" {
		r.Sections = []Section{{Fields: []Field{{"理由", reason}}}}
	}
	note := Reply{Title: fmt.Sprintf("%s（%s）", strings.TrimPrefix(title, "✅ 已保存："), w.actor.Label()), Sections: r.Sections}
	r.Notices = append(r.Notices, threadNotice(t, Reply{Title: "🏛 " + note.Title, Sections: note.Sections}))
	if d.Request != nil {
		n := Notice{To: authorLabel(d.Request.Author, d.Request.AuthorName), Reply: note}
		if IsSlackID(d.Request.Author) {
			n.UserIDs = []string{d.Request.Author}
		}
		if d.Request.UnitID != nil {
			// The decision is committed: a channel that cannot be read
			// now costs the channel post, not the answer.
			if chans, err := b.Store.UnitChannels(ctx); err != nil {
				b.Log.Warn("unit channel not read; decision notice goes to the requester only", "err", err)
			} else {
				n.Channel = chans[*d.Request.UnitID]
			}
		}
		r.Notices = append(r.Notices, n)
		if IsSlackID(d.Request.Author) {
			r.Notices = append(r.Notices, homeRefresh(d.Request.Author))
		}
	}
	return r
}
