package bot

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"taskbot/storage"
)

// ProgressArgs is a parsed `progress` command (or a reply in a task's
// thread, which has no task reference).
type ProgressArgs struct {
	Task TaskRef
	// Unit is the unit the reporter reports for, as typed ("" = infer).
	Unit string
	// Kind is storage.KindReport, KindDone, KindCloseRequest or
	// KindExtensionRequest.
	Kind string
	// Milestone is the milestone number (0 = the task as a whole).
	Milestone int
	// ExtendTo is the date an extension request asks for.
	ExtendTo storage.Date
	Percent  *int
	Text     string
	Evidence []string
	// Files are files shared with the message (a thread reply, a DM).
	Files []File
}

// File is a file someone shared with a message, kept as evidence: the
// chat platform's file ID, name, type, size and a link to it.
type File struct {
	ID, Name, Mime string
	Size           int64
	URL            string
}

// ParseProgress reads the arguments of `progress`: a task reference, then
// optionally "@单位" (or "--unit 单位"), one of "完成 M", "申请销号 [M]",
// "申请延期 M YYYY-MM-DD", a percentage such as "60%", and the text. Links
// in the text are kept as evidence. It returns EINVALID with what is wrong.
func ParseProgress(args []string) (ProgressArgs, error) {
	if len(args) == 0 {
		return ProgressArgs{}, storage.Errorf(storage.EINVALID, "请给出任务编号和进展内容。")
	}
	ref, err := ParseTaskRef(args[0])
	if err != nil {
		return ProgressArgs{}, err
	}
	pa, err := ParseProgressBody(args[1:])
	pa.Task = ref
	return pa, err
}

// ParseProgressBody reads what follows the task reference in `progress`,
// which is also what a reply in a task's thread says.
func ParseProgressBody(words []string) (ProgressArgs, error) {
	pa := ProgressArgs{Kind: storage.KindReport}
	i := 0
	options := func() error {
		for i < len(words) {
			w := words[i]
			switch {
			case strings.HasPrefix(w, "--unit="):
				pa.Unit = strings.TrimPrefix(w, "--unit=")
				i++
			case w == "--unit":
				if i+1 >= len(words) {
					return storage.Errorf(storage.EINVALID, "--unit 后面请给出单位名称。")
				}
				pa.Unit = words[i+1]
				i += 2
			case (strings.HasPrefix(w, "@") || strings.HasPrefix(w, "＠")) && pa.Unit == "" && len(w) > 1:
				pa.Unit = strings.TrimLeft(w, "@＠")
				i++
			case pa.Percent == nil && isPercent(w):
				p, err := ParsePercent(w)
				if err != nil {
					return err
				}
				pa.Percent = &p
				i++
			default:
				return nil
			}
		}
		return nil
	}
	if err := options(); err != nil {
		return pa, err
	}
	if i < len(words) {
		if v := progressVerb(words[i]); v != nil {
			k := v.kind
			pa.Kind = k
			i++
			switch k {
			case storage.KindDone, storage.KindExtensionRequest:
				if i >= len(words) {
					return pa, storage.Errorf(storage.EINVALID, "请给出节点编号，例如“%s 1 …”。", words[i-1])
				}
				m, err := ParseMilestone(words[i])
				if err != nil {
					return pa, err
				}
				pa.Milestone = m
				i++
			case storage.KindCloseRequest:
				if i < len(words) {
					// A number here names the milestone, even alone: "申请销号 2"
					// must not become a request to close the whole task.
					if m, err := ParseMilestone(words[i]); err == nil {
						pa.Milestone = m
						i++
					}
				}
			}
			if k == storage.KindExtensionRequest {
				if i >= len(words) {
					return pa, storage.Errorf(storage.EINVALID, "请给出申请延期到的日期，例如 2021-12-31。")
				}
				d, err := ParseExtensionDate(words[i])
				if err != nil {
					return pa, err
				}
				pa.ExtendTo = d
				i++
			}
		}
	}
	if err := options(); err != nil {
		return pa, err
	}
	pa.Text = strings.Join(words[i:], " ")
	pa.Evidence = Links(pa.Text)
	if pa.Unit != "" && strings.TrimSpace(pa.Unit) == "" {
		return pa, storage.Errorf(storage.EINVALID, "请给出单位名称。")
	}
	if pa.Text == "" {
		noText := func(msg string) error { return &storage.Error{Code: storage.EINVALID, Message: msg, Err: ErrNoText} }
		switch pa.Kind {
		case storage.KindReport:
			if pa.Percent == nil {
				return pa, noText("请写明进展内容。")
			}
		case storage.KindDone, storage.KindCloseRequest:
			return pa, noText("请附上完成情况或佐证材料（文字或链接）。")
		case storage.KindExtensionRequest:
			return pa, noText("请写明延期理由。")
		}
	}
	if len([]rune(pa.Text)) > MaxProgressText {
		return pa, storage.Errorf(storage.EINVALID, "进展内容过长（超过 %d 字），请精简或附链接。", MaxProgressText)
	}
	return pa, nil
}

