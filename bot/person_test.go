package bot_test

import (
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/storage"
)

func TestParsePerson(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want storage.PersonRef
	}{
		{"U0123ABC", storage.PersonRef{SlackID: "U0123ABC"}},
		{"@W0123ABC", storage.PersonRef{SlackID: "W0123ABC"}},
		{"<@U0123ABC>", storage.PersonRef{SlackID: "U0123ABC"}},
		{"<@U0123ABC|zhang>", storage.PersonRef{SlackID: "U0123ABC", Name: "zhang"}},
		{"<@U0123ABC|>", storage.PersonRef{SlackID: "U0123ABC"}},
		{"Zhang@XC.gov.cn", storage.PersonRef{Email: "zhang@xc.gov.cn"}},
		{"<mailto:a@b.cn|a@b.cn>", storage.PersonRef{Email: "a@b.cn"}},
		{"张三 U0123ABC", storage.PersonRef{SlackID: "U0123ABC", Name: "张三"}},
		{"张 三\tU0123ABC", storage.PersonRef{SlackID: "U0123ABC", Name: "张 三"}},
		{" 张三\t<zhang@xc.gov.cn> ", storage.PersonRef{Email: "zhang@xc.gov.cn", Name: "张三"}},
		{"@张三", storage.PersonRef{Name: "张三"}},
		{"张 三", storage.PersonRef{Name: "张 三"}},
		{"U1", storage.PersonRef{Name: "U1"}}, // too short for an ID
		{"u0123abc", storage.PersonRef{Name: "u0123abc"}},
		{"", storage.PersonRef{}},
	} {
		if got := bot.ParsePerson(tt.in); got != tt.want {
			t.Errorf("ParsePerson(%q) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

// FuzzParsePerson checks two properties. Whatever ParsePerson reads as an ID
// or an email, written back in each form it documents (bare, "@ID",
// "<@ID>", "<mailto:e|e>", with the name first), reads back the same. And a
// Slack mention of a valid ID, with or without a label, always yields that
// ID and label.
func FuzzParsePerson(f *testing.F) {
	for _, s := range []string{
		"U0123ABC", "<@U0123ABC|zhang>", "张三 U0123ABC", "a@b.cn", "<mailto:a@b.cn|a@b.cn>", "@张三", "", " ",
		"<@U0123ABC| zhang >", " 张三\u3000 <Zhang@XC.gov.cn>", "mailto:mailto:a@b.cn", "甲 乙\tW0000000000",
	} {
		f.Add(s, "0123ABC", "zhang")
	}
	f.Add("", "", "")
	f.Add("x", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "张三|李四>")
	f.Fuzz(func(t *testing.T, s, id, label string) {
		r := bot.ParsePerson(s)
		if r.SlackID != "" || r.Email != "" {
			// A name before an ID or email is read trimmed.
			want := r
			want.Name = strings.TrimSpace(r.Name)
			for _, form := range personForms(r) {
				in := form
				if want.Name != "" {
					in = want.Name + " " + form
				}
				if got := bot.ParsePerson(in); got != want {
					t.Errorf("ParsePerson(%q) = %+v, written back as %q reads %+v", s, r, in, got)
				}
			}
		}

		id = slackID(id)
		if !bot.IsSlackID(id) {
			t.Fatalf("IsSlackID(%q) = false for a generated ID", id)
		}
		in := "<@" + id + ">"
		if got, want := bot.ParsePerson(in), (storage.PersonRef{SlackID: id}); got != want {
			t.Errorf("ParsePerson(%q) = %+v; want %+v", in, got, want)
		}
		// Slack user names have no spaces; a label with a space followed by
		// an email or ID would be read as "name, then that person".
		label = strings.NewReplacer(" ", "", "\t", "").Replace(label)
		in = "<@" + id + "|" + label + ">"
		if got, want := bot.ParsePerson(in), (storage.PersonRef{SlackID: id, Name: label}); got != want {
			t.Errorf("ParsePerson(%q) = %+v; want %+v", in, got, want)
		}
	})
}

// personForms writes r's ID or email the ways ParsePerson documents.
func personForms(r storage.PersonRef) []string {
	if r.SlackID != "" {
		return []string{r.SlackID, "@" + r.SlackID, "<@" + r.SlackID + ">"}
	}
	forms := []string{"<mailto:" + r.Email + "|" + r.Email + ">"}
	// Bare, a leading "mailto:" is Slack's markup, not part of the address,
	// so an address that itself begins with "mailto:" only survives in the
	// markup form.
	if !strings.HasPrefix(r.Email, "mailto:") {
		forms = append(forms, r.Email, "<"+r.Email+">")
	}
	return forms
}

// slackID turns any string into a valid Slack user ID: U or W, then 6 to 20
// upper-case letters or digits.
func slackID(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteByte("UW"[len(s)%2])
	for i := 0; i < len(s) && i < 20; i++ {
		b.WriteByte(alphabet[int(s[i])%len(alphabet)])
	}
	for b.Len() < 7 {
		b.WriteByte('0')
	}
	return b.String()
}
