package slackbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far a request's timestamp may be from now: older requests
// are replays.
const MaxSkew = 5 * time.Minute

// Reasons a signature is refused. They go to the log, never to the caller.
var (
	errNoSignature  = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	errBadTimestamp = errors.New("bad X-Slack-Request-Timestamp")
	errStale        = errors.New("timestamp outside the 5-minute window")
	errBadSignature = errors.New("signature mismatch")
)

// verify checks Slack's v0 signature of body, computed exactly as
// slack.NewSecretsVerifier does (HMAC-SHA256 of "v0:ts:body", compared in
// constant time), but against the clock now: slack-go reads the real clock,
// which tests cannot pin.
func verify(h http.Header, body []byte, secret string, now time.Time) error {
	sig := h.Get("X-Slack-Signature")
	ts := h.Get("X-Slack-Request-Timestamp")
	if sig == "" || ts == "" || secret == "" {
		return errNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return errStale
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return errBadSignature
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return errBadSignature
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:"))
	m.Write([]byte(ts))
	m.Write([]byte{':'})
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), got[:]) {
		return errBadSignature
	}
	return nil
}

// Verify checks a request's Slack signature and timestamp against now, as
// taskbot's HTTP endpoints do (the load script's no-op floor uses it).
func Verify(h http.Header, body []byte, secret string, now time.Time) error {
	return verify(h, body, secret, now)
}

// Sign returns the X-Slack-Signature of body sent at ts, for load tests and
// tools that play Slack.
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}
