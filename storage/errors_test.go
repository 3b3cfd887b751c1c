package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/storage"
)

// call is one store call under test, named as a failure message shows it.
type storeCall struct {
	name string
	do   func() error
}

// checkCodes runs each call and reports those whose error code is not
// want, or that wrap ErrAlreadyRecorded (only a recorded message does).
func checkCodes(t *testing.T, want string, calls []storeCall) {
	t.Helper()
	for _, c := range calls {
		err := c.do()
		if got := storage.ErrorCode(err); got != want {
			t.Errorf("%s = %v (code %q); want %s", c.name, err, got, want)
		}
		if errors.Is(err, storage.ErrAlreadyRecorded) {
			t.Errorf("%s = %v; want an error not wrapping ErrAlreadyRecorded", c.name, err)
		}
	}
}

// checkUnchanged reports any row that differs from before.
func checkUnchanged(t *testing.T, s *storage.Store, before tableDump, what string) {
	t.Helper()
	if diff := cmp.Diff(before, dump(t, s)); diff != "" {
		t.Errorf("%s changed rows (-before +after):\n%s", what, diff)
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	const missing = 9999
	before := dump(t, s)

	// The lookups return nil with the error.
	if got, err := s.FindTask(ctx, 9, 9); got != nil || storage.ErrorMessage(err) != "没有找到该任务" {
		t.Errorf("FindTask(9, 9) = %v, %v; want nil, 没有找到该任务", got, err)
	}
	if got, err := s.FindTaskByID(ctx, missing); got != nil || err == nil {
		t.Errorf("FindTaskByID(%d) = %v, %v; want nil and an error", missing, got, err)
	}
	if got, err := s.FindPerson(ctx, "U0NOBODY"); got != nil || err == nil {
		t.Errorf("FindPerson(%q) = %v, %v; want nil and an error", "U0NOBODY", got, err)
	}
	if got, err := s.FindThread(ctx, f.water.ID); got != nil || storage.ErrorMessage(err) != "该任务还没有跟踪线程" {
		t.Errorf("FindThread(%d) = %v, %v; want nil, 该任务还没有跟踪线程", f.water.ID, got, err)
	}
	if got, err := s.FindThreadByTS(ctx, "C0TRACK", "1.0"); got != nil || storage.ErrorMessage(err) != "不是任务跟踪线程" {
		t.Errorf("FindThreadByTS(C0TRACK, 1.0) = %v, %v; want nil, 不是任务跟踪线程", got, err)
	}

	report := func(taskID uint, kind string, seq int) func() error {
		return func() error {
			return s.CreateProgress(ctx, &storage.Progress{TaskID: taskID, Kind: kind, MilestoneSeq: seq,
				Author: "U0WANG", Text: "进展", ExtendTo: storage.NewDate(2023, 1, 1)})
		}
	}
	checkCodes(t, storage.ENOTFOUND, []storeCall{
		{"FindTask(9, 9)", func() error { _, err := s.FindTask(ctx, 9, 9); return err }},
		{"FindTask(1, 0)", func() error { _, err := s.FindTask(ctx, 1, 0); return err }},
		{"FindTaskByID(9999)", func() error { _, err := s.FindTaskByID(ctx, missing); return err }},
		{"FindPerson(U0NOBODY)", func() error { _, err := s.FindPerson(ctx, "U0NOBODY"); return err }},
		{"FindPerson(nobody@example.gov.cn)", func() error { _, err := s.FindPerson(ctx, "nobody@example.gov.cn"); return err }},
		{"FindPerson(无名氏)", func() error { _, err := s.FindPerson(ctx, "无名氏"); return err }},
		{"FindPerson(\"  \")", func() error { _, err := s.FindPerson(ctx, "  "); return err }},
		{"FindThread(共性1)", func() error { _, err := s.FindThread(ctx, f.water.ID); return err }},
		{"FindThread(9999)", func() error { _, err := s.FindThread(ctx, missing); return err }},
		{"FindThreadByTS(C0TRACK, 1.0)", func() error { _, err := s.FindThreadByTS(ctx, "C0TRACK", "1.0"); return err }},
		{"CreateProgress(9999, report)", report(missing, storage.KindReport, 0)},
		{"CreateProgress(9999, close request)", report(missing, storage.KindCloseRequest, 0)},
		{"CreateProgress(共性1, done 9)", report(f.water.ID, storage.KindDone, 9)},
		{"CreateProgress(共性1, extension 3)", report(f.water.ID, storage.KindExtensionRequest, 3)},
		{"CreateProgress(共性2, done 1)", report(f.city.ID, storage.KindDone, 1)},
		{"CloseTask(9999)", func() error { _, err := s.CloseTask(ctx, missing, fixtureSupervisor, ""); return err }},
		{"ApproveMilestone(9999, 1)", func() error { _, err := s.ApproveMilestone(ctx, missing, 1, fixtureSupervisor); return err }},
		{"ApproveMilestone(共性1, 3)", func() error { _, err := s.ApproveMilestone(ctx, f.water.ID, 3, fixtureSupervisor); return err }},
		{"ApproveMilestone(共性2, 1)", func() error { _, err := s.ApproveMilestone(ctx, f.city.ID, 1, fixtureSupervisor); return err }},
		{"DecideExtension(9999, 1)", func() error {
			_, err := s.DecideExtension(ctx, missing, 1, true, fixtureSupervisor, "")
			return err
		}},
		{"DecideExtension(个性1, 2)", func() error {
			_, err := s.DecideExtension(ctx, f.house.ID, 2, false, fixtureSupervisor, "")
			return err
		}},
		{"Unbind(市城管局, 王五)", func() error {
			p, err := s.FindPerson(ctx, "U0WANG")
			if err != nil {
				return err
			}
			_, err = s.Unbind(ctx, f.units["市城管局"], p, fixtureSupervisor)
			return err
		}},
	})

	// The message names what is missing.
	err := report(f.water.ID, storage.KindDone, 9)()
	if got, want := storage.ErrorMessage(err), "任务 共性1 没有节点9（共 2 个节点）"; got != want {
		t.Errorf("CreateProgress(共性1, done 9) message = %q; want %q", got, want)
	}
	err = report(f.city.ID, storage.KindDone, 1)()
	if got, want := storage.ErrorMessage(err), "任务 共性2 没有带日期的节点"; got != want {
		t.Errorf("CreateProgress(共性2, done 1) message = %q; want %q", got, want)
	}
	checkUnchanged(t, s, before, "calls that found nothing")
}

// TestAlreadyRecorded: a Slack message delivered twice is recorded once;
// the second delivery is a conflict that errors.Is tells from the others.
func TestAlreadyRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	first := &storage.Progress{TaskID: f.water.ID, Kind: storage.KindReport, Author: "U0WANG", Text: "已排查 12 处",
		Source: "thread", Channel: "C0TRACK", SlackTS: "1635728400.000100"}
	if err := s.CreateProgress(ctx, first); err != nil {
		t.Fatalf("CreateProgress(first delivery) error: %v", err)
	}
	before := dump(t, s)

	again := &storage.Progress{TaskID: f.water.ID, Kind: storage.KindReport, Author: "U0WANG", Text: "redelivered",
		Source: "thread", Channel: "C0TRACK", SlackTS: "1635728400.000100"}
	err := s.CreateProgress(ctx, again)
	if !errors.Is(err, storage.ErrAlreadyRecorded) {
		t.Errorf("CreateProgress(same message) = %v; want ErrAlreadyRecorded", err)
	}
	if got := storage.ErrorCode(err); got != storage.ECONFLICT {
		t.Errorf("ErrorCode(CreateProgress(same message)) = %q; want %q", got, storage.ECONFLICT)
	}
	if got, want := storage.ErrorMessage(err), "该消息已记录为进展"; got != want {
		t.Errorf("ErrorMessage(CreateProgress(same message)) = %q; want %q", got, want)
	}
	if again.ID != first.ID || again.Text != first.Text {
		t.Errorf("after CreateProgress(same message), p = {ID %d, Text %q}; want the first entry {ID %d, Text %q}",
			again.ID, again.Text, first.ID, first.Text)
	}
	checkUnchanged(t, s, before, "a redelivered message")

	// Any kind of entry: the message is what counts.
	done := &storage.Progress{TaskID: f.water.ID, Kind: storage.KindDone, MilestoneSeq: 1, Author: "U0WANG", Text: "完成",
		Channel: "C0TRACK", SlackTS: "1635728400.000100"}
	if err := s.CreateProgress(ctx, done); !errors.Is(err, storage.ErrAlreadyRecorded) {
		t.Errorf("CreateProgress(same message, done 1) = %v; want ErrAlreadyRecorded", err)
	}
	checkUnchanged(t, s, before, "a redelivered message as a done entry")

	// The same timestamp in another channel is another message.
	other := &storage.Progress{TaskID: f.water.ID, Kind: storage.KindReport, Author: "U0WANG", Text: "另一频道",
		Channel: "C0OTHER", SlackTS: "1635728400.000100"}
	if err := s.CreateProgress(ctx, other); err != nil {
		t.Errorf("CreateProgress(same ts, other channel) = %v; want nil", err)
	}
	// Entries without a message (the console) are never duplicates.
	f.report(t, f.water, "同一文本")
	f.report(t, f.water, "同一文本")
	if got, err := s.TaskProgress(ctx, f.water.ID, 0); err != nil || len(got) != 4 {
		t.Errorf("TaskProgress(共性1, 0) = %d entries, %v; want 4", len(got), err)
	}
}

