package slackbot

import (
	"context"
	"errors"
	"net"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// maxAckPayload is the size a Socket Mode acknowledgement must stay under:
// Slack silently drops responses of 20 KB or more.
const maxAckPayload = 19 << 10

// acker is the part of socketmode.Client that acknowledges envelopes.
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// RunSocketMode serves Slack over Socket Mode until ctx ends: it reads the
// client's events, acknowledges every envelope at once (a slash command's
// with its answer when ready) and logs the connection's life. The client
// reconnects by itself when Slack refreshes or drops the connection. It
// returns nil when ctx ends, or the client's error when it gives up (e.g.
// invalid_auth).
func (a *Adapter) RunSocketMode(ctx context.Context, c *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- c.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case evt := <-c.Events:
			a.socketEvent(c, evt)
		}
	}
}

// socketEvent routes one Socket Mode event. It does not block: work goes to
// the background after the acknowledgement.
func (a *Adapter) socketEvent(ack acker, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		if e, ok := evt.Data.(*slack.ConnectingEvent); ok {
			a.Log.Info("socket mode connecting", "attempt", e.Attempt, "connection", e.ConnectionCount)
		}
	case socketmode.EventTypeConnected:
		a.Log.Info("socket mode connected")
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			a.Log.Warn("socket mode connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		a.Log.Error("socket mode: invalid auth (check SLACK_APP_TOKEN)")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		// slack-go answers Slack's routine refresh (a "disconnect" request,
		// never passed on) by closing the socket, and the reader then
		// reports the closed connection; so does every shutdown. Routine,
		// not a warning: WARN is kept for real trouble.
		if e, ok := evt.Data.(*slack.IncomingEventError); ok && errors.Is(e.ErrorObj, net.ErrClosed) {
			a.Log.Info("socket mode connection closed (Slack's refresh or shutdown); slack-go reconnects unless stopping")
			return
		}
		a.Log.Warn("socket mode error", "type", evt.Type, "data", evt.Data)
	case socketmode.EventTypeHello:
		a.Log.Debug("socket mode hello")
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			a.ackOnly(ack, evt)
			return
		}
		req := *evt.Request
		// Waiting for the core must not hold up other envelopes.
		a.goJob(func(ctx context.Context) {
			resp := a.slash(cmd, fitsAck)
			var err error
			if resp == nil {
				err = ack.Ack(req)
			} else {
				err = ack.Ack(req, resp)
			}
			if err != nil {
				a.Log.Error("socket mode ack failed", "envelope", req.EnvelopeID, "err", err)
			}
		})
	case socketmode.EventTypeEventsAPI:
		a.ackOnly(ack, evt)
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok || ev.Type != slackevents.CallbackEvent {
			return
		}
		retry := 0
		if evt.Request != nil {
			retry = evt.Request.RetryAttempt
		}
		a.event(ev, retry)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			a.ackOnly(ack, evt)
			return
		}
		resp := a.interaction(cb)
		if resp == nil || evt.Request == nil {
			a.ackOnly(ack, evt)
			return
		}
		if err := ack.Ack(*evt.Request, resp); err != nil {
			a.Log.Error("socket mode ack failed", "envelope", evt.Request.EnvelopeID, "err", err)
		}
	default:
		a.ackOnly(ack, evt)
	}
}

func (a *Adapter) ackOnly(ack acker, evt socketmode.Event) {
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return
	}
	if err := ack.Ack(*evt.Request); err != nil {
		a.Log.Error("socket mode ack failed", "envelope", evt.Request.EnvelopeID, "err", err)
	}
}

// fitsAck reports whether resp can ride on a Socket Mode acknowledgement.
func fitsAck(resp *response) bool {
	b, err := resp.MarshalJSON()
	return err == nil && len(b) < maxAckPayload
}
