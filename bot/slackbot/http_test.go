package slackbot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/fakeslack"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// Slack's documented signing example (SLACK.md).
const (
	exampleSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTS     = "1531420618"
	exampleBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerifySlackExample(t *testing.T) {
	at := time.Unix(1531420618, 0).Add(30 * time.Second)
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		return h
	}
	oneByte := []byte(exampleBody)
	oneByte[len(oneByte)-1] ^= 1
	tests := []struct {
		name   string
		h      http.Header
		body   []byte
		secret string
		now    time.Time
		want   error
	}{
		{"documented example", header(exampleTS, exampleSig), []byte(exampleBody), exampleSecret, at, nil},
		{"one byte changed", header(exampleTS, exampleSig), oneByte, exampleSecret, at, errBadSignature},
		{"wrong secret", header(exampleTS, exampleSig), []byte(exampleBody), exampleSecret + "x", at, errBadSignature},
		{"stale timestamp", header(exampleTS, exampleSig), []byte(exampleBody), exampleSecret, at.Add(5 * time.Minute), errStale},
		{"from the future", header(exampleTS, exampleSig), []byte(exampleBody), exampleSecret, at.Add(-6 * time.Minute), errStale},
		{"other timestamp", header("1531420619", exampleSig), []byte(exampleBody), exampleSecret, at, errBadSignature},
		{"no v0 prefix", header(exampleTS, strings.TrimPrefix(exampleSig, "v0=")), []byte(exampleBody), exampleSecret, at, errBadSignature},
		{"short signature", header(exampleTS, exampleSig[:20]), []byte(exampleBody), exampleSecret, at, errBadSignature},
		{"not hex", header(exampleTS, "v0="+strings.Repeat("zz", 32)), []byte(exampleBody), exampleSecret, at, errBadSignature},
		{"no headers", http.Header{}, []byte(exampleBody), exampleSecret, at, errNoSignature},
		{"bad timestamp", header("soon", exampleSig), []byte(exampleBody), exampleSecret, at, errBadTimestamp},
		{"no secret configured", header(exampleTS, exampleSig), []byte(exampleBody), "", at, errNoSignature},
	}
	for _, tt := range tests {
		if got := verify(tt.h, tt.body, tt.secret, tt.now); got != tt.want {
			t.Errorf("%s: verify = %v; want %v", tt.name, got, tt.want)
		}
	}
	if got := Sign(exampleSecret, exampleTS, []byte(exampleBody)); got != exampleSig {
		t.Errorf("Sign(example) = %q; want %q", got, exampleSig)
	}
}

// TestVerifyAgreesWithSlackGo checks our clock-injectable verifier against
// slack-go's for a fresh request.
func TestVerifyAgreesWithSlackGo(t *testing.T) {
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, body := range []string{exampleBody, "", "payload=%7B%7D"} {
		for _, sig := range []string{Sign(testSecret, ts, []byte(body)), Sign("other", ts, []byte(body))} {
			h := http.Header{}
			h.Set("X-Slack-Request-Timestamp", ts)
			h.Set("X-Slack-Signature", sig)
			sv, err := slack.NewSecretsVerifier(h, testSecret)
			if err != nil {
				t.Fatal(err)
			}
			sv.Write([]byte(body))
			theirs := sv.Ensure() == nil
			ours := verify(h, []byte(body), testSecret, now) == nil
			if ours != theirs {
				t.Errorf("body %q sig %s: ours %v, slack-go %v", body, sig, ours, theirs)
			}
		}
	}
}

