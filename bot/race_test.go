//go:build race

package bot_test

// raceEnabled: the race detector slows code several times; timing floors
// are not checked under it.
const raceEnabled = true
