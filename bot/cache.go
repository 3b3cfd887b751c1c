package bot

import (
	"context"
	"strings"
	"sync"

	"taskbot/storage"
)

// Versioned keeps values computed under one data version
// (storage.Store.DataVersion), which changes whenever anything is
// committed, by this process or another replica: a value is never read
// under another version. At most Max are kept; when full, or when the
// version moves, it starts over. The zero value keeps up to 64.
type Versioned[K comparable, V any] struct {
	Max     int
	mu      sync.Mutex
	version int64
	m       map[K]V
}

// Get returns the value kept for key under version.
func (c *Versioned[K, V]) Get(version int64, key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok && c.version == version
}

// Put keeps v for key under version, forgetting what was kept under
// another.
func (c *Versioned[K, V]) Put(version int64, key K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.Max
	if limit <= 0 {
		limit = 64
	}
	if c.version != version || c.m == nil || len(c.m) >= limit {
		c.version, c.m = version, make(map[K]V, min(limit, 64))
	}
	c.m[key] = v
}

// The read model of answers that only read: replies kept under the data
// version and a ReadKey — the user (some answers depend on who asks), the
// command as typed and the day it is answered as of, so an answer never
// outlives its "截至" date. Statistics are kept the same way, by filter.
type (
	replyCache = Versioned[ReadKey, Reply]
	statsCache = Versioned[string, Stats]
)

// MaxCached bounds the reply caches (this one, and adapters' of encoded
// answers).
const MaxCached = 4096

// ReadKey names an answer that only reads: who asked what, as of which
// day. Adapters keep their encoded answers under it too.
type ReadKey struct {
	User string
	Day  storage.Date
	Text string // the command's words, one space apart
}

// cached answers req from the cache when it only reads and its answer is
// there; otherwise it runs it, and keeps the answer when it is one to
// keep (see Keep).
func (b *Bot) cached(ctx context.Context, req Request, fields []string, cmd *command, args []string,
	run func() (Reply, error)) (Reply, error) {
	key, version, ok := b.readKey(req, fields, cmd, args)
	if !ok {
		return run()
	}
	if r, ok := b.replies.Get(version, key); ok {
		return r, nil
	}
	r, err := run()
	if err == nil && Keep(r) {
		b.replies.Put(version, key, r)
	}
	return r, err
}

// Keep reports whether an answer may be kept in a read model: it is not
// an error (which may be passing: the database unavailable) and it sends
// and uploads nothing.
func Keep(r Reply) bool { return !r.Error && len(r.Notices) == 0 && r.Upload == nil }

// ReadKey says whether req only reads, so that its answer may be kept
// under the data version: then it returns the answer's key and the data
// version now. Adapters keep their encoded answers under the same two.
func (b *Bot) ReadKey(req Request) (key ReadKey, version int64, ok bool) {
	fields := splitArgs(storage.CleanText(req.Text))
	if len(fields) == 0 {
		return ReadKey{}, 0, false
	}
	cmd, args := b.resolve(fields)
	if cmd == nil {
		return ReadKey{}, 0, false
	}
	if req.Now.IsZero() {
		req.Now = b.Clock().Now()
	}
	return b.readKey(req, fields, cmd, args)
}

func (b *Bot) readKey(req Request, fields []string, cmd *command, args []string) (ReadKey, int64, bool) {
	if b.NoCache || !cmd.readOnlyWith(args) || cmd.name == "export" {
		return ReadKey{}, 0, false
	}
	// A short read, without the request's deadline, which would make the
	// SQLite driver start a goroutine to watch it.
	version, ok, err := b.Store.DataVersion(context.Background())
	if err != nil || !ok {
		return ReadKey{}, 0, false
	}
	return ReadKey{User: req.User, Day: b.today(req.Now), Text: strings.Join(fields, " ")}, version, true
}
