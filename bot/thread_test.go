package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestTaskThread: the core posts a task's thread parent once, even under
// concurrent notices, and remembers it; a failed post is not remembered.
func TestTaskThread(t *testing.T) {
	ctx := context.Background()
	b := bot.New(testenv.Store(t, testenv.Directory()), nil)
	var mu sync.Mutex
	var parents []string
	fail := true
	post := func(ctx context.Context, channel string, _ uint, r bot.Reply, _ bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return "", errors.New("slack: internal_error")
		}
		parents = append(parents, channel+"|"+r.Title)
		return "1632370000.000100", nil
	}
	t6, err := b.Store.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	ref := &bot.ThreadRef{TaskID: t6.ID, TaskCode: t6.Code, Parent: bot.Reply{Title: "【共性6】"}}
	if ts, err := b.TaskThread(ctx, ref, "CTRACK", post); err == nil {
		t.Fatalf("TaskThread with a failing post = %q, nil; want the error", ts)
	}
	var wg sync.WaitGroup
	tss := make([]string, 8)
	for i := range tss {
		wg.Go(func() {
			ts, err := b.TaskThread(ctx, ref, "CTRACK", post)
			if err != nil {
				t.Error(err)
			}
			tss[i] = ts
		})
	}
	wg.Wait()
	if len(parents) != 1 || parents[0] != "CTRACK|【共性6】" {
		t.Errorf("parents posted: %q; want one, in CTRACK", parents)
	}
	for i, ts := range tss {
		if ts != "1632370000.000100" {
			t.Errorf("TaskThread call %d = %q; want the parent's ts", i, ts)
		}
	}
}

// TestTaskThreadAcrossProcesses: two bots on one database (two replicas)
// post one parent per task: while one is posting, the other is told to
// retry, and then finds the parent; a lease left by a process that died
// mid-post is taken over once it expired.
func TestTaskThreadAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	store := testenv.Store(t, testenv.Directory())
	a, b := bot.New(store, nil), bot.New(store, nil)
	t6, err := store.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	ref := &bot.ThreadRef{TaskID: t6.ID, TaskCode: t6.Code, Parent: bot.Reply{Title: "【共性6】"}}
	posting, release := make(chan struct{}), make(chan struct{})
	var posts atomic.Int32
	slow := func(ctx context.Context, channel string, _ uint, r bot.Reply, recheck bool) (string, error) {
		posts.Add(1)
		close(posting)
		<-release
		return "1632370000.000100", nil
	}
	var rechecked []uint // tasks whose parent was looked for before posting
	fast := func(ctx context.Context, channel string, task uint, r bot.Reply, recheck bool) (string, error) {
		posts.Add(1)
		if recheck {
			rechecked = append(rechecked, task)
		}
		return "1632370000.000999", nil
	}
	done := make(chan string)
	go func() {
		ts, _ := a.TaskThread(ctx, ref, "CTRACK", slow)
		done <- ts
	}()
	<-posting // a holds the lease and is posting
	if ts, err := b.TaskThread(ctx, ref, "CTRACK", fast); err == nil || storage.ErrorCode(err) != storage.ECONFLICT {
		t.Fatalf("the other replica during the post = %q, %v; want a conflict to retry", ts, err)
	}
	close(release)
	if ts := <-done; ts != "1632370000.000100" {
		t.Fatalf("the posting replica = %q", ts)
	}
	if ts, err := b.TaskThread(ctx, ref, "CTRACK", fast); err != nil || ts != "1632370000.000100" {
		t.Errorf("the other replica's retry = %q, %v; want the one parent", ts, err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("%d parents posted; want 1", n)
	}
	// A replica died holding task 7's lease; it expires and b takes over.
	t7, _ := store.FindTask(ctx, 1, 7)
	if ok, _, err := store.Acquire(ctx, fmt.Sprintf("thread:%d", t7.ID), "dead", time.Now().Add(-time.Hour), time.Minute); err != nil || !ok {
		t.Fatalf("the dead replica's lease: %v %v", ok, err)
	}
	if len(rechecked) != 0 {
		t.Errorf("parents looked for before posting: %v; want none before a takeover", rechecked)
	}
	ref7 := &bot.ThreadRef{TaskID: t7.ID, TaskCode: t7.Code, Parent: bot.Reply{Title: "【共性7】"}}
	if ts, err := b.TaskThread(ctx, ref7, "CTRACK", fast); err != nil || ts != "1632370000.000999" {
		t.Errorf("taking over an expired lease = %q, %v", ts, err)
	}
	// The dead one may have posted it: the adapter is told to look first.
	if len(rechecked) != 1 || rechecked[0] != t7.ID {
		t.Errorf("parents looked for before posting: %v; want task 7's (%d), whose lease was taken over", rechecked, t7.ID)
	}
}

