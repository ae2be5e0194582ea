package config

import (
	"strings"
	"testing"
)

// TestWSMaxOperations: 100 operations per WebSocket by default; fewer than
// one is refused, naming the variable.
func TestWSMaxOperations(t *testing.T) {
	load := func(env map[string]string) (Config, error) { return Load(func(k string) string { return env[k] }) }
	if c, err := load(nil); err != nil || c.WSMaxOperations != 100 {
		t.Errorf("default: %d, %v", c.WSMaxOperations, err)
	}
	if c, err := load(map[string]string{"MERIDIAN_WS_MAX_OPERATIONS": "7"}); err != nil || c.WSMaxOperations != 7 {
		t.Errorf("7: %d, %v", c.WSMaxOperations, err)
	}
	if _, err := load(map[string]string{"MERIDIAN_WS_MAX_OPERATIONS": "0"}); err == nil || !strings.Contains(err.Error(), "MERIDIAN_WS_MAX_OPERATIONS") {
		t.Errorf("0: %v", err)
	}
}