func TestConflict(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	// Milestone 1 of 共性1 is done, 共性2 is closed, 王五 is a member of
	// 市生态环境局 and reminder step "s1" is claimed.
	if _, err := s.ApproveMilestone(ctx, f.water.ID, 1, fixtureSupervisor); err != nil {
		t.Fatalf("ApproveMilestone(共性1, 1) error: %v", err)
	}
	if _, err := s.CloseTask(ctx, f.city.ID, fixtureSupervisor, "已建立长效机制"); err != nil {
		t.Fatalf("CloseTask(共性2) error: %v", err)
	}
	step := storage.ReminderStep{Key: "s1", TaskID: f.water.ID, Step: "d30", FireOn: storage.NewDate(2021, 12, 1)}
	if _, err := s.Claim(ctx, []storage.ReminderStep{step}, []storage.Outbox{{Key: "m1", Kind: "remind", Payload: "{}"}}); err != nil {
		t.Fatalf("Claim(s1) error: %v", err)
	}
	before := dump(t, s)

	entry := func(taskID uint, kind string, seq int) func() error {
		return func() error {
			return s.CreateProgress(ctx, &storage.Progress{TaskID: taskID, Kind: kind, MilestoneSeq: seq,
				Author: "U0WANG", Text: "进展", ExtendTo: storage.NewDate(2023, 1, 1)})
		}
	}
	checkCodes(t, storage.ECONFLICT, []storeCall{
		{"ApproveMilestone(共性1, 1) again", func() error { _, err := s.ApproveMilestone(ctx, f.water.ID, 1, fixtureSupervisor); return err }},
		{"DecideExtension(共性1, 1) on a done milestone", func() error {
			_, err := s.DecideExtension(ctx, f.water.ID, 1, true, fixtureSupervisor, "")
			return err
		}},
		{"CreateProgress(共性1, done 1)", entry(f.water.ID, storage.KindDone, 1)},
		{"CreateProgress(共性1, close request 1)", entry(f.water.ID, storage.KindCloseRequest, 1)},
		{"CreateProgress(共性1, extension 1)", entry(f.water.ID, storage.KindExtensionRequest, 1)},
		{"CloseTask(共性2) again", func() error { _, err := s.CloseTask(ctx, f.city.ID, fixtureSupervisor, ""); return err }},
		{"CreateProgress(共性2, close request)", entry(f.city.ID, storage.KindCloseRequest, 0)},
		{"ApproveMilestone(共性2, 1) on a closed task", func() error { _, err := s.ApproveMilestone(ctx, f.city.ID, 1, fixtureSupervisor); return err }},
		{"DecideExtension(共性2, 1) on a closed task", func() error {
			_, err := s.DecideExtension(ctx, f.city.ID, 1, true, fixtureSupervisor, "")
			return err
		}},
		{"Bind(市生态环境局, 王五) again", func() error {
			_, err := s.Bind(ctx, f.units["市生态环境局"], storage.PersonRef{SlackID: "U0WANG"}, fixtureSupervisor)
			return err
		}},
		{"Claim(s2, s1 again)", func() error {
			s2 := storage.ReminderStep{Key: "s2", TaskID: f.water.ID, Step: "d7", FireOn: storage.NewDate(2021, 12, 24)}
			_, err := s.Claim(ctx, []storage.ReminderStep{s2, step}, []storage.Outbox{{Key: "m2", Kind: "remind", Payload: "{}"}})
			return err
		}},
	})
	if err := entry(f.city.ID, storage.KindCloseRequest, 0)(); storage.ErrorMessage(err) != "任务 共性2 已销号" {
		t.Errorf("CreateProgress(共性2, close request) message = %q; want 任务 共性2 已销号", storage.ErrorMessage(err))
	}
	checkUnchanged(t, s, before, "conflicting calls")

	// A report on a closed task is still taken.
	f.report(t, f.city, "长效机制运行情况")
}

