package slackbot

import (
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// acks records Socket Mode acknowledgements.
type acks struct {
	mu  sync.Mutex
	got []socketmode.Response
}

func (a *acks) Ack(req socketmode.Request, payload ...any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := socketmode.Response{EnvelopeID: req.EnvelopeID}
	if len(payload) > 0 {
		r.Payload = payload[0]
	}
	a.got = append(a.got, r)
	return nil
}

// envelope parses a raw Socket Mode message the way socketmode.Client does.
func envelope(t *testing.T, raw string) socketmode.Event {
	t.Helper()
	var req socketmode.Request
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		t.Fatal(err)
	}
	evt := socketmode.Event{Type: socketmode.EventType(req.Type), Request: &req}
	switch req.Type {
	case socketmode.RequestTypeSlashCommands:
		var cmd slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &cmd); err != nil {
			t.Fatal(err)
		}
		evt.Data = cmd
	case socketmode.RequestTypeEventsAPI:
		ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatal(err)
		}
		evt.Data = ev
	case socketmode.RequestTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			t.Fatal(err)
		}
		evt.Data = cb
	}
	return evt
}

func TestSocketModeSlashCommand(t *testing.T) {
	e := newEnv(t)
	var ack acks
	e.a.socketEvent(&ack, envelope(t, `{"envelope_id":"env-1","type":"slash_commands","accepts_response_payload":true,
		"payload":{"token":"x","team_id":"T1","channel_id":"C1","user_id":"U1","command":"/task","text":"6","response_url":"`+e.hooks.url("sm")+`","trigger_id":"1.2"}}`))
	e.a.wait()
	if len(ack.got) != 1 || ack.got[0].EnvelopeID != "env-1" {
		t.Fatalf("acks %+v; want one for env-1", ack.got)
	}
	resp, ok := ack.got[0].Payload.(*response)
	if !ok {
		t.Fatalf("ack payload %T; want the answer", ack.got[0].Payload)
	}
	if resp.ResponseType != "ephemeral" || !strings.Contains(blocksText(resp.Blocks), "【共性6】") {
		t.Errorf("ack payload %s %q; want the ephemeral card", resp.ResponseType, blocksText(resp.Blocks))
	}
	if len(e.hooks.recorded()) != 0 {
		t.Errorf("answer also went to response_url")
	}
}

func TestSocketModeMention(t *testing.T) {
	e := newEnv(t)
	var ack acks
	inner := mention("<@UBOT> 6", "1772413100.000100", "")
	e.a.socketEvent(&ack, envelope(t, `{"envelope_id":"env-2","type":"events_api","retry_attempt":0,"payload":`+string(eventBody("EvSM", inner))+`}`))
	// A retry of the same event over the socket is acknowledged, not redone.
	e.a.socketEvent(&ack, envelope(t, `{"envelope_id":"env-3","type":"events_api","retry_attempt":1,"payload":`+string(eventBody("EvSM", inner))+`}`))
	e.a.wait()
	if len(ack.got) != 2 || ack.got[0].EnvelopeID != "env-2" || ack.got[0].Payload != nil || ack.got[1].EnvelopeID != "env-3" {
		t.Errorf("acks %+v; want env-2 and env-3 without payload", ack.got)
	}
	got := e.slack.Posts()
	if len(got) != 1 || got[0].Channel != "C1" || got[0].ThreadTS != "1772413100.000100" || !strings.Contains(blocksText(got[0].Blocks.BlockSet), "【共性6】") {
		t.Errorf("posted %+v; want one threaded card in C1", got)
	}
}

func TestSocketModeInteractive(t *testing.T) {
	e := newEnv(t)
	var ack acks
	e.a.socketEvent(&ack, envelope(t, `{"envelope_id":"env-4","type":"interactive","payload":{"type":"block_actions","user":{"id":"U1"},"channel":{"id":"C1"},
		"response_url":"`+e.hooks.url("smi")+`","actions":[{"action_id":"`+ShareActionID+`","block_id":"b1","type":"button","value":"task 6"}]}}`))
	e.a.wait()
	if len(ack.got) != 1 || ack.got[0].EnvelopeID != "env-4" {
		t.Errorf("acks %+v; want env-4", ack.got)
	}
	if got := e.hooks.recorded(); len(got) != 1 || got[0].Msg.ResponseType != "in_channel" {
		t.Errorf("response_url got %+v; want the card in_channel", got)
	}
}

func TestSocketModeOversizedAck(t *testing.T) {
	big := &response{Text: strings.Repeat("很", 8000)}
	if fitsAck(big) {
		t.Errorf("a %d-byte payload fits the ack; want refused", len(big.Text))
	}
	if !fitsAck(&response{Text: "ok"}) {
		t.Errorf("a tiny payload does not fit the ack")
	}
}

// TestSocketModeRoutineCloseIsNotAWarning: the closed connection slack-go
// reports after Slack's routine refresh (and at every shutdown) is logged
// at INFO; any other read error stays a WARN.
func TestSocketModeRoutineCloseIsNotAWarning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, closed := c.Read(make([]byte, 1)) // what the reader gets once slack-go closed the socket
	if !errors.Is(closed, net.ErrClosed) {
		t.Fatalf("read after close = %v; want net.ErrClosed", closed)
	}
	e := newEnv(t)
	var ack acks
	e.a.socketEvent(&ack, socketmode.Event{Type: socketmode.EventTypeIncomingError, Data: &slack.IncomingEventError{ErrorObj: closed}})
	if log := e.logText(); strings.Contains(log, "level=WARN") || !strings.Contains(log, "connection closed") {
		t.Errorf("log after a routine close:\n%s\nwant an INFO line and no WARN", log)
	}
	e.a.socketEvent(&ack, socketmode.Event{Type: socketmode.EventTypeIncomingError, Data: &slack.IncomingEventError{ErrorObj: errors.New("tls: bad record MAC")}})
	if log := e.logText(); !strings.Contains(log, "level=WARN") {
		t.Errorf("log after a real read error:\n%s\nwant a WARN", log)
	}
}
