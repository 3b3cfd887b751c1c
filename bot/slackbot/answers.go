package slackbot

import (
	"sync"

	"taskbot/bot"
)

// answerCache keeps the encoded answers of slash commands that only read,
// under the core's read-model key and data version (bot.Bot.ReadKey), plus
// the share flag: a question asked again with nothing committed since, by
// any process, is answered with the bytes sent the first time, without
// rendering or encoding. A new version empties it.
type answerCache struct {
	mu      sync.Mutex
	version int64
	m       map[answerKey][]byte
}

// answerKey is the core's key and whether the answer is shared in the
// channel (a different response type and no share button).
type answerKey struct {
	bot.ReadKey
	share bool
}

// maxAnswers bounds the cache: when full, it starts over.
const maxAnswers = 4096

func (c *answerCache) get(version int64, key answerKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return nil
	}
	return c.m[key]
}

func (c *answerCache) put(version int64, key answerKey, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version || c.m == nil || len(c.m) >= maxAnswers {
		c.version, c.m = version, make(map[answerKey][]byte, 64)
	}
	c.m[key] = b
}