// TestNotPending: a decision needs a pending request. There is none before
// one is made, nor after it was decided. The store says EINVALID.
func TestNotPending(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	sendBack := storeCall{"SendBack(共性1)", func() error { _, err := s.SendBack(ctx, f.water.ID, fixtureSupervisor, "材料不全"); return err }}
	decide := storeCall{"DecideExtension(共性1, 2)", func() error {
		_, err := s.DecideExtension(ctx, f.water.ID, 2, true, fixtureSupervisor, "")
		return err
	}}
	before := dump(t, s)
	checkCodes(t, storage.EINVALID, []storeCall{sendBack, decide})
	checkUnchanged(t, s, before, "decisions with nothing pending")

	// A close-out request sent back and an extension decided are no
	// longer pending.
	for _, p := range []*storage.Progress{
		{TaskID: f.water.ID, Kind: storage.KindCloseRequest, Author: "U0WANG", Text: "申请销号"},
		{TaskID: f.water.ID, Kind: storage.KindExtensionRequest, MilestoneSeq: 2, Author: "U0WANG", Text: "申请延期",
			ExtendTo: storage.NewDate(2022, 12, 31)},
	} {
		if err := s.CreateProgress(ctx, p); err != nil {
			t.Fatalf("CreateProgress(%s) error: %v", p.Kind, err)
		}
	}
	d, err := s.SendBack(ctx, f.water.ID, fixtureSupervisor, "材料不全")
	if err != nil || d.Request == nil || d.Request.Kind != storage.KindCloseRequest {
		t.Fatalf("SendBack(共性1) = %+v, %v; want the close-out request", d, err)
	}
	d, err = s.DecideExtension(ctx, f.water.ID, 2, false, fixtureSupervisor, "理由不足")
	if err != nil || d.Request == nil || d.Milestone == nil || d.Milestone.Due != storage.NewDate(2022, 6, 30) {
		t.Fatalf("DecideExtension(共性1, 2, reject) = %+v, %v; want the request, the due date unchanged", d, err)
	}
	before = dump(t, s)
	checkCodes(t, storage.EINVALID, []storeCall{sendBack, decide})
	checkUnchanged(t, s, before, "decisions on requests already decided")
	if left, err := s.PendingRequests(ctx, f.water.ID); err != nil || len(left) != 0 {
		t.Errorf("PendingRequests(共性1) = %d requests, %v; want none", len(left), err)
	}
}

