package bot

import (
	"regexp"
	"strings"

	"taskbot/storage"
)

var (
	slackIDRe = regexp.MustCompile(`^[UW][A-Z0-9]{6,20}$`)
	emailRe   = regexp.MustCompile(`^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$`)
)

// ParsePerson reads a person as people write them in chat or in the
// organisation file: a Slack mention ("<@U0123ABC>", "<@U0123ABC|zhang>"),
// a Slack ID ("U0123ABC", "@U0123ABC"), an email (also as Slack sends it,
// "<mailto:a@b.cn|a@b.cn>"), or a name ("@张三", "张三"). A name may precede
// an ID or email: "张三 U0123ABC", "张三 <zhang@xc.gov.cn>". It never fails:
// what is neither an ID nor an email is a name (possibly empty).
func ParsePerson(s string) storage.PersonRef {
	s = strings.TrimSpace(s)
	var ref storage.PersonRef
	if i := strings.LastIndexAny(s, " \t"); i > 0 {
		last := ParsePerson(s[i+1:])
		if last.SlackID != "" || last.Email != "" {
			last.Name = strings.TrimSpace(s[:i])
			return last
		}
	}
	t := strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	t = strings.TrimPrefix(t, "mailto:")
	if i := strings.IndexByte(t, '|'); i >= 0 {
		if strings.HasPrefix(t, "@") && i+1 < len(t) {
			ref.Name = t[i+1:]
		}
		t = t[:i]
	}
	bare := strings.TrimPrefix(t, "@")
	switch {
	case slackIDRe.MatchString(bare):
		ref.SlackID = bare
	case emailRe.MatchString(t):
		ref.Email = strings.ToLower(t)
	default:
		ref.Name = strings.TrimPrefix(strings.TrimSpace(s), "@")
	}
	return ref
}

// IsSlackID reports whether s looks like a Slack user ID (U0123ABC).
func IsSlackID(s string) bool { return slackIDRe.MatchString(s) }
