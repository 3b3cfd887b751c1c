package slackbot

import "taskbot/bot"

// answerCache keeps the encoded answers of slash commands that only read,
// under the core's read-model key and data version (bot.Bot.ReadKey), plus
// the share flag: a question asked again with nothing committed since, by
// any process, is answered with the bytes sent the first time, without
// rendering or encoding. A new version empties it.
type answerCache = bot.Versioned[answerKey, []byte]

// answerKey is the core's key and whether the answer is shared in the
// channel (a different response type and no share button).
type answerKey struct {
	bot.ReadKey
	share bool
}