// TestInvalid: input the store checks is refused before anything is written.
func TestInvalid(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	// Two people called 张三.
	err := s.ApplyPeople(ctx, storage.PeopleSpec{Units: []storage.UnitPeople{{Unit: "市城管局", Members: []storage.PersonRef{
		{SlackID: "U0ZHANG1", Name: "张三"}, {SlackID: "U0ZHANG2", Name: "张三"}}}}})
	if err != nil {
		t.Fatalf("ApplyPeople error: %v", err)
	}
	before := dump(t, s)
	entry := func(p storage.Progress) func() error {
		return func() error {
			p.Author, p.Text = "U0WANG", "进展"
			return s.CreateProgress(ctx, &p)
		}
	}
	checkCodes(t, storage.EINVALID, []storeCall{
		{`Open("")`, func() error { _, err := storage.Open(""); return err }},
		{"CreateProgress(kind \"note\")", entry(storage.Progress{TaskID: f.water.ID, Kind: "note"})},
		{"CreateProgress(kind \"\")", entry(storage.Progress{TaskID: f.water.ID})},
		{"CreateProgress(done, no milestone)", entry(storage.Progress{TaskID: f.water.ID, Kind: storage.KindDone})},
		{"CreateProgress(extension, no milestone)", entry(storage.Progress{TaskID: f.water.ID, Kind: storage.KindExtensionRequest,
			ExtendTo: storage.NewDate(2023, 1, 1)})},
		{"CreateProgress(extension to the due date)", entry(storage.Progress{TaskID: f.water.ID, Kind: storage.KindExtensionRequest,
			MilestoneSeq: 1, ExtendTo: storage.NewDate(2021, 12, 31)})},
		{"CreateProgress(extension to an earlier date)", entry(storage.Progress{TaskID: f.water.ID, Kind: storage.KindExtensionRequest,
			MilestoneSeq: 1, ExtendTo: storage.NewDate(2021, 6, 30)})},
		{"CreateProgress(extension, no date)", entry(storage.Progress{TaskID: f.water.ID, Kind: storage.KindExtensionRequest,
			MilestoneSeq: 1})},
		{"SearchTasks([水体 \"\"])", func() error { _, _, err := s.SearchTasks(ctx, []string{"水体", ""}, 10); return err }},
		{"FindPerson(张三)", func() error { _, err := s.FindPerson(ctx, "张三"); return err }},
	})
	err = entry(storage.Progress{TaskID: f.water.ID, Kind: storage.KindExtensionRequest, MilestoneSeq: 1, ExtendTo: storage.NewDate(2021, 6, 30)})()
	if got, want := storage.ErrorMessage(err), "延期日期 2021-06-30 须晚于节点1 现在的时限 2021-12-31"; got != want {
		t.Errorf("CreateProgress(extension to an earlier date) message = %q; want %q", got, want)
	}
	checkUnchanged(t, s, before, "invalid input")
}

