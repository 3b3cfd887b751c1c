package bot

import (
	"context"
	"strings"
	"sync"
)

// replyCache is the read model of answers that only read: a reply is kept
// under the database's data version (storage.Store.DataVersion), which
// changes whenever anything is committed, by this process or another
// replica, so a cached answer is never stale. The key holds the user (some
// answers depend on who asks), the command as typed and the day it is
// answered as of, so an answer never outlives its "截至" date.
type replyCache struct {
	mu      sync.Mutex
	version int64
	m       map[string]Reply
}

// maxCached bounds the cache: when full, it starts over.
const maxCached = 4096

func (c *replyCache) get(version int64, key string) (Reply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	return r, ok && c.version == version
}

func (c *replyCache) put(version int64, key string, r Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version || c.m == nil || len(c.m) >= maxCached {
		c.version, c.m = version, make(map[string]Reply, 64)
	}
	c.m[key] = r
}

// cached answers req from the cache when it only reads and its answer is
// there; otherwise it runs it, and keeps the answer when it is one to
// keep (no error, nothing to send or upload).
func (b *Bot) cached(ctx context.Context, req Request, fields []string, cmd *command, args []string,
	run func() (Reply, error)) (Reply, error) {
	if b.NoCache || !cmd.readOnlyWith(args) || cmd.name == "export" {
		return run()
	}
	version, ok, err := b.Store.DataVersion(ctx)
	if err != nil || !ok {
		return run()
	}
	key := req.User + "\x00" + b.today(req.Now).String() + "\x00" + strings.Join(fields, " ")
	if r, ok := b.replies.get(version, key); ok {
		return r, nil
	}
	r, err := run()
	if err == nil && !r.Error && len(r.Notices) == 0 && r.Upload == nil {
		b.replies.put(version, key, r)
	}
	return r, err
}