func TestCommandText(t *testing.T) {
	tests := []struct {
		slash, text string
		want        string
		share       bool
	}{
		{"/task", "6", "task 6", false},
		{"/task", "  ６ ", "task ６", false},
		{"/task", "help", "help", false},
		{"/task", "", "task", false},
		{"/task", "6 公开", "task 6", true},
		{"/task", "share 6", "task 6", true},
		{"/task", "6 SHARE", "task 6", true},
		{"/unit", "长葛市", "unit 长葛市", false},
		{"/progress", "6 已完成 节点1", "progress 6 已完成 节点1", false},
		{"/task", "task 6", "task 6", false},
		{"/帮助", "", "帮助", false},
		// Progress is never shared and keeps every word the reporter wrote.
		{"/progress", "6 信息 公开 完成", "progress 6 信息 公开 完成", false},
		{"/progress", "6 share", "progress 6 share", false},
		{"/task", "6 销号 公开", "task 6 销号 公开", false},
		{"/unit", "bind 市城管局 <@U1|a> 公开", "unit bind 市城管局 <@U1|a> 公开", false},
		{"/unit", "members 城管 公开", "unit members 城管", true},
		{"/progress", "6 A&amp;B &lt;已完成&gt;", "progress 6 A&B <已完成>", false},
		{"/progress", "6 请 <@U1|张三> 核实 <https://x.cn/a|x.cn/a> <#C9|督查>", "progress 6 请 @张三 核实 https://x.cn/a #督查", false},
		{"/unit", "bind 市城管局 <@U1|张三>", "unit bind 市城管局 <@U1|张三>", false},
	}
	a := New(newBot(t), nil, nil)
	for _, tt := range tests {
		got, share := a.commandText(tt.slash, tt.text)
		if got != tt.want || share != tt.share {
			t.Errorf("commandText(%q, %q) = %q, %v; want %q, %v", tt.slash, tt.text, got, share, tt.want, tt.share)
		}
	}
}