// ErrNoText is the cause of the EINVALID error ParseProgressBody returns
// when everything but the text is right: a thread reply that carries files
// has its text made from them.
var ErrNoText = errors.New("bot: progress without text")

// MaxProgressText is the longest progress text accepted, in characters.
const MaxProgressText = 4000

// isPercent reports whether w is written as a percentage, valid or not:
// a number, signed or not, then "%" ("60%", "-5%", "150%", "－５％"), so
// that a bad one is refused rather than saved as the text.
func isPercent(w string) bool {
	w, ok := strings.CutSuffix(foldWidth(w), "%")
	if !ok {
		return false
	}
	for _, sign := range []string{"+", "-", "−"} {
		if t, ok := strings.CutPrefix(w, sign); ok {
			w = t
			break
		}
	}
	return w != "" && unicode.IsDigit(rune(w[0]))
}

// ParsePercent reads "60%" or "６０％" as 0–100. Anything else (a sign, a
// fraction, more than 100) is EINVALID, saying what is valid.
func ParsePercent(w string) (int, error) {
	t := strings.TrimSuffix(foldWidth(strings.TrimSpace(w)), "%")
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 100 || len(t) > 3 || t[0] == '+' || t[0] == '-' {
		return 0, storage.Errorf(storage.EINVALID, "“%s”不是有效的百分比：进度应为 0%%–100%% 之间的整数，如 60%%。", clip(w, 20))
	}
	return n, nil
}

// ParseMilestone reads a milestone number: "1", "１", "节点1", "#1".
func ParseMilestone(w string) (int, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(foldWidth(strings.TrimSpace(w)), "节点"), "#")
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > 99 || len(t) > 2 {
		return 0, storage.Errorf(storage.EINVALID, "“%s”不是节点编号（如 1、节点2）。", clip(w, 20))
	}
	return n, nil
}

var dateNums = regexp.MustCompile(`^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$`)

// ParseExtensionDate reads the date an extension asks for: 2021-12-31,
// 2021/12/31, 2021.12.31 or 2021年12月31日, full-width digits allowed. It
// returns EINVALID for anything else or an impossible day.
func ParseExtensionDate(w string) (storage.Date, error) {
	m := dateNums.FindStringSubmatch(foldWidth(strings.TrimSpace(w)))
	bad := storage.Errorf(storage.EINVALID, "“%s”不是有效日期，请写成 YYYY-MM-DD，如 2021-12-31。", clip(w, 20))
	if m == nil {
		return storage.Date{}, bad
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	date := storage.NewDate(y, time.Month(mo), d)
	if y < 2000 || date.Year != y || int(date.Month) != mo || date.Day != d {
		return storage.Date{}, bad
	}
	return date, nil
}

var linkRe = regexp.MustCompile(`https?://[^\s<>|"]+`)

// Links returns the links in text (Slack's "<url|label>" included), in
// order, without repeats.
func Links(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range linkRe.FindAllString(text, -1) {
		l = strings.TrimRight(l, ".,;:!?)）。，；")
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// progressVerb returns the progress verb (see the command table) that word
// names, or nil.
func progressVerb(word string) *verb {
	for _, v := range progressVerbs() {
		if v.is(word) {
			return v
		}
	}
	return nil
}
