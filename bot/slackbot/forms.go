package slackbot

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"taskbot/bot"
)

// FormActionID is the action_id prefix of a button that opens a progress
// form (bot.Action.Form); ProgressCallbackID is the form's callback_id.
const (
	FormActionID       = "taskbot_form"
	ProgressCallbackID = "taskbot_progress"
)

// Block (and action) ids of the progress form's inputs.
const (
	fMilestone = "milestone"
	fDone      = "done"
	fPercent   = "percent"
	fText      = "text"
	fFiles     = "files"
	fDate      = "date"
)

// progressFormMeta is what the form carries to its submission.
type progressFormMeta struct {
	Task string `json:"t"`
	Kind string `json:"k"`
	// Home: opened from the Home tab, published again once saved.
	Home bool `json:"h,omitempty"`
}

var formKinds = map[string]struct{ title, text string }{
	bot.FormReport: {"报送进展", "进展情况"},
	bot.FormClose:  {"申请销号", "完成情况（佐证：链接写在这里，或上传文件）"},
	bot.FormExtend: {"申请延期", "延期理由"},
}

// openForm opens the progress form of kind for the task a button names, for
// the presser: the milestones offered are those where their unit still has
// work (bot.FormChoices). Someone who may not report gets the refusal.
func (a *Adapter) openForm(cb slack.InteractionCallback, act *slack.BlockAction) {
	kind := strings.SplitN(strings.TrimPrefix(act.ActionID, FormActionID+"_"), "_", 2)[0]
	if _, ok := formKinds[kind]; !ok {
		return
	}
	// The value names the task, and perhaps the milestone to preselect.
	user := cb.User.ID
	task, seqText, _ := strings.Cut(act.Value, " ")
	selected, _ := strconv.Atoi(seqText)
	log := a.Log.With("action", act.ActionID, "user", user)
	a.goJob(func(ctx context.Context) {
		title, choices, err := a.Bot.FormChoices(ctx, user, task)
		if err != nil {
			_ = a.outcome(ctx, originOf(cb, act), user, bot.Reply{Title: "⚠️ " + bot.Explain(err), Error: true})
			return
		}
		view := ProgressView(kind, task, title, choices, selected)
		if originOf(cb, act).Home {
			meta, _ := json.Marshal(progressFormMeta{Task: task, Kind: kind, Home: true})
			view.PrivateMetadata = string(meta)
		}
		if err := a.Poster.openView(ctx, cb.TriggerID, view); err != nil {
			log.Error("progress form not opened", "err", err)
		}
	})
}

// ProgressView is the form of kind ("report", "close", "extend") for task:
// the milestone (from choices; selected, when offered, is preselected), for
// a report the 完成 box and a percentage, for an extension the date, the
// text, and files as evidence.
func ProgressView(kind, task, title string, choices []bot.Choice, selected int) slack.ModalViewRequest {
	fk := formKinds[kind]
	meta, _ := json.Marshal(progressFormMeta{Task: task, Kind: kind})
	var opts []*slack.OptionBlockObject
	for _, c := range choices {
		if kind == "extend" && c.Value == 0 {
			continue // an extension is of a milestone
		}
		opts = append(opts, slack.NewOptionBlockObject(strconv.Itoa(c.Value), plain(clip(c.Label, 75)), nil))
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("选择节点"), fMilestone, opts...)
	for _, o := range opts {
		if selected > 0 && o.Value == strconv.Itoa(selected) {
			sel.InitialOption = o
		}
	}
	if sel.InitialOption == nil && kind != "extend" && len(opts) > 0 {
		sel.InitialOption = opts[0]
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn("*"+escape(title)+"*"), nil, nil),
		slack.NewInputBlock(fMilestone, plain("节点"), nil, sel),
	}
	if kind == "report" {
		done := slack.NewCheckboxGroupsBlockElement(fDone, slack.NewOptionBlockObject("done", plain("本单位的该节点已完成（报完成，待督查室确认）"), nil))
		cbx := slack.NewInputBlock(fDone, plain("完成"), nil, done)
		cbx.Optional = true
		pct := slack.NewPlainTextInputBlockElement(plain("0–100"), fPercent)
		pin := slack.NewInputBlock(fPercent, plain("进度（%）"), nil, pct)
		pin.Optional = true
		blocks = append(blocks, cbx, pin)
	}
	if kind == "extend" {
		blocks = append(blocks, slack.NewInputBlock(fDate, plain("延期至"), nil, slack.NewDatePickerBlockElement(fDate)))
	}
	text := slack.NewPlainTextInputBlockElement(plain("写明情况；链接作为佐证保存"), fText)
	text.Multiline = true
	tin := slack.NewInputBlock(fText, plain(fk.text), nil, text)
	tin.Optional = kind != "extend" // files may stand for the text
	files := slack.NewInputBlock(fFiles, plain("佐证文件"), nil, slack.NewFileInputBlockElement(fFiles))
	files.Optional = true
	blocks = append(blocks, tin, files)
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: ProgressCallbackID, PrivateMetadata: string(meta),
		Title: plain(fk.title), Submit: plain("提交"), Close: plain("取消"), Blocks: slack.Blocks{BlockSet: blocks}}
}

// submitProgress records a progress form as the person submitting, at once:
// its errors go back into the form; a saved entry closes it, and its
// notices go out as a command's do. A form submitted twice (a double click,
// a retried payload) is recorded once.
func (a *Adapter) submitProgress(cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	var meta progressFormMeta
	err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	if _, ok := formKinds[meta.Kind]; err != nil || !ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{fText: "表单已失效，请重新打开。"})
	}
	v := cb.View.State.Values
	// The view's ID names the submission: a resubmitted view is recorded
	// once (the same unique key as a Slack message).
	f := bot.ProgressForm{Task: meta.Task, Kind: meta.Kind, ID: cb.View.ID}
	if m, err := strconv.Atoi(v[fMilestone][fMilestone].SelectedOption.Value); err == nil {
		f.Milestone = m
	}
	if len(v[fDone][fDone].SelectedOptions) > 0 && meta.Kind == bot.FormReport {
		f.Kind = bot.FormDone
	}
	if p := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v[fPercent][fPercent].Value), "%")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 100 {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{fPercent: "进度应为 0–100 之间的整数。"})
		}
		f.Percent = &n
	}
	f.ExtendTo = v[fDate][fDate].SelectedDate
	f.Text = v[fText][fText].Value
	for _, file := range v[fFiles][fFiles].Files {
		name := file.Name
		if name == "" {
			name = file.Title
		}
		f.Files = append(f.Files, bot.File{ID: file.ID, Name: name, Mime: file.Mimetype, Size: int64(file.Size), URL: file.Permalink})
	}
	ctx, cancel := context.WithTimeout(a.ctx, DefaultAckWithin)
	defer cancel()
	reply, err := a.Bot.SubmitProgress(ctx, cb.User.ID, f)
	if err != nil {
		block := fText
		switch {
		case f.Kind == bot.FormExtend && strings.Contains(bot.Explain(err), "日期"):
			block = fDate
		case strings.Contains(bot.Explain(err), "节点"):
			block = fMilestone
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: bot.Explain(err)})
	}
	a.deliver(reply.Notices) // the entry goes to the task's thread, as a command's does
	if meta.Home {
		user := cb.User.ID
		a.goJob(func(ctx context.Context) {
			if err := a.homeWith(ctx, user, reply); err != nil {
				a.Log.Error("home not refreshed after a form", "user", user, "err", err)
			}
		})
	}
	return nil
}
