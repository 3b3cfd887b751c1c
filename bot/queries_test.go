package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"taskbot/bot"
	"taskbot/config"
	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// orgBot is a bot over the real list with the shipped organisation file's
// units (collectives and aliases) applied, in a temp SQLite file.
func orgBot(t *testing.T) *bot.Bot {
	t.Helper()
	return bot.New(testenv.Store(t, testenv.Units(shippedUnits(t)...)), nil)
}

// shippedUnits are the units of the shipped organisation file.
func shippedUnits(tb testing.TB) []storage.UnitSpec {
	tb.Helper()
	org, err := config.LoadFile("")
	if err != nil {
		tb.Fatal(err)
	}
	return org.UnitSpecs()
}

// at is 10:00 in Asia/Shanghai on day.
func at(t testing.TB, day string) time.Time {
	t.Helper()
	return testenv.At(t, day+" 10:00")
}

var codeRE = regexp.MustCompile(`(共性|个性)\d+`)

// codes returns the task codes of a reply's items, in order.
func codes(r bot.Reply) []string {
	var out []string
	for _, s := range r.Sections {
		for _, it := range s.Items {
			out = append(out, codeRE.FindString(it.Text))
		}
	}
	return out
}

func section(t *testing.T, r bot.Reply, heading string) bot.Section {
	t.Helper()
	for _, s := range r.Sections {
		if strings.HasPrefix(s.Heading, heading) {
			return s
		}
	}
	t.Fatalf("reply %q has no section %q:\n%s", r.Title, heading, r.Text())
	return bot.Section{}
}

func ask(t *testing.T, b *bot.Bot, day, text string) bot.Reply {
	t.Helper()
	r := b.Handle(context.Background(), bot.Request{Text: text, Now: at(t, day)})
	if r.Error {
		t.Fatalf("Handle(%q) at %s = error %q %v", text, day, r.Title, r.Footnotes)
	}
	return r
}

func TestDueAndOverdue(t *testing.T) {
	b := orgBot(t)
	tests := []struct {
		day, text string
		want      []string
		label     string
	}{
		{"2021-09-23", "due 7", []string{"共性5", "共性7", "共性8"}, "剩余 7 天"},
		{"2021-09-23", "/due ７", []string{"共性5", "共性7", "共性8"}, "剩余 7 天"},
		{"2021-09-24", "到期 6天", []string{"共性5", "共性7", "共性8"}, "剩余 6 天"},
		{"2021-09-23", "due 6", nil, ""},
		{"2021-09-30", "due 0", []string{"共性5", "共性7", "共性8"}, "今天到期"},
		{"2021-09-23", "overdue", nil, ""},
		{"2021-10-01", "overdue", []string{"共性5", "共性7", "共性8"}, "已逾期 1 天"},
		{"2021-10-01", "逾期", []string{"共性5", "共性7", "共性8"}, "已逾期 1 天"},
		// Most overdue first: task 17's 2021-10-31 comes before 2021-12-31 ones.
		{"2022-01-05", "overdue", []string{"共性5", "共性7", "共性8", "共性5", "共性9", "共性10", "共性17",
			"共性3", "共性6", "共性7", "共性8", "共性9", "共性17", "共性19"}, "已逾期 97 天"},
	}
	for _, tt := range tests {
		r := ask(t, b, tt.day, tt.text)
		if diff := cmp.Diff(tt.want, codes(r)); diff != "" {
			t.Errorf("Handle(%q) at %s codes (-want +got):\n%s\n%s", tt.text, tt.day, diff, r.Text())
		}
		if r.AsOf.String() != tt.day {
			t.Errorf("Handle(%q).AsOf = %s; want %s", tt.text, r.AsOf, tt.day)
		}
		if tt.label != "" && !strings.Contains(r.Text(), tt.label) {
			t.Errorf("Handle(%q) at %s lacks %q:\n%s", tt.text, tt.day, tt.label, r.Text())
		}
	}
	// Each item names the units still behind (each county of 各县（市、区）
	// and the lead unit hold a share of their own).
	r := ask(t, b, "2021-09-23", "due 7")
	if !strings.Contains(r.Text(), "未完成：禹州市、市水利局、长葛市") {
		t.Errorf("due 7 does not say who is behind on task 7:\n%s", r.Text())
	}
}

