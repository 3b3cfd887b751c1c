package storage_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"taskbot/storage"
)

// TestDecisions: an extension approved moves the milestone's due date (the
// document's date stays), a close-out request sent back stays on record,
// and every step leaves its audit record, in order.
func TestDecisions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	percent := 60
	report := &storage.Progress{TaskID: f.house.ID, Kind: storage.KindReport, Author: "U0ZHAO", AuthorName: "赵六",
		UnitName: "长葛市", Text: "完成六成", Percent: &percent, Evidence: "https://a.example/1\nhttps://a.example/2"}
	ext := &storage.Progress{TaskID: f.house.ID, Kind: storage.KindExtensionRequest, MilestoneSeq: 1, Author: "U0ZHAO",
		Text: "雨季停工", ExtendTo: storage.NewDate(2022, 6, 30)}
	closeReq := &storage.Progress{TaskID: f.house.ID, Kind: storage.KindCloseRequest, Author: "U0ZHAO", Text: "全部完成"}
	for _, p := range []*storage.Progress{report, ext, closeReq} {
		if err := s.CreateProgress(ctx, p); err != nil {
			t.Fatalf("CreateProgress(%s) error: %v", p.Kind, err)
		}
	}
	if got := report.EvidenceLinks(); !cmp.Equal(got, []string{"https://a.example/1", "https://a.example/2"}) {
		t.Errorf("EvidenceLinks() = %q; want the two links", got)
	}
	if got := ext.EvidenceLinks(); got != nil {
		t.Errorf("EvidenceLinks() without evidence = %q; want nil", got)
	}
	pending, err := s.PendingRequests(ctx, f.house.ID)
	if err != nil || len(pending) != 2 || pending[0].ID != closeReq.ID || pending[1].ID != ext.ID {
		t.Fatalf("PendingRequests(个性1) = %+v, %v; want the close-out then the extension request", pending, err)
	}

	d, err := s.DecideExtension(ctx, f.house.ID, 1, true, fixtureSupervisor, "")
	if err != nil {
		t.Fatalf("DecideExtension(个性1, 1, approve) error: %v", err)
	}
	m := d.Milestone
	if d.Request == nil || d.Request.ID != ext.ID || m == nil || m.Due != ext.ExtendTo || m.PlannedDue != storage.NewDate(2022, 3, 31) ||
		m.ExtendedAt == nil || !m.ExtendedAt.Equal(fixtureStart) {
		t.Errorf("DecideExtension(个性1, 1, approve) = %+v (milestone %+v); want the request, due 2022-06-30, planned 2022-03-31", d, m)
	}
	task, err := s.FindTaskByID(ctx, f.house.ID)
	if err != nil || task.NextDue != ext.ExtendTo {
		t.Errorf("FindTaskByID(个性1).NextDue = %v, %v; want %s", task, err, ext.ExtendTo)
	}

	d, err = s.SendBack(ctx, f.house.ID, fixtureSupervisor, "缺少验收材料")
	if err != nil || d.Request == nil || d.Request.ID != closeReq.ID || d.Milestone != nil {
		t.Errorf("SendBack(个性1) = %+v, %v; want the close-out request", d, err)
	}
	if left, err := s.PendingRequests(ctx, f.house.ID); err != nil || len(left) != 0 {
		t.Errorf("PendingRequests(个性1) after the decisions = %d, %v; want none", len(left), err)
	}
	if entries, err := s.TaskProgress(ctx, f.house.ID, 2); err != nil || len(entries) != 2 || entries[0].ID != closeReq.ID {
		t.Errorf("TaskProgress(个性1, 2) = %+v, %v; want the 2 newest, close-out request first", entries, err)
	}

	audits, err := s.TaskAudits(ctx, f.house.ID)
	if err != nil {
		t.Fatalf("TaskAudits(个性1) error: %v", err)
	}
	type rec struct{ Action, Actor, Details string }
	var got []rec
	for _, a := range audits {
		got = append(got, rec{a.Action, a.Actor, a.Details})
	}
	want := []rec{
		{storage.ActionProgress, "U0ZHAO", "[长葛市] 60% 完成六成"},
		{storage.ActionExtensionAsked, "U0ZHAO", "节点1 延期至 2022-06-30 雨季停工"},
		{storage.ActionCloseRequested, "U0ZHAO", "全部完成"},
		{storage.ActionExtensionApproved, "U0SUP", "节点1 延期至 2022-06-30（原定 2022-03-31）"},
		{storage.ActionSentBack, "U0SUP", "缺少验收材料"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TaskAudits(个性1) mismatch (-want +got):\n%s", diff)
	}
}

