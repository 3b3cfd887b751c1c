package bot_test

import (
	"context"
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestDigestFitsOneScreen: tracked since August, on 2021-10-08 the digest
// has its counts, the overdue milestones with who is behind, the silent
// tasks that are not already overdue, and the units nobody is bound to —
// in at most 30 lines.
func TestDigestFitsOneScreen(t *testing.T) {
	store := testenv.Store(t, testenv.AsOf(testenv.At(t, "2021-08-02 09:00")),
		testenv.Units(storage.UnitSpec{Name: "各县（市、区）", Members: counties}),
		testenv.People(storage.PeopleSpec{Units: []storage.UnitPeople{
			{Unit: "长葛市", Members: []storage.PersonRef{{SlackID: "U0000LS01", Name: "李四"}}},
		}}))
	b := bot.New(store, nil)
	p := bot.DefaultDigestPolicy()
	p.Channel = "C_DIGEST"
	r, err := b.Digest(context.Background(), testenv.At(t, "2021-10-08 09:00"), p)
	if err != nil {
		t.Fatal(err)
	}
	text := r.Text()
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > 30 {
		t.Errorf("digest has %d lines; want at most 30:\n%s", len(lines), text)
	}
	mustContain(t, "digest", text, "逾期节点 3 个", "本周到期", "待督查室审核 0 项", "本周完成 0 个",
		"【最紧急】", "共性7", "未完成：", "天无进展（不含上列逾期）", "未绑定成员或频道的单位", "更多：/overdue")
	quiet := text[strings.Index(text, "天无进展"):]
	quiet = quiet[:strings.Index(quiet, "【上次日报")]
	mustNotContain(t, "the silent list", quiet, "共性5 ", "共性7 ", "共性8 ")
	unbound := text[strings.Index(text, "未绑定成员或频道的单位"):]
	mustNotContain(t, "the unbound units", unbound, "长葛市")
	mustContain(t, "the unbound units", unbound, "禹州市")
}