func TestUnit(t *testing.T) {
	b := orgBot(t)
	r := ask(t, b, "2021-09-23", "unit 生态环境局")
	if !strings.HasPrefix(r.Title, "【市生态环境局】") {
		t.Errorf("unit 生态环境局 resolved to %q; want 市生态环境局", r.Title)
	}
	lead := section(t, r, "牵头任务")
	got := codes(bot.Reply{Sections: []bot.Section{lead}})
	slices.Sort(got)
	want := []string{"共性17", "共性18", "共性19", "共性2", "共性20", "共性21", "共性22", "共性23", "共性4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unit 生态环境局 lead tasks (-want +got):\n%s", diff)
	}

	r = ask(t, b, "2021-09-23", "unit 长葛市")
	resp := section(t, r, "责任任务")
	var direct10, via6 bool
	for _, it := range resp.Items {
		if strings.HasPrefix(it.Text, "共性10 ") && !strings.Contains(it.Text, "经 ") {
			direct10 = true
		}
		if strings.HasPrefix(it.Text, "共性6 ") && strings.Contains(it.Text, "（经 各县（市、区））") {
			via6 = true
		}
	}
	if !direct10 || !via6 {
		t.Errorf("unit 长葛市: task 10 direct = %v, task 6 via 各县（市、区） = %v; want both:\n%s", direct10, via6, r.Text())
	}
	// Yellow within 7 days, green later, blue for undated.
	for _, it := range resp.Items {
		switch {
		case strings.HasPrefix(it.Text, "共性7 ") && it.Status != bot.StatusYellow,
			strings.HasPrefix(it.Text, "共性12 ") && it.Status != bot.StatusGreen,
			strings.HasPrefix(it.Text, "共性15 ") && it.Status != bot.StatusFlagged:
			t.Errorf("unit 长葛市 item %q has status %v", it.Text, it.Status)
		}
	}
	r = ask(t, b, "2021-10-01", "unit 禹州市")
	if it := section(t, r, "责任任务").Items[0]; it.Status != bot.StatusRed || !strings.Contains(it.Text, "已逾期 1 天") {
		t.Errorf("unit 禹州市 first item = %+v; want red, 已逾期 1 天", it)
	}
}

