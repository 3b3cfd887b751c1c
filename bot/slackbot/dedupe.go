package slackbot

import (
	"sync"
	"time"
)

// DedupeFor is how long a processed event_id is remembered: Slack retries
// over about 6 minutes and asks for at least 10.
const DedupeFor = 15 * time.Minute

// dedupe remembers Events API event_ids. An id is claimed while in flight
// and marked done only after it was processed, so that a retry of an event
// whose first delivery failed is processed, and a retry racing its first
// delivery is not.
type dedupe struct {
	mu        sync.Mutex
	seen      map[string]entry
	lastSweep time.Time
}

type entry struct {
	done bool
	at   time.Time
}

// claim reports whether the caller should process id. It returns false
// when id was processed within DedupeFor or is being processed now.
func (d *dedupe) claim(id string, now time.Time) bool {
	if id == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = make(map[string]entry)
	}
	if now.Sub(d.lastSweep) > time.Minute {
		for k, e := range d.seen {
			// An in-flight claim older than DedupeFor belongs to work that
			// hung; let a retry try again.
			if now.Sub(e.at) > DedupeFor {
				delete(d.seen, k)
			}
		}
		d.lastSweep = now
	}
	if e, ok := d.seen[id]; ok && now.Sub(e.at) <= DedupeFor {
		return false
	}
	d.seen[id] = entry{at: now}
	return true
}

// finish records the outcome of a claim: done, or released for a retry.
func (d *dedupe) finish(id string, ok bool, now time.Time) {
	if id == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		d.seen[id] = entry{done: true, at: now}
	} else {
		delete(d.seen, id)
	}
}
