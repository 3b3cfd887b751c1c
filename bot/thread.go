package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"taskbot/storage"
)

// ThreadMessage is a reply someone wrote in a thread: maybe a task's
// tracking thread, which RecordThreadReply finds from Channel and ThreadTS.
type ThreadMessage struct {
	User     string
	Text     string
	Channel  string
	ThreadTS string // the thread's parent message
	TS       string // this message
	// Files are the files shared with the reply, kept as evidence.
	Files []File
}

// ThreadOutcome is what became of a reply in a thread.
type ThreadOutcome int

// Outcomes of RecordThreadReply.
const (
	// NotTaskThread: the thread is not a task's; nothing was done.
	NotTaskThread ThreadOutcome = iota
	// Recorded: the reply was stored as progress.
	Recorded
	// AlreadyRecorded: the same message was stored before (a retry).
	AlreadyRecorded
	// Refused: not stored; the reply says why, for the author only.
	Refused
)

// RecordThreadReply records a reply in a task's tracking thread as
// progress, with the same authorization and grammar as `progress` (without
// the task number). The reply is the answer for the author: what was saved
// and the notices it causes, or why nothing was. The error is for failures
// worth retrying (the store could not be read).
func (b *Bot) RecordThreadReply(ctx context.Context, m ThreadMessage) (Reply, ThreadOutcome, error) {
	th, err := b.Store.FindThreadByTS(ctx, m.Channel, m.ThreadTS)
	if storage.ErrorCode(err) == storage.ENOTFOUND {
		return Reply{}, NotTaskThread, nil
	}
	if err != nil {
		return Reply{}, NotTaskThread, err
	}
	r, err := b.threadReply(ctx, th.TaskID, m)
	switch {
	case err == nil:
		return r, Recorded, nil
	case errors.Is(err, storage.ErrAlreadyRecorded):
		return Reply{}, AlreadyRecorded, nil
	case storage.ErrorCode(err) == storage.EINTERNAL || storage.ErrorCode(err) == storage.EUNAVAILABLE:
		return Reply{}, Refused, err // not the author's fault: tried again later
	}
	rep := b.errorReply(err, nil)
	rep.Footnotes = []string{"此条回复未记录为进展。在线程中回复的写法与 /progress 相同（不写任务编号），如：完成 1 佐证链接、60% 内容、@单位 内容。"}
	return rep, Refused, nil
}

func (b *Bot) threadReply(ctx context.Context, taskID uint, m ThreadMessage) (Reply, error) {
	t, err := b.Store.FindTaskByID(ctx, taskID)
	if err != nil {
		return Reply{}, err
	}
	pa, err := ParseProgressBody(splitArgs(m.Text))
	if err != nil && !(errors.Is(err, ErrNoText) && len(m.Files) > 0) {
		return Reply{}, err
	}
	pa.Files = m.Files
	if pa.Kind == storage.KindCloseRequest {
		if err := b.checkEvidence(ctx, t, pa); err != nil {
			return Reply{}, err
		}
	}
	if pa.Text == "" {
		names := make([]string, len(m.Files))
		for i, f := range m.Files {
			names[i] = f.Name
		}
		pa.Text = "上传文件：" + strings.Join(names, "、")
	}
	p, err := b.record(ctx, m.User, t, pa, &storage.Progress{Source: "thread", Channel: m.Channel, SlackTS: m.TS})
	if err != nil {
		return Reply{}, err
	}
	return b.recorded(ctx, t, p, false), nil
}

// PostFunc posts the parent message r of task taskID's thread in channel
// and returns its ts; the adapter that owns the chat platform supplies it.
// With recheck, a process that died may have posted it already: the
// adapter looks for it in the channel first, and returns that one.
type PostFunc func(ctx context.Context, channel string, taskID uint, r Reply, recheck bool) (ts string, err error)

// TaskThread returns the ts of the task's tracking thread in channel,
// posting its parent message through post and remembering it the first
// time. Within this process it posts one parent per task even under
// concurrent notices.
func (b *Bot) TaskThread(ctx context.Context, ref *ThreadRef, channel string, post PostFunc) (string, error) {
	b.threadMu.Lock()
	defer b.threadMu.Unlock()
	th, err := b.Store.FindThread(ctx, ref.TaskID)
	if err == nil {
		return th.TS, nil
	}
	if storage.ErrorCode(err) != storage.ENOTFOUND {
		return "", err
	}
	// Across processes: the one holding the task's lease posts; the others
	// fail for now and their outbox retries find the thread.
	lease := fmt.Sprintf("thread:%d", ref.TaskID)
	ok, resumed, err := b.Store.Acquire(ctx, lease, b.instance, b.wall(), ThreadLease(b.lease()))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", storage.Errorf(storage.ECONFLICT, "任务 %s 的跟踪线程正由另一进程创建，稍后重试。", ref.TaskCode)
	}
	if th, err := b.Store.FindThread(ctx, ref.TaskID); err == nil {
		_ = b.Store.Finish(ctx, lease, b.instance) // made while this one waited
		return th.TS, nil
	}
	// An earlier attempt (a process that died, or this one failing after
	// Slack took the parent) may have posted it: then the adapter looks
	// first. A failed post keeps the lease, so that the retry looks too.
	ts, err := post(ctx, channel, ref.TaskID, ref.Parent, resumed)
	if err != nil {
		return "", err
	}
	th, err = b.Store.CreateThread(ctx, storage.Thread{TaskID: ref.TaskID, Channel: channel, TS: ts})
	if err != nil {
		return "", err
	}
	return th.TS, b.Store.Finish(ctx, lease, b.instance)
}

// ThreadLease is how long a process may take to post a thread parent
// before another may (it died in between): two minutes, or lease when
// shorter.
func ThreadLease(lease time.Duration) time.Duration { return min(2*time.Minute, lease) }