func TestUnitNames(t *testing.T) {
	b := orgBot(t)
	for _, tt := range []struct{ in, want string }{
		{"市生态环境局", "市生态环境局"},
		{"生态环境局", "市生态环境局"},
		{"环境局", "市生态环境局"},
		{"市环境局", "市生态环境局"}, // characters in order
		{"城管", "市城管局"},
		{"市城市管理局", "市城管局"}, // configured alias
		{"各县(市、区)", "各县（市、区）"},
		{"经开区", "经济技术开发区"},
	} {
		r := ask(t, b, "2021-09-23", "unit "+tt.in)
		if !strings.HasPrefix(r.Title, "【"+tt.want+"】") {
			t.Errorf("unit %q title = %q; want unit %s", tt.in, r.Title, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"局", "对应多个单位"},
		{"教育局", "没有找到单位"},
		{"", "请给出单位名称"},
	} {
		r := b.Handle(context.Background(), bot.Request{Text: "unit " + tt.in, Now: at(t, "2021-09-23")})
		if !r.Error || !strings.Contains(r.Title, tt.want) || len(r.Footnotes) == 0 {
			t.Errorf("unit %q = %q %v; want an error containing %q with usage", tt.in, r.Title, r.Footnotes, tt.want)
		}
	}
}

func TestUnits(t *testing.T) {
	b := orgBot(t)
	r := ask(t, b, "2021-10-01", "units")
	text := r.Text()
	for _, want := range []string{
		"市生态环境局 — 牵头 9 · 责任 1（其中经集体 1）",
		"长葛市 — 牵头 0 · 责任 20（其中经集体 19） · 逾期节点 2", // tasks 7 and 8
		"禹州市 — 牵头 0 · 责任 22（其中经集体 19） · 逾期节点 3", // and task 5
	} {
		if !strings.Contains(text, want) {
			t.Errorf("units lacks %q:\n%s", want, text)
		}
	}
}

// TestSearchAndLeader checks search and leader against an oracle computed
// from the parsed document, not from the store.
func TestSearchAndLeader(t *testing.T) {
	b := orgBot(t)
	doc, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	matching := func(words ...string) []string {
		var out []string
		for _, tk := range doc.Tasks {
			text := tk.Title + tk.Problem + tk.Goal + strings.Join(tk.Measures, "")
			ok := true
			for _, w := range words {
				ok = ok && strings.Contains(text, w)
			}
			if ok {
				out = append(out, tk.Code)
			}
		}
		return out
	}
	for _, q := range [][]string{{"污泥"}, {"垃圾", "渗滤液"}, {"铁路"}, {"VOCs"}, {"矿山", "公安"}} {
		r := ask(t, b, "2022-01-05", "search "+strings.Join(q, " "))
		want := matching(q...)
		got := codes(r)
		if len(want) > 10 {
			want = want[:10]
		}
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("search %v (-want +got):\n%s", q, diff)
		}
	}
	// Title matches rank first.
	if got := codes(ask(t, b, "2022-01-05", "search 污泥")); len(got) == 0 || got[0] != "共性13" {
		t.Errorf("search 污泥 first = %v; want 共性13 (污泥 in its title)", got)
	}
	r := ask(t, b, "2022-01-05", "search 火星")
	if !strings.Contains(r.Title, "共 0 项") {
		t.Errorf("search 火星 = %q; want 0 results", r.Title)
	}

	var want []string
	for _, tk := range doc.Tasks {
		if slices.ContainsFunc(tk.Leaders, func(p string) bool { return strings.Contains(p, "常务副市长") }) {
			want = append(want, tk.Code)
		}
	}
	got := codes(ask(t, b, "2022-01-05", "leader 常务副市长"))
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leader 常务副市长 (-want +got):\n%s", diff)
	}
}

func TestSearchFollowsReseed(t *testing.T) {
	b := orgBot(t)
	ctx := context.Background()
	if got := codes(ask(t, b, "2022-01-05", "search 独一无二的词")); len(got) != 0 {
		t.Fatalf("search before reseed = %v", got)
	}
	doc := strings.Replace(string(seeds.Xuchang()), "垃圾分类推进不力。", "垃圾分类推进不力。独一无二的词。", 1)
	if _, _, err := seeds.Load(ctx, b.Store, []byte(doc), nil); err != nil {
		t.Fatal(err)
	}
	if got := codes(ask(t, b, "2022-01-05", "search 独一无二的词")); !slices.Equal(got, []string{"共性15"}) {
		t.Errorf("search after reseed = %v; want [共性15]", got)
	}
}

func TestQueryBadInput(t *testing.T) {
	b := orgBot(t)
	for _, text := range []string{"due x", "due -1", "due 1 2", "due 99999", "overdue now", "search",
		"leader 不存在的职务", "unit", "units 长葛市", "unit 火星局"} {
		r := b.Handle(context.Background(), bot.Request{Text: text, Now: at(t, "2021-09-23")})
		if !r.Error || len(r.Footnotes) == 0 || !strings.Contains(r.Footnotes[0], "/") {
			t.Errorf("Handle(%q) = %q %v; want an error with a usage hint", text, r.Title, r.Footnotes)
		}
	}
}

