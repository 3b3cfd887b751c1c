package main

import (
	"os/exec"
	"strings"
	"testing"
)

// importRules are ARCHITECTURE.md's dependency rules: for each package, the
// import prefixes its non-test code must not use.
var importRules = map[string][]string{
	"taskbot/storage": {"taskbot/"},
	"taskbot/seeds":   {"taskbot/bot", "taskbot/config", "taskbot/scheduler", "github.com/slack-go", "github.com/robfig/cron"},
	"taskbot/bot": {"taskbot/config", "taskbot/scheduler", "taskbot/bot/", "taskbot/seeds", "taskbot/ledger",
		"github.com/slack-go", "github.com/robfig/cron", "github.com/xuri/excelize"},
	"taskbot/ledger":       {"taskbot/config", "taskbot/scheduler", "taskbot/bot/", "github.com/slack-go", "github.com/robfig/cron"},
	"taskbot/bot/console":  {"taskbot/storage", "taskbot/config", "taskbot/scheduler", "taskbot/bot/slackbot"},
	"taskbot/bot/slackbot": {"taskbot/storage", "taskbot/config", "taskbot/scheduler", "taskbot/bot/console"},
	"taskbot/scheduler":    {"taskbot/"},
	"taskbot/config":       {"taskbot/bot/", "taskbot/scheduler", "github.com/slack-go", "github.com/robfig/cron"},
}

// testOnly is the prefix of the packages for tests (internal/testenv,
// internal/fakeslack): no program package may import them.
const testOnly = "taskbot/internal/"

// violations lists "pkg imports dep" for every import that breaks a rule.
func violations(imports map[string][]string) []string {
	var out []string
	for pkg, deps := range imports {
		for _, dep := range deps {
			if strings.HasPrefix(dep, testOnly) && !strings.HasPrefix(pkg, testOnly) {
				out = append(out, pkg+" imports "+dep+" (for tests only)")
			}
		}
	}
	for pkg, forbidden := range importRules {
		for _, dep := range imports[pkg] {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					out = append(out, pkg+" imports "+dep)
				}
			}
		}
	}
	return out
}

// TestImportRules keeps ARCHITECTURE.md true: the core knows no platform,
// storage imports nothing of ours, adapters talk to the core only.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	for pkg := range importRules {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("go list did not list %s: the rules name a package that moved", pkg)
		}
	}
	for _, v := range violations(imports) {
		t.Errorf("%s: see ARCHITECTURE.md", v)
	}
	// The checker itself finds a violation when there is one.
	for _, bad := range []map[string][]string{
		{"taskbot/bot": {"github.com/slack-go/slack"}},
		{"taskbot/bot/slackbot": {"taskbot/storage"}},
		{"taskbot": {testOnly + "testenv"}},
		{"taskbot/bot/slackbot": {testOnly + "fakeslack"}},
	} {
		if got := violations(bad); len(got) != 1 {
			t.Errorf("violations(%v) = %v; want one", bad, got)
		}
	}
}
