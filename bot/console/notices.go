package console

import (
	"context"
	"fmt"

	"taskbot/bot"
)

// notices prints what the reply asks to tell other people, one line each,
// and sends them on when Slack is configured (Send).
func (c *Console) notices(ctx context.Context, ns []bot.Notice) {
	for _, n := range ns {
		if !n.Home { // a Slack Home tab: nothing to show here
			fmt.Fprintln(c.Out, n.Summary())
		}
	}
	if c.Send == nil || len(ns) == 0 {
		return
	}
	sent, err := c.Bot.SendNotices(ctx, c.Holder, c.Send, ns)
	switch {
	case err != nil:
		c.Bot.Log.Error("notices not sent to Slack", "err", err)
		fmt.Fprintf(c.Out, "⚠️ 通知未能全部发送到 Slack：%s\n", bot.Explain(err))
	case sent.Failed > 0:
		fmt.Fprintf(c.Out, "⚠️ %d 条通知未送达 Slack，已排队，taskbot serve 会重试。\n", sent.Failed)
	}
}