// TestLongListsAreCapped runs on the 10,000-task database.
func TestLongListsAreCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-task database")
	}
	bt := scaleBot(t)
	for _, q := range []string{"due 3650", "overdue", "unit 长葛市", "units"} {
		r := bt.Handle(context.Background(), bot.Request{Text: q, Now: at(t, "2023-01-01")})
		for _, s := range r.Sections {
			if len(s.Items) > bot.MaxItems {
				t.Errorf("Handle(%q) section %q has %d items; want at most %d", q, s.Heading, len(s.Items), bot.MaxItems)
			}
		}
		if q != "units" && !strings.Contains(r.Text(), "…另有") {
			t.Errorf("Handle(%q) does not count the rest:\n%.300s", q, r.Text())
		}
	}
}

func FuzzResolveUnit(f *testing.F) {
	names := []storage.UnitName{
		{UnitID: 1, Unit: "市生态环境局", Name: "市生态环境局"}, {UnitID: 1, Unit: "市生态环境局", Name: "环境局"},
		{UnitID: 2, Unit: "市城管局", Name: "市城管局"}, {UnitID: 3, Unit: "各县（市、区）", Name: "各县（市、区）"},
	}
	for _, s := range []string{"环境局", "城管", "局", "", "各县(市、区)", "\xff", "市市市市"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := bot.ResolveUnit(names, s)
		if err == nil && n.UnitID == 0 {
			t.Errorf("ResolveUnit(%q) = %+v with no error", s, n)
		}
		if err != nil && storage.ErrorMessage(err) == "" {
			t.Errorf("ResolveUnit(%q) error without a message", s)
		}
	})
}

// FuzzParseDays checks ParseDays against a second reading written rune by
// rune (daysByHand), and that every count it accepts reads back the same when
// written out in ASCII or full-width digits.
func FuzzParseDays(f *testing.F) {
	for _, s := range []string{"30", "３０", "7天", "-1", "", "99999999999999999999",
		"-0", "+7", "＋７", " 0030天\u3000", "3660", "3661", "30 天", "天", "7天天", "١٢", "3\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := bot.ParseDays(s)
		want, ok := daysByHand(s)
		switch {
		case ok && (err != nil || n != want):
			t.Fatalf("ParseDays(%q) = %d, %v; want %d", s, n, err, want)
		case !ok && err == nil:
			t.Fatalf("ParseDays(%q) = %d; want an error", s, n)
		case !ok && storage.ErrorCode(err) != storage.EINVALID:
			t.Fatalf("ParseDays(%q) error code %q; want invalid", s, storage.ErrorCode(err))
		case !ok:
			return
		}
		ascii := strconv.Itoa(n)
		wide := strings.Map(func(r rune) rune { return r - '0' + '０' }, ascii)
		for _, in := range []string{ascii, ascii + "天", wide + "天"} {
			if back, err := bot.ParseDays(in); err != nil || back != n {
				t.Errorf("ParseDays(%q) = %d; written back as %q it reads %d, %v", s, n, in, back, err)
			}
		}
	})
}

// daysByHand is what `due DAYS` accepts, read without strconv: spaces around,
// then an optional sign, ASCII or full-width digits, and one optional 天; a
// count from 0 to bot.MaxDueDays ("-0" is 0).
func daysByHand(s string) (int, bool) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	s = strings.TrimSuffix(s, "天")
	neg := false
	if r, size := utf8.DecodeRuneInString(s); strings.ContainsRune("+-＋－", r) {
		neg = r == '-' || r == '－'
		s = s[size:]
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			r -= '0'
		case r >= '０' && r <= '９':
			r -= '０'
		default:
			return 0, false
		}
		n = min(n*10+int(r), bot.MaxDueDays+1)
	}
	if (neg && n != 0) || n > bot.MaxDueDays {
		return 0, false
	}
	return n, true
}