// TestMembership: binding in chat and unbinding, with the roles and
// listings that follow.
func TestMembership(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	city := f.units["市城管局"]
	p, err := s.Bind(ctx, city, storage.PersonRef{Email: "Zhou@Example.gov.cn", Name: "周七"}, fixtureSupervisor)
	if err != nil || p.Email != "zhou@example.gov.cn" || p.Label() != "周七" || p.Key() != "zhou@example.gov.cn" {
		t.Fatalf("Bind(市城管局, 周七) = %+v, %v; want 周七 with the lower-cased email", p, err)
	}
	members, err := s.UnitMembers(ctx, city)
	if err != nil || len(members) != 1 || members[0].ID != p.ID || members[0].Source != storage.SourceChat {
		t.Errorf("UnitMembers(市城管局) = %+v, %v; want 周七 bound in chat", members, err)
	}
	roles, err := s.PersonRoles(ctx, p)
	if err != nil || !cmp.Equal(roles.Units, map[uint]string{city: "市城管局"}) || roles.Supervisor || len(roles.Posts) != 0 {
		t.Errorf("PersonRoles(周七) = %+v, %v; want member of 市城管局 only", roles, err)
	}
	lead, err := s.FindPerson(ctx, "钱副市长")
	if err != nil {
		t.Fatalf("FindPerson(钱副市长) error: %v", err)
	}
	if roles, err := s.PersonRoles(ctx, lead); err != nil || !roles.Posts["市政府分管城建副市长"] {
		t.Errorf("PersonRoles(钱副市长) = %+v, %v; want the post 市政府分管城建副市长", roles, err)
	}
	if roles, err := s.PersonRoles(ctx, nil); err != nil || len(roles.Units) != 0 || roles.Supervisor {
		t.Errorf("PersonRoles(nil) = %+v, %v; want no role", roles, err)
	}
	sups, err := s.Supervisors(ctx)
	if err != nil || len(sups) != 1 || sups[0].SlackID != "U0SUP" {
		t.Errorf("Supervisors = %+v, %v; want 孙督查", sups, err)
	}
	unresolved, err := s.UnresolvedEmails(ctx)
	if err != nil || len(unresolved) != 2 {
		t.Errorf("UnresolvedEmails = %+v, %v; want 李四 and 周七", unresolved, err)
	}

	source, err := s.Unbind(ctx, city, p, fixtureSupervisor)
	if err != nil || source != storage.SourceChat {
		t.Errorf("Unbind(市城管局, 周七) = %q, %v; want %q", source, err, storage.SourceChat)
	}
	if members, err := s.UnitMembers(ctx, city); err != nil || len(members) != 0 {
		t.Errorf("UnitMembers(市城管局) after Unbind = %+v, %v; want none", members, err)
	}
	// The file's bindings can be removed too, and say so.
	wang, err := s.FindPerson(ctx, "U0WANG")
	if err != nil {
		t.Fatalf("FindPerson(U0WANG) error: %v", err)
	}
	if source, err := s.Unbind(ctx, f.units["市生态环境局"], wang, fixtureSupervisor); err != nil || source != storage.SourceConfig {
		t.Errorf("Unbind(市生态环境局, 王五) = %q, %v; want %q", source, err, storage.SourceConfig)
	}
}