// TestRecordThreadReply: a reply in a task's thread is recorded as that
// task's progress with the grammar and authorization of `progress`; its
// outcome is a code.
func TestRecordThreadReply(t *testing.T) {
	ctx := context.Background()
	b := bot.New(testenv.Store(t, testenv.Directory(), testenv.AsOf(testenv.At(t, "2021-09-23 09:00"))), nil)
	t6, err := b.Store.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	ref := &bot.ThreadRef{TaskID: t6.ID, TaskCode: t6.Code}
	parent, err := b.TaskThread(ctx, ref, "CTRACK", func(context.Context, string, uint, bot.Reply, bool) (string, error) {
		return "1632370000.000100", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reply := func(user, ts, text string, urls ...string) bot.ThreadMessage {
		var files []bot.File
		for _, u := range urls {
			files = append(files, bot.File{Name: "a.pdf", URL: u})
		}
		return bot.ThreadMessage{User: user, Text: text, Channel: "CTRACK", ThreadTS: parent, TS: ts, Files: files}
	}
	for _, tt := range []struct {
		name string
		msg  bot.ThreadMessage
		want bot.ThreadOutcome
		says string // in the reply's text
	}{
		{"member", reply("U0000LS01", "1632370001.000100", "60% 长葛市核查中"), bot.Recorded, "已保存"},
		{"same message again", reply("U0000LS01", "1632370001.000100", "60% 长葛市核查中"), bot.AlreadyRecorded, ""},
		{"files only", reply("U0000ZS01", "1632370002.000100", "", "https://files.example/a.pdf"), bot.Recorded, "已保存"},
		{"stranger", reply("U0000XXX1", "1632370003.000100", "我也来报"), bot.Refused, "此条回复未记录为进展"},
		{"malformed", reply("U0000ZS01", "1632370004.000100", "完成"), bot.Refused, "此条回复未记录为进展"},
		{"another thread", bot.ThreadMessage{User: "U0000LS01", Text: "进展", Channel: "CTRACK", ThreadTS: "1.2", TS: "1632370005.000100"}, bot.NotTaskThread, ""},
		{"another channel", bot.ThreadMessage{User: "U0000LS01", Text: "进展", Channel: "C9", ThreadTS: parent, TS: "1632370006.000100"}, bot.NotTaskThread, ""},
	} {
		r, got, err := b.RecordThreadReply(ctx, tt.msg)
		if err != nil || got != tt.want {
			t.Errorf("%s: RecordThreadReply = %v, %v; want %v", tt.name, got, err, tt.want)
		}
		if tt.says != "" && !strings.Contains(r.Text(), tt.says) {
			t.Errorf("%s: reply %q; want it to say %q", tt.name, r.Text(), tt.says)
		}
		if got == bot.Refused && !r.Error {
			t.Errorf("%s: refusal %q is not marked an error", tt.name, r.Text())
		}
	}
	ps, err := b.Store.TaskProgress(ctx, t6.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("task 6 has %d entries; want 2 (the member's reply and the file)", len(ps))
	}
	for _, p := range ps {
		switch p.SlackTS {
		case "1632370001.000100":
			if p.Author != "U0000LS01" || p.Percent == nil || *p.Percent != 60 || p.Channel != "CTRACK" {
				t.Errorf("member's reply recorded as %+v", p)
			}
		case "1632370002.000100":
			if p.Evidence != "https://files.example/a.pdf" {
				t.Errorf("file reply recorded as %+v; want the file as evidence", p)
			}
		default:
			t.Errorf("unexpected entry %+v", p)
		}
	}
}

// TestTaskThreadRetryLooksFirst: a parent post that failed (Slack may have
// taken it all the same: a timeout after sending) keeps the task's claim,
// and the retry asks the adapter to look for the parent before posting.
func TestTaskThreadRetryLooksFirst(t *testing.T) {
	ctx := context.Background()
	store := testenv.Store(t, testenv.Directory())
	b := bot.New(store, nil)
	t8, err := store.FindTask(ctx, 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	ref := &bot.ThreadRef{TaskID: t8.ID, TaskCode: t8.Code, Parent: bot.Reply{Title: "【共性8】"}}
	var rechecks []bool
	post := func(fail bool) bot.PostFunc {
		return func(_ context.Context, _ string, _ uint, _ bot.Reply, recheck bool) (string, error) {
			rechecks = append(rechecks, recheck)
			if fail {
				return "", errors.New("timeout after sending")
			}
			return "1632370000.000800", nil
		}
	}
	if _, err := b.TaskThread(ctx, ref, "CTRACK", post(true)); err == nil {
		t.Fatal("a failed post reported no error")
	}
	if ts, err := b.TaskThread(ctx, ref, "CTRACK", post(false)); err != nil || ts != "1632370000.000800" {
		t.Fatalf("the retry = %q, %v", ts, err)
	}
	if fmt.Sprint(rechecks) != "[false true]" {
		t.Errorf("looked first: %v; want [false true] (the retry looks)", rechecks)
	}
}