func TestSlashCommands(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, command, text string
		wantType            string
		contains            []string
		button              bool
	}{
		// Slack leads with what changes: the compact card; 全文 has the rest.
		{"task card", "/task", "6", "ephemeral",
			[]string{"【共性6】", "逾期 2 个节点", "市城管局", "截至 2026-03-02", "节点1", "/task 共性6 全文"}, true},
		{"task card in full", "/task", "6 全文", "ephemeral", []string{"【共性6】", "整改措施", "整改目标", "节点1"}, true},
		{"full-width and share", "/task", "６ 公开", "in_channel", []string{"【共性6】"}, false},
		{"individual task", "/task", "个性1", "ephemeral", []string{"【个性1】"}, true},
		{"not a number", "/task", "abc", "ephemeral", []string{"⚠️", "“abc”不是任务编号", "用法：/task 编号"}, false},
		{"no number", "/task", "", "ephemeral", []string{"请给出任务编号", "用法"}, false},
		{"no such task", "/task", "999", "ephemeral", []string{"没有共性任务 999"}, false},
		{"help", "/task", "help", "ephemeral", []string{"taskbot 命令一览"}, true},
	}
	for _, tt := range tests {
		w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm(tt.command, tt.text, e.hooks.url(tt.name))))
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d; want 200", tt.name, w.Code)
			continue
		}
		var resp struct {
			ResponseType string       `json:"response_type"`
			Text         string       `json:"text"`
			Blocks       slack.Blocks `json:"blocks"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Errorf("%s: body %q: %v", tt.name, w.Body, err)
			continue
		}
		if resp.ResponseType != tt.wantType {
			t.Errorf("%s: response_type %q; want %q", tt.name, resp.ResponseType, tt.wantType)
		}
		text := blocksText(resp.Blocks.BlockSet)
		for _, c := range tt.contains {
			if !strings.Contains(text, c) {
				t.Errorf("%s: blocks lack %q:\n%s", tt.name, c, text)
			}
			if !strings.Contains(resp.Text, c) {
				t.Errorf("%s: fallback text lacks %q:\n%s", tt.name, c, resp.Text)
			}
		}
		hasButton := strings.Contains(w.Body.String(), ShareActionID)
		if hasButton != tt.button {
			t.Errorf("%s: share button %v; want %v", tt.name, hasButton, tt.button)
		}
	}
	e.a.wait()
	if got := e.hooks.recorded(); len(got) != 0 {
		t.Errorf("response_url got %d messages; want none (answers fit the acknowledgement)", len(got))
	}
}

// TestSlashAsOfAnotherDay: with the clock's as-of moment on another day
// (taskbot serve never does that, but --at-like clocks must not break
// Slack), a request is still verified against real time (Clock.Wall) and
// answered as of Clock.AsOf.
func TestSlashAsOfAnotherDay(t *testing.T) {
	e := newEnv(t)
	e.a.Bot.Store.Clock.AsOf = func() time.Time { return testenv.At(t, "2021-12-20 09:00") }
	w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/task", "6", e.hooks.url("asof"))))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; want 200 (signed at real time)", w.Code)
	}
	if body := w.Body.String(); !strings.Contains(body, "截至 2021-12-20") || !strings.Contains(body, "剩余 11 天") {
		t.Errorf("answer %.300s; want the card as of 2021-12-20", body)
	}
	e.a.wait()
}

func TestSlashLateGoesToResponseURL(t *testing.T) {
	e := newEnv(t)
	e.a.AckWithin = time.Nanosecond // the core cannot answer that fast
	w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/task", "6 公开", e.hooks.url("late"))))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; want 200", w.Code)
	}
	e.a.wait()
	// Exactly one answer, wherever it went.
	inAck := strings.Contains(w.Body.String(), "【共性6】")
	hooks := e.hooks.recorded()
	if inAck {
		t.Logf("answer beat a 1ns deadline; checking the ack only")
		if len(hooks) != 0 {
			t.Errorf("answer delivered twice: in the ack and %d times to response_url", len(hooks))
		}
		return
	}
	if !strings.Contains(w.Body.String(), "正在查询") {
		t.Errorf("late ack = %s; want the pending note", w.Body)
	}
	if len(hooks) != 1 {
		t.Fatalf("response_url got %d messages; want 1", len(hooks))
	}
	m := hooks[0]
	if m.Path != "/commands/T1/late" || m.Msg.ResponseType != "in_channel" || !strings.Contains(blocksText(m.Msg.Blocks.BlockSet), "【共性6】") {
		t.Errorf("response_url got %+v; want the in_channel card at /commands/T1/late", m)
	}
}

func TestHTTPRefusals(t *testing.T) {
	e := newEnv(t)
	e.a.MaxBody = 4 << 10
	body := commandForm("/task", "6", e.hooks.url("x"))
	unsigned := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
	badSig := signed("/slack/commands", "application/x-www-form-urlencoded", body)
	badSig.Header.Set("X-Slack-Signature", Sign("wrong", badSig.Header.Get("X-Slack-Request-Timestamp"), body))
	stale := signed("/slack/commands", "application/x-www-form-urlencoded", body)
	oldTS := strconv.FormatInt(testNow.Add(-6*time.Minute).Unix(), 10)
	stale.Header.Set("X-Slack-Request-Timestamp", oldTS)
	stale.Header.Set("X-Slack-Signature", Sign(testSecret, oldTS, body))
	big := append(body, "&pad="+strings.Repeat("x", 8<<10)...)

	tests := []struct {
		name string
		r    *http.Request
		want int
	}{
		{"unsigned", unsigned, http.StatusUnauthorized},
		{"wrong signature", badSig, http.StatusUnauthorized},
		{"stale", stale, http.StatusUnauthorized},
		{"unsigned event", httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(`{"type":"url_verification","challenge":"x"}`)), http.StatusUnauthorized},
		{"malformed form", signed("/slack/commands", "application/x-www-form-urlencoded", []byte("%zz=1")), http.StatusBadRequest},
		{"no command", signed("/slack/commands", "application/x-www-form-urlencoded", []byte("text=6")), http.StatusBadRequest},
		{"malformed event", signed("/slack/events", "application/json", []byte(`{"type":`)), http.StatusBadRequest},
		{"event not an object", signed("/slack/events", "application/json", []byte(`[1,2]`)), http.StatusBadRequest},
		{"event null", signed("/slack/events", "application/json", []byte(`null`)), http.StatusBadRequest},
		{"event without a type", signed("/slack/events", "application/json", []byte(`{}`)), http.StatusBadRequest},
		{"event a string", signed("/slack/events", "application/json", []byte(`"x"`)), http.StatusBadRequest},
		{"malformed interaction", signed("/slack/interactivity", "application/x-www-form-urlencoded", []byte("payload=%7Bnope")), http.StatusBadRequest},
		{"oversized", signed("/slack/commands", "application/x-www-form-urlencoded", big), http.StatusRequestEntityTooLarge},
		{"wrong method", httptest.NewRequest(http.MethodGet, "/slack/commands", nil), http.StatusMethodNotAllowed},
		{"healthz", httptest.NewRequest(http.MethodGet, "/healthz", nil), http.StatusOK},
	}
	for _, tt := range tests {
		w := e.serve(tt.r)
		if w.Code != tt.want {
			t.Errorf("%s: status %d; want %d (body %q)", tt.name, w.Code, tt.want, w.Body)
		}
		if w.Code == http.StatusUnauthorized && strings.TrimSpace(w.Body.String()) != "Unauthorized" {
			t.Errorf("%s: 401 body %q gives detail", tt.name, w.Body)
		}
	}
	if strings.Contains(e.logText(), testSecret) {
		t.Errorf("log contains the signing secret:\n%s", e.logText())
	}
}

func eventBody(id, inner string) []byte {
	return []byte(`{"token":"legacy","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"` + id +
		`","event_time":1772413200,"event":` + inner + `}`)
}

func mention(text, ts, threadTS string) string {
	m := map[string]string{"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": "C1", "event_ts": ts}
	if threadTS != "" {
		m["thread_ts"] = threadTS
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestURLVerification(t *testing.T) {
	e := newEnv(t)
	w := e.serve(signed("/slack/events", "application/json", []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)))
	if w.Code != http.StatusOK || w.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("challenge = %d %q; want 200 and the challenge", w.Code, w.Body)
	}
}

func TestEventsAnsweredInThread(t *testing.T) {
	tests := []struct {
		name  string
		inner string
		want  []fakeslack.Post // Blocks not compared
	}{
		{"mention", mention("<@UBOT> 6", "1772413100.000100", ""),
			[]fakeslack.Post{{Method: "chat.postMessage", Channel: "C1", ThreadTS: "1772413100.000100"}}},
		{"mention inside a thread", mention("<@UBOT>  ６", "1772413100.000300", "1772413000.000100"),
			[]fakeslack.Post{{Method: "chat.postMessage", Channel: "C1", ThreadTS: "1772413000.000100"}}},
		{"mention with share word", mention("<@UBOT> 6 公开", "1772413100.000400", ""),
			[]fakeslack.Post{{Method: "chat.postMessage", Channel: "C1", ThreadTS: "1772413100.000400"}}},
		{"direct message", `{"type":"message","channel_type":"im","user":"U1","text":"task 6","ts":"1772413100.000500","channel":"D1"}`,
			[]fakeslack.Post{{Method: "chat.postMessage", Channel: "D1", ThreadTS: "1772413100.000500"}}},
		{"bot's own DM", `{"type":"message","channel_type":"im","user":"UBOT","bot_id":"B1","text":"【共性6】","ts":"1.2","channel":"D1"}`, nil},
		{"edited DM", `{"type":"message","subtype":"message_changed","channel_type":"im","ts":"1.3","channel":"D1","message":{"type":"message","user":"U1","text":"6","ts":"1.1"}}`, nil},
		{"channel message", `{"type":"message","channel_type":"channel","user":"U1","text":"<@UBOT> 6","ts":"1.4","channel":"C1"}`, nil},
		{"bot mention", `{"type":"app_mention","user":"U2","bot_id":"B2","text":"<@UBOT> 6","ts":"1.5","channel":"C1"}`, nil},
	}
	for i, tt := range tests {
		e := newEnv(t)
		w := e.serve(signed("/slack/events", "application/json", eventBody("Ev"+strconv.Itoa(i), tt.inner)))
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d; want 200", tt.name, w.Code)
		}
		e.a.wait()
		got := e.slack.Posts()
		var blocks []slack.Block
		if len(got) > 0 {
			blocks = got[0].Blocks.BlockSet
		}
		for j := range got {
			got[j].Blocks, got[j].Text, got[j].TS, got[j].Token = slack.Blocks{}, "", "", ""
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: posts (-want +got):\n%s", tt.name, diff)
		}
		if tt.want != nil {
			if text := blocksText(blocks); !strings.Contains(text, "【共性6】") || strings.Contains(text, "⚠️") {
				t.Errorf("%s: posted blocks:\n%s\nwant the card of task 6", tt.name, text)
			}
			raw, _ := json.Marshal(blocks)
			if types := blockTypes(blocks); types[0] != "header" || strings.Contains(string(raw), ShareActionID) {
				t.Errorf("%s: block types %v; want a header first and no share button (a thread is public already)", tt.name, types)
			}
		}
	}
}

func TestEventRetries(t *testing.T) {
	post := func(e *testEnv, id string, retry int) int {
		r := signed("/slack/events", "application/json", eventBody(id, mention("<@UBOT> 6", "1772413100.000100", "")))
		if retry > 0 {
			r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		return e.serve(r).Code
	}

	t.Run("processed once", func(t *testing.T) {
		e := newEnv(t)
		for retry := range 3 {
			if code := post(e, "EvOnce", retry); code != http.StatusOK {
				t.Errorf("delivery %d: status %d; want 200", retry, code)
			}
			e.a.wait()
		}
		if got := e.slack.Posts(); len(got) != 1 {
			t.Errorf("posted %d messages for one event delivered 3 times; want 1", len(got))
		}
	})

	t.Run("first delivery failed", func(t *testing.T) {
		e := newEnv(t)
		e.slack.FailNext(func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
		if code := post(e, "EvFail", 0); code != http.StatusInternalServerError {
			t.Errorf("failed delivery: status %d; want 500 so Slack retries", code)
		}
		e.a.wait()
		if code := post(e, "EvFail", 1); code != http.StatusOK {
			t.Errorf("retry: status %d; want 200", code)
		}
		e.a.wait()
		if code := post(e, "EvFail", 2); code != http.StatusOK {
			t.Errorf("second retry: status %d; want 200", code)
		}
		e.a.wait()
		var msgs int
		for _, p := range e.slack.Posts() {
			if p.Method == "chat.postMessage" {
				msgs++
			}
		}
		if msgs != 1 {
			t.Errorf("posted %d answers; want 1 (the retry's)", msgs)
		}
	})

	t.Run("retry while first in flight", func(t *testing.T) {
		e := newEnv(t)
		e.a.AckWithin = 20 * time.Millisecond
		hold := make(chan struct{})
		e.slack.Hold(hold)
		if code := post(e, "EvSlow", 0); code != http.StatusOK {
			t.Errorf("slow delivery: status %d; want 200 (acknowledged in time)", code)
		}
		if code := post(e, "EvSlow", 1); code != http.StatusOK {
			t.Errorf("retry in flight: status %d; want 200", code)
		}
		e.slack.Hold(nil)
		close(hold)
		e.a.wait()
		if code := post(e, "EvSlow", 2); code != http.StatusOK {
			t.Errorf("retry after success: status %d; want 200", code)
		}
		e.a.wait()
		if got := e.slack.Posts(); len(got) != 1 {
			t.Errorf("posted %d messages; want 1", len(got))
		}
	})
}

func TestShareButton(t *testing.T) {
	e := newEnv(t)
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]string{"id": "U1", "username": "zhang"},
		"channel":      map[string]string{"id": "C1", "name": "rectify"},
		"response_url": e.hooks.url("share"),
		"trigger_id":   "1.2.3",
		"container":    map[string]any{"type": "message", "is_ephemeral": true},
		"actions": []map[string]any{{
			"action_id": ShareActionID, "block_id": "b1", "type": "button", "value": "task 6",
			"text": map[string]string{"type": "plain_text", "text": "公开到频道"}, "action_ts": "1772413200.1",
		}},
	})
	w := e.serve(signed("/slack/interactivity", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode())))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; want 200", w.Code)
	}
	e.a.wait()
	got := e.hooks.recorded()
	if len(got) != 1 {
		t.Fatalf("response_url got %d messages; want 1", len(got))
	}
	text := blocksText(got[0].Msg.Blocks.BlockSet)
	if got[0].Msg.ResponseType != "in_channel" || !strings.Contains(text, "【共性6】") || !strings.Contains(text, "由 <@U1> 公开") {
		t.Errorf("shared message: type %q, blocks\n%s\nwant in_channel card noting who shared it", got[0].Msg.ResponseType, text)
	}
	if strings.Contains(text, "公开到频道") {
		t.Errorf("shared message still has the share button")
	}
}