// TestInternal: when the database fails, every call says EINTERNAL, and
// what users read hides the cause (which stays in the chain, for the log).
func TestInternal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	p := &storage.Person{ID: 1, SlackID: "U0WANG"}
	unit := f.units["市生态环境局"]
	ids := []uint{f.water.ID, f.house.ID}
	today := storage.NewDate(2021, 11, 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close error: %v", err)
	}
	calls := []storeCall{
		{"FindTask", func() error { _, err := s.FindTask(ctx, 1, 1); return err }},
		{"FindTaskByID", func() error { _, err := s.FindTaskByID(ctx, f.water.ID); return err }},
		{"FindPerson", func() error { _, err := s.FindPerson(ctx, "U0WANG"); return err }},
		{"FindThread", func() error { _, err := s.FindThread(ctx, f.water.ID); return err }},
		{"FindThreadByTS", func() error { _, err := s.FindThreadByTS(ctx, "C0TRACK", "1.0"); return err }},
		{"Threads", func() error { _, err := s.Threads(ctx, ids); return err }},
		{"CreateThread", func() error {
			_, err := s.CreateThread(ctx, storage.Thread{TaskID: f.water.ID, Channel: "C0TRACK", TS: "1.0"})
			return err
		}},
		{"CreateProgress", func() error {
			return s.CreateProgress(ctx, &storage.Progress{TaskID: f.water.ID, Kind: storage.KindReport, Author: "U0WANG", Text: "x"})
		}},
		{"CloseTask", func() error { _, err := s.CloseTask(ctx, f.water.ID, fixtureSupervisor, ""); return err }},
		{"ApproveMilestone", func() error { _, err := s.ApproveMilestone(ctx, f.water.ID, 1, fixtureSupervisor); return err }},
		{"SendBack", func() error { _, err := s.SendBack(ctx, f.water.ID, fixtureSupervisor, ""); return err }},
		{"DecideExtension", func() error { _, err := s.DecideExtension(ctx, f.water.ID, 1, true, fixtureSupervisor, ""); return err }},
		{"PendingRequests", func() error { _, err := s.PendingRequests(ctx, f.water.ID); return err }},
		{"TaskProgress", func() error { _, err := s.TaskProgress(ctx, f.water.ID, 5); return err }},
		{"TaskAudits", func() error { _, err := s.TaskAudits(ctx, f.water.ID); return err }},
		{"SectionCounts", func() error { _, err := s.SectionCounts(ctx); return err }},
		{"UnitLinks", func() error { _, err := s.UnitLinks(ctx, ids); return err }},
		{"Recipients", func() error { _, _, err := s.Recipients(ctx); return err }},
		{"ProgressBetween", func() error { _, _, err := s.ProgressBetween(ctx, fixtureStart, fixtureStart, 5); return err }},
		{"StaleTasks", func() error { _, _, err := s.StaleTasks(ctx, fixtureStart, 5); return err }},
		{"CountMilestones", func() error { _, err := s.CountMilestones(ctx, today, 7); return err }},
		{"NudgeCandidates", func() error { _, err := s.NudgeCandidates(ctx, fixtureStart); return err }},
		{"TaskLeaderPosts", func() error { _, err := s.TaskLeaderPosts(ctx, ids); return err }},
		{"TaskUnitNames", func() error { _, err := s.TaskUnitNames(ctx, ids); return err }},
		{"UnitTasks", func() error { _, _, err := s.UnitTasks(ctx, unit, storage.RoleLead, 5); return err }},
		{"LeaderTasks", func() error { _, err := s.LeaderTasks(ctx, "城建", 5); return err }},
		{"LeaderPosts", func() error { _, err := s.LeaderPosts(ctx); return err }},
		{"UnitStats", func() error { _, err := s.UnitStats(ctx, today, 0); return err }},
		{"OpenMilestones", func() error { _, _, err := s.OpenMilestones(ctx, storage.MilestoneFilter{Limit: 5}); return err }},
		{"OpenMilestones(all)", func() error { _, _, err := s.OpenMilestones(ctx, storage.MilestoneFilter{Limit: -1}); return err }},
		{"SearchTasks", func() error { _, _, err := s.SearchTasks(ctx, []string{"水体"}, 5); return err }},
		{"WarmSearch", func() error { return s.WarmSearch(ctx) }},
		{"ClaimedSteps", func() error { _, err := s.ClaimedSteps(ctx, ids); return err }},
		{"Claim", func() error {
			_, err := s.Claim(ctx, []storage.ReminderStep{{Key: "s1", TaskID: f.water.ID, Step: "d30"}}, nil)
			return err
		}},
		{"Enqueue", func() error {
			_, err := s.Enqueue(ctx, storage.Outbox{Key: "m1", Kind: "remind", Payload: "{}"})
			return err
		}},
		{"Lease", func() error { _, err := s.Lease(ctx, "h", fixtureStart, time.Minute, 5, nil); return err }},
		{"MarkSent", func() error { return s.MarkSent(ctx, 1, "h", fixtureStart) }},
		{"MarkFailed", func() error { return s.MarkFailed(ctx, 1, "h", "timeout", fixtureStart) }},
		{"MarkDead", func() error { return s.MarkDead(ctx, 1, "h", "timeout") }},
		{"CountDeadOutbox", func() error { _, err := s.CountDeadOutbox(ctx); return err }},
		{"CountPendingOutbox", func() error { _, err := s.CountPendingOutbox(ctx); return err }},
		{"Seed", func() error { _, err := s.Seed(ctx, nil, "v2"); return err }},
		{"ApplyUnits", func() error { return s.ApplyUnits(ctx, []storage.UnitSpec{{Name: "市水利局"}}) }},
		{"ApplyPeople", func() error { return s.ApplyPeople(ctx, storage.PeopleSpec{}) }},
		{"UnitNames", func() error { _, err := s.UnitNames(ctx); return err }},
		{"Collectives", func() error { _, _, err := s.Collectives(ctx); return err }},
		{"UnresolvedEmails", func() error { _, err := s.UnresolvedEmails(ctx); return err }},
		{"SetSlackID", func() error { return s.SetSlackID(ctx, 2, "U0LI") }},
		{"PersonRoles", func() error { _, err := s.PersonRoles(ctx, p); return err }},
		{"Supervisors", func() error { _, err := s.Supervisors(ctx); return err }},
		{"UnitMembers", func() error { _, err := s.UnitMembers(ctx, unit); return err }},
		{"UnitChannels", func() error { _, err := s.UnitChannels(ctx); return err }},
		{"LeaderHolders", func() error { _, err := s.LeaderHolders(ctx); return err }},
		{"OverdueByUnit", func() error { _, err := s.OverdueByUnit(ctx, storage.Date{}, 50); return err }},
		{"OverduePosts", func() error { _, err := s.OverduePosts(ctx, storage.Date{}); return err }},
		{"MilestoneItems", func() error { _, err := s.MilestoneItems(ctx, []uint{1}); return err }},
		{"Bind", func() error {
			_, err := s.Bind(ctx, unit, storage.PersonRef{SlackID: "U0NEW"}, fixtureSupervisor)
			return err
		}},
		{"Unbind", func() error { _, err := s.Unbind(ctx, unit, p, fixtureSupervisor); return err }},
	}
	checkCodes(t, storage.EINTERNAL, calls)
	for _, c := range calls {
		err := c.do()
		if got, want := storage.ErrorMessage(err), "内部错误，请稍后再试或联系管理员。"; got != want {
			t.Errorf("ErrorMessage(%s) = %q; want %q", c.name, got, want)
		}
		var e *storage.Error
		if !errors.As(err, &e) || e.Err == nil {
			t.Errorf("%s = %#v; want an *Error keeping its cause", c.name, err)
		}
	}
}