// TestLeader: a whole post wins over a post starting with the words, which
// wins over a post containing them, and the reply says which rule matched;
// checked against the parsed document (issue 10: `leader 市长` listed every
// 副市长's tasks).
func TestLeader(t *testing.T) {
	b := orgBot(t)
	doc, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	naming := func(ok func(post string) bool) []string {
		var out []string
		for _, tk := range doc.Tasks {
			if slices.ContainsFunc(tk.Leaders, ok) {
				out = append(out, tk.Code)
			}
		}
		return out
	}
	is := func(post string) func(string) bool { return func(p string) bool { return p == post } }
	for _, tt := range []struct {
		query string
		want  []string // task codes, any order
		title string   // what the title says of the query
		rule  string   // the footnote's rule and posts
	}{
		{"市长", naming(is("市政府市长")), "责任领导为“市长”", "按职务全称匹配：市政府市长。"},
		{"市 长", naming(is("市政府市长")), "责任领导为“市长”", "按职务全称匹配：市政府市长。"},
		{"市政府市长", naming(is("市政府市长")), "责任领导为“市政府市长”", "按职务全称匹配：市政府市长。"},
		{"常务副市长", naming(is("市政府常务副市长")), "责任领导为“常务副市长”", "按职务全称匹配：市政府常务副市长。"},
		{"书记", naming(is("市委书记")), "责任领导为“书记”", "按职务全称匹配：市委书记。"},
		{"市委", naming(func(p string) bool { return p == "市委书记" || p == "市委常委" }), "责任领导以“市委”开头",
			"按职务开头匹配：市委书记、市委常委。"},
		{"分管城建", naming(is("市政府分管城建副市长")), "责任领导以“分管城建”开头", "按职务开头匹配：市政府分管城建副市长。"},
		{"城建", naming(is("市政府分管城建副市长")), "责任领导含“城建”", "按包含关系匹配：市政府分管城建副市长。"},
		{"副市长", naming(func(p string) bool { return strings.HasSuffix(p, "副市长") }), "责任领导含“副市长”", "按包含关系匹配："},
	} {
		r := b.Handle(context.Background(), bot.Request{Text: "leader " + tt.query, Now: at(t, "2022-01-05")})
		text := r.Text()
		if len(tt.want) == 0 {
			t.Fatalf("leader %s: no task in the document; the case checks nothing", tt.query)
		}
		if title := fmt.Sprintf("%s的任务（%d 项）", tt.title, len(tt.want)); r.Error || r.Title != title {
			t.Errorf("Handle(%q) = %q; want title %q", "leader "+tt.query, text, title)
		}
		got := codes(r)
		slices.Sort(got)
		slices.Sort(tt.want)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Handle(%q) tasks (-want +got):\n%s", "leader "+tt.query, diff)
		}
		if len(r.Footnotes) == 0 || !strings.HasPrefix(r.Footnotes[0], tt.rule) {
			t.Errorf("Handle(%q) = %q; want a footnote starting %q", "leader "+tt.query, text, tt.rule)
		}
	}

	r := b.Handle(context.Background(), bot.Request{Text: "leader 火星", Now: at(t, "2022-01-05")})
	if !r.Error || !strings.Contains(r.Title, "没有与“火星”相符的责任领导职务") || !strings.Contains(r.Title, "/leader") {
		t.Errorf("Handle(%q) = %q; want not found, pointing at /leader", "leader 火星", r.Text())
	}

	// A bare `leader` lists the posts with their task counts.
	r = ask(t, b, "2022-01-05", "leader")
	posts := map[string]int{}
	for _, tk := range doc.Tasks {
		for _, p := range slices.Compact(slices.Sorted(slices.Values(tk.Leaders))) {
			posts[p]++
		}
	}
	if want := fmt.Sprintf("责任领导职务一览（共 %d 个）", len(posts)); r.Title != want {
		t.Errorf("Handle(%q) = %q; want title %q", "leader", r.Text(), want)
	}
	for p, n := range posts {
		if line := fmt.Sprintf("%s — %d 项任务", p, n); !strings.Contains(r.Text(), line) {
			t.Errorf("Handle(%q) = %q; want the line %q", "leader", r.Text(), line)
		}
	}

	var out strings.Builder
	for _, q := range []string{"leader", "leader 市长", "leader 分管城建", "leader 副市长"} {
		fmt.Fprintf(&out, "> %s\n%s\n", q, ask(t, b, "2022-01-05", q).Text())
	}
	golden(t, "leader.golden", []byte(out.String()))
}