// TestShareButtonNeverRerunsWrites: a share payload naming a command that
// writes (forged, or from an old message) runs nothing.
func TestShareButtonNeverRerunsWrites(t *testing.T) {
	e := newEnv(t)
	for _, value := range []string{"progress 6 已完成调查", "task 6 销号", "unit bind 市城管局 U2"} {
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]string{"id": "U1"}, "channel": map[string]string{"id": "C1"},
			"response_url": e.hooks.url("share"), "trigger_id": "1.2.3",
			"actions": []map[string]any{{"action_id": ShareActionID, "block_id": "b1", "type": "button", "value": value}},
		})
		w := e.serve(signed("/slack/interactivity", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode())))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d; want 200", w.Code)
		}
	}
	e.a.wait()
	if got := e.hooks.recorded(); len(got) != 0 {
		t.Errorf("share of a writing command answered %d times; want it refused", len(got))
	}
	if !strings.Contains(e.logText(), "share of a command that writes refused") {
		t.Errorf("refusal not logged:\n%s", e.logText())
	}
}

// TestSlackTokenNotLogged checks that a failing post logs the channel and
// Slack's error, and never the token.
func TestPostErrorsLogged(t *testing.T) {
	e := newEnv(t)
	e.slack.FailNext(fakeslack.Error("not_in_channel"))
	_, err := e.a.Poster.Post(t.Context(), "C9", "", e.a.Bot.Handle(t.Context(), botReq("task 6")))
	if slackError(err) != "not_in_channel" {
		t.Fatalf("Post error = %v; want not_in_channel", err)
	}
	log := e.logText()
	for _, want := range []string{"channel=C9", "not_in_channel"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "xoxb-test-token") {
		t.Errorf("log contains the bot token:\n%s", log)
	}
}

