package bot

import (
	"context"
	"fmt"
	"io"
	"strings"

	"taskbot/storage"
)

// Notice is something the core wants other people to read: the supervisors
// told of a close-out request, reporters told of a send-back, a progress
// entry for the task's thread. The core never sends it; adapters deliver
// notices (the console prints them, the Slack adapter posts them).
type Notice struct {
	// To names the recipients for people reading along ("督查室（张三）").
	To string
	// UserIDs are Slack users to message directly.
	UserIDs []string
	// Channel is a Slack channel to post in, e.g. a unit's channel.
	Channel string
	// Thread, when set, posts Reply in the task's tracking thread.
	Thread *ThreadRef
	// Supervisors: also to every supervisor, looked up when the notice is
	// sent (they could not be read when it was queued).
	Supervisors bool `json:",omitempty"`
	// Ledger, a YYYY-MM-DD day, attaches the Excel ledger as of that day
	// to the channel post, written when it is sent (not stored in the
	// outbox). Queued, the attachment is a message of its own that
	// follows the post (LedgerOnly), so a failed upload is retried without
	// posting the message twice.
	Ledger     string `json:",omitempty"`
	LedgerOnly bool   `json:",omitempty"`
	// Home: refresh the Home tab of UserIDs (their share was decided, a
	// request answered) instead of messaging them.
	Home  bool `json:",omitempty"`
	Reply Reply
	// Outbox is the outbox message being sent (set when it is sent, not
	// stored): senders tag what they post with it, and when Uncertain (an
	// earlier sender may have posted it and died) look for the tag first.
	Outbox    uint `json:"-"`
	Uncertain bool `json:"-"`
}

// ThreadRef names a task's tracking thread in TASKBOT_CHANNEL. Parent is
// the parent message, posted the first time the thread is needed.
type ThreadRef struct {
	TaskID   uint
	TaskCode string
	Parent   Reply
}

// Summary is the notice's first line, for logs and the console.
func (n Notice) Summary() string {
	to := n.To
	if n.Thread != nil && to == "" {
		to = "任务 " + n.Thread.TaskCode + " 跟踪线程"
	}
	return fmt.Sprintf("→ 通知 %s：%s", to, strings.TrimSpace(n.Reply.Title))
}

// threadParent is the parent message of a task's tracking thread.
func threadParent(t *storage.Task) Reply {
	r := Reply{Title: fmt.Sprintf("【%s】%s", t.Label(), clip(t.Title, 60))}
	s := Section{}
	if v := t.UnitsWithRole(storage.RoleLead); len(v) > 0 {
		s.Fields = append(s.Fields, Field{"牵头单位", strings.Join(v, "、")})
	}
	if v := t.UnitsWithRole(storage.RoleResponsible); len(v) > 0 {
		s.Fields = append(s.Fields, Field{"责任单位", strings.Join(v, "、")})
	}
	if t.Deadline != "" {
		s.Fields = append(s.Fields, Field{"整改时限", clip(t.Deadline, 200)})
	}
	r.Sections = []Section{s}
	r.Footnotes = []string{"本线程记录该任务的全部进展。责任单位成员在此回复即报送进展；也可用 /progress " + t.Ref() + " 内容。"}
	return r
}

// Recipients names where the notice goes, for people reading along:
// "频道 C1、私信 U1", or "（未配置接收人）".
func (n Notice) Recipients() string {
	var to []string
	if n.Channel != "" {
		to = append(to, "频道 "+n.Channel)
	}
	for _, u := range n.UserIDs {
		to = append(to, "私信 "+u)
	}
	if n.Supervisors {
		to = append(to, "督查室")
	}
	if len(to) == 0 {
		return "（未配置接收人）"
	}
	return strings.Join(to, "、")
}

// PrintSender is the Sender of a process with no chat platform: it writes
// each notice, with its recipients, to w.
func PrintSender(w io.Writer) Sender {
	return func(ctx context.Context, n Notice) error {
		if n.LedgerOnly {
			_, err := fmt.Fprintf(w, "=== 发送给 %s：%s\n（附件：整改台账，截至 %s，发送时生成）\n", n.To, n.Recipients(), n.Ledger)
			return err
		}
		_, err := fmt.Fprintf(w, "=== 发送给 %s：%s\n%s\n", n.To, n.Recipients(), strings.TrimRight(n.Reply.Text(), "\n"))
		if err == nil && n.Ledger != "" {
			_, err = fmt.Fprintf(w, "（附件：整改台账，截至 %s，发送时生成）\n", n.Ledger)
		}
		return err
	}
}

// homeRefresh is the notice that refreshes the Home tabs of users.
func homeRefresh(users ...string) Notice {
	var ids []string
	for _, u := range users {
		if IsSlackID(u) {
			ids = append(ids, u)
		}
	}
	return Notice{To: "主页", UserIDs: ids, Home: true}
}