// TestBusy: while another process holds SQLite's write lock, a write waits
// out the busy timeout (5 s from Open; shortened here through the path),
// then fails with EINTERNAL having written nothing. Reads go on meanwhile
// (WAL), and the same write succeeds once the lock is released.
func TestBusy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if f.s.Dialect() != storage.SQLite {
		t.Skip("SQLite's write lock and busy timeout")
	}
	// The first _busy_timeout wins over the one Open appends.
	busy, err := storage.Open(f.path + "?_busy_timeout=20")
	if err != nil {
		t.Fatalf("Open(%q) error: %v", f.path+"?_busy_timeout=20", err)
	}
	defer busy.Close()
	var timeout int
	if err := busy.DB().Raw("PRAGMA busy_timeout").Row().Scan(&timeout); err != nil || timeout != 20 {
		t.Fatalf("PRAGMA busy_timeout = %d, %v; want 20", timeout, err)
	}
	busy.Clock = f.s.Clock

	// f.s, the other process, takes the write lock (BEGIN IMMEDIATE).
	lock := f.s.DB().Begin()
	if lock.Error != nil {
		t.Fatalf("Begin error: %v", lock.Error)
	}
	locked := true
	defer func() {
		if locked {
			lock.Rollback()
		}
	}()
	before := dump(t, busy)

	if task, err := busy.FindTask(ctx, 1, 1); err != nil || task.Code != "共性1" {
		t.Errorf("FindTask(1, 1) while locked = %v, %v; want 共性1", task, err)
	}
	eco := f.units["市生态环境局"]
	entry := &storage.Progress{TaskID: f.water.ID, Kind: storage.KindDone, MilestoneSeq: 1, Author: "U0WANG", Text: "完成排查",
		UnitID: &eco, UnitName: "市生态环境局", Channel: "C0TRACK", SlackTS: "1635728400.000200"}
	writes := []storeCall{
		// A transaction: progress, milestone, next due date and audit.
		{"CreateProgress(共性1, done 1)", func() error { p := *entry; return busy.CreateProgress(ctx, &p) }},
		// A single statement, outside any transaction.
		{"CreateThread(共性1)", func() error {
			_, err := busy.CreateThread(ctx, storage.Thread{TaskID: f.water.ID, Channel: "C0TRACK", TS: "1635728400.000100"})
			return err
		}},
		// Busy is not "claimed by another pass" (ECONFLICT): the caller
		// would plan again instead of reporting the failure.
		{"Claim(s1)", func() error {
			_, err := busy.Claim(ctx, []storage.ReminderStep{{Key: "s1", TaskID: f.water.ID, Step: "d30",
				FireOn: storage.NewDate(2021, 12, 1)}}, []storage.Outbox{{Key: "m1", Kind: "remind", Payload: "{}"}})
			return err
		}},
		{"MarkDead(1)", func() error { return busy.MarkDead(ctx, 1, "h", "timeout") }},
	}
	checkCodes(t, storage.EINTERNAL, writes)

	if err := lock.Rollback().Error; err != nil {
		t.Fatalf("Rollback error: %v", err)
	}
	locked = false
	checkUnchanged(t, busy, before, "writes refused while the database was locked")

	for _, w := range writes[:3] {
		if err := w.do(); err != nil {
			t.Errorf("%s after the lock was released = %v; want nil", w.name, err)
		}
	}
	shares, err := busy.TaskShares(ctx, f.water.ID)
	reported := 0
	for _, sh := range shares {
		if sh.State == storage.ShareReported {
			reported++
			if sh.Unit != "市生态环境局" || sh.Seq != 1 {
				t.Errorf("TaskShares(共性1) reported share = %s 节点%d; want 市生态环境局 节点1", sh.Unit, sh.Seq)
			}
		}
	}
	if err != nil || reported != 1 {
		t.Errorf("TaskShares(共性1) after the retry: %d reported, %v; want 1 (市生态环境局 节点1)", reported, err)
	}
}