// TestMentionProgressNotRecordedTwice: the answer to "@taskbot progress …"
// fails to post, Slack retries the event: the entry is recorded once.
func TestMentionProgressNotRecordedTwice(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	st := e.a.Bot.Store
	if err := st.ApplyPeople(ctx, storage.PeopleSpec{Supervisors: []storage.PersonRef{bot.ParsePerson("U1")}}); err != nil {
		t.Fatal(err)
	}
	e.slack.FailNext(fakeslack.Error("internal_error"))
	body := eventBody("EvP", mention("<@UBOT> progress 6 已完成排查", "1772413100.000100", ""))
	e.serve(signed("/slack/events", "application/json", body))
	e.a.wait()
	r := signed("/slack/events", "application/json", body)
	r.Header.Set("X-Slack-Retry-Num", "1")
	r.Header.Set("X-Slack-Retry-Reason", "http_error")
	if w := e.serve(r); w.Code != http.StatusOK {
		t.Errorf("retry status %d; want 200", w.Code)
	}
	e.a.wait()
	t6, err := st.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.TaskProgress(ctx, t6.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Errorf("%d progress entries after one mention and a retry; want 1", len(ps))
	}
}

func TestMessageText(t *testing.T) {
	a := New(newBot(t), nil, nil)
	for _, tt := range []struct{ in, want string }{
		{"<@UBOT> 6", "6"},
		{"  <@UBOT>   <@UBOT2> task 6", "task 6"},
		{"<@UBOT> unit bind 市城管局 <@U456|zhang>", "unit bind 市城管局 <@U456|zhang>"},
		{"<@UBOT> search a &amp; b", "search a & b"},
		{"<@UBOT> progress 6 请 <@U9|李四> 看 <https://x.cn|x.cn>", "progress 6 请 @李四 看 https://x.cn"},
		{"task 6", "task 6"},
	} {
		if got := a.messageText(tt.in); got != tt.want {
			t.Errorf("messageText(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestAskButtons: the compact card carries 查看全文, 各单位进度 and 查看记录;
// pressing 查看全文 answers the presser alone with the whole card; a button
// naming a command that writes (forged) runs nothing.
func TestAskButtons(t *testing.T) {
	e := newEnv(t)
	msgs := render(e.a.Bot.Handle(t.Context(), botReq("task 6")), renderOptions{})
	var values []string
	for _, blk := range msgs[len(msgs)-1].Blocks {
		if ab, ok := blk.(*slack.ActionBlock); ok {
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && strings.HasPrefix(btn.ActionID, AskActionID) {
					values = append(values, btn.Value)
				}
			}
		}
	}
	if strings.Join(values, ",") != "task 共性6 全文,task 共性6 分解,task 共性6 history" {
		t.Fatalf("card buttons = %q; want 全文, 分解, history", values)
	}
	press := func(value string) {
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]string{"id": "U1"}, "channel": map[string]string{"id": "C1"},
			"response_url": e.hooks.url("ask"), "trigger_id": "1.2.3",
			"actions": []map[string]any{{"action_id": AskActionID + "_0", "block_id": "b1", "type": "button", "value": value}},
		})
		w := e.serve(signed("/slack/interactivity", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode())))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d; want 200", w.Code)
		}
		e.a.wait()
	}
	press("task 共性6 全文")
	got := e.hooks.recorded()
	if len(got) != 1 || got[0].Msg.ResponseType == "in_channel" || !strings.Contains(blocksText(got[0].Msg.Blocks.BlockSet), "整改措施") {
		t.Fatalf("查看全文 answered %+v; want one ephemeral message with the whole card", got)
	}
	press("task 6 销号")
	press("progress 6 按钮伪造")
	if n := len(e.hooks.recorded()); n != 1 {
		t.Errorf("buttons naming writes answered %d more times; want none", n-1)
	}
	if !strings.Contains(e.logText(), "button naming a command that writes refused") {
		t.Errorf("refusal not logged")
	}
}

// TestVerboseLogsOutcomes: at debug level (`serve -v`) every request's
// outcome is logged: the HTTP line (path, status), and the core's (the
// command's name and whether it failed), never the text typed.
func TestVerboseLogsOutcomes(t *testing.T) {
	e := newEnv(t)
	var core bytes.Buffer
	e.a.Bot.Log = slog.New(slog.NewTextHandler(&syncWriter{w: &core, mu: &e.mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/task", "6 机密词", e.hooks.url("v")))); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	e.serve(unsignedRequest("/slack/events"))
	e.a.wait()
	e.mu.Lock()
	coreLog := core.String()
	e.mu.Unlock()
	log := e.logText()
	for _, want := range []string{"path=/slack/commands status=200", "path=/slack/events status=401"} {
		if !strings.Contains(log, want) {
			t.Errorf("adapter log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(coreLog, "request handled") || !strings.Contains(coreLog, "command=task") {
		t.Errorf("core log lacks the outcome of /task 6:\n%s", coreLog)
	}
	if strings.Contains(log+coreLog, "机密词") {
		t.Errorf("a log holds the text typed:\n%s\n%s", log, coreLog)
	}
}

func unsignedRequest(path string) *http.Request {
	return httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{}`))
}

// TestEventRememberedAcrossRestart: an event processed before a restart is
// not processed again when Slack retries it to the new process (the
// database remembers its id), and the same message arriving under another
// event id is recorded once (the entry keeps the message's channel and ts).
func TestEventRememberedAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "taskbot.db")
	f := fakeslack.New(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	start := func() (*Adapter, *storage.Store) {
		t.Helper()
		st, err := testenv.Open(path, testenv.AsOf(testNow), testenv.Wall(testNow), testenv.Directory())
		if err != nil {
			t.Fatal(err)
		}
		a := New(bot.New(st, nil), NewPoster(slack.New("xoxb-test-token", slack.OptionAPIURL(f.URL())), log), log)
		a.SigningSecret = testSecret
		return a, st
	}
	entries := func(st *storage.Store) int {
		t.Helper()
		t6, err := st.FindTask(t.Context(), 1, 6)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := st.TaskProgress(t.Context(), t6.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	send := func(a *Adapter, id string, retry int) {
		t.Helper()
		by := strings.Replace(mention("<@UBOT> progress 6 已完成排查", "1772413100.000100", ""), `"user":"U1"`, `"user":"U0000SUP1"`, 1)
		r := signed("/slack/events", "application/json", eventBody(id, by))
		if retry > 0 {
			r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		w := httptest.NewRecorder()
		a.HTTPHandler().ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("event %s: status %d", id, w.Code)
		}
		a.wait()
	}

	a, st := start()
	send(a, "EvR", 0)
	if n := entries(st); n != 1 {
		t.Fatalf("%d entries after the first delivery; want 1", n)
	}
	a.Shutdown(t.Context())
	st.Close()

	a, st = start() // the restart
	defer func() { a.Shutdown(t.Context()); st.Close() }()
	send(a, "EvR", 1)
	send(a, "EvR-other", 0)
	if n := entries(st); n != 1 {
		t.Errorf("%d entries after a restart, Slack's retry and the same message under another event; want 1", n)
	}
	var answers []string
	for _, p := range f.Posts() {
		answers = append(answers, p.Text)
	}
	if len(answers) != 2 || !strings.Contains(answers[1], "已记录过") {
		t.Errorf("answers = %q; want the first delivery's and, for the same message again, 已记录过", answers)
	}
}

// TestSlashAnswerCache: a slash command that only reads is answered again
// with the bytes sent the first time while nothing is committed; a write
// (here through a second bot on the same database, as another replica)
// is in the very next answer; a day later the answer is as of that day;
// the share word makes a different answer; a command that writes is
// never answered from the cache.
func TestSlashAnswerCache(t *testing.T) {
	e := newEnv(t, testenv.Directory())
	ask := func(text string) string {
		t.Helper()
		w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/task", text, e.hooks.url("c"))))
		if w.Code != http.StatusOK {
			t.Fatalf("/task %s: status %d", text, w.Code)
		}
		return w.Body.String()
	}
	first := ask("6")
	if again := ask("6"); again != first {
		t.Errorf("the same question with nothing committed answered differently")
	}
	if _, kept := e.a.answers.Get(e.version(t), answerKey{bot.ReadKey{User: "U1", Day: storage.Date{Year: 2026, Month: 3, Day: 2}, Text: "task 6"}, false}); !kept {
		t.Errorf("the answer was not kept")
	}
	other := bot.New(e.a.Bot.Store, nil) // another replica's write
	if r := other.Handle(t.Context(), bot.Request{Text: "progress 6 缓存之后写入", User: "U0000ZS01", Now: testNow}); r.Error {
		t.Fatal(r.Text())
	}
	if got := ask("6"); !strings.Contains(got, "缓存之后写入") {
		t.Errorf("after a write: %.300s; want the new entry", got)
	}
	if shared := ask("6 公开"); !strings.Contains(shared, `"in_channel"`) {
		t.Errorf("the share word answered from the private answer: %.200s", shared)
	}
	e.a.Bot.Store.Clock.AsOf = func() time.Time { return testNow.Add(24 * time.Hour) }
	if got := ask("6"); !strings.Contains(got, "截至 2026-03-03") {
		t.Errorf("the next day: %.300s; want the answer as of 2026-03-03", got)
	}
	for range 2 {
		form := url.Values{"user_id": {"U0000ZS01"}, "command": {"/progress"}, "text": {"6 两次写入"}, "team_id": {"T1"}, "channel_id": {"C1"}}
		if w := e.serve(signed("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))); w.Code != http.StatusOK {
			t.Fatalf("/progress: status %d", w.Code)
		}
	}
	e.a.wait()
	t6, _ := e.a.Bot.Store.FindTask(t.Context(), 1, 6)
	entries, _ := e.a.Bot.Store.TaskProgress(t.Context(), t6.ID, 100)
	n := 0
	for _, p := range entries {
		if p.Text == "两次写入" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("a command that writes, sent twice, recorded %d times; want 2 (never answered from the cache)", n)
	}
}
