package broker

import (
	"errors"
	"testing"
	"time"
)

func TestRoutes(t *testing.T) {
	cases := []struct {
		kind         ExchangeKind
		binding, key string
		want         bool
	}{
		{Direct, "user.data", "user.data", true},
		{Direct, "user.data", "user.other", false},
		{Fanout, "", "anything", true},
		{Topic, "notification.email", "notification.email", true},
		{Topic, "notification.*", "notification.email", true},
		{Topic, "notification.*", "notification.email.daily", false},
		{Topic, "notification.*", "notification", false},
		{Topic, "notification.#", "notification", true},
		{Topic, "notification.#", "notification.a.b", true},
		{Topic, "#", "x.y", true},
		{Topic, "*.email", "notification.email", true},
		{Topic, "#.email", "a.b.email", true},
		{Topic, "#.email", "a.b.sms", false},
	}
	for _, c := range cases {
		if got := Routes(c.kind, c.binding, c.key); got != c.want {
			t.Errorf("Routes(%s, %q, %q) = %v, want %v", c.kind, c.binding, c.key, got, c.want)
		}
	}
}

func TestPermanentAndDelay(t *testing.T) {
	base := errors.New("bad payload")
	if !IsPermanent(Permanent(base)) || IsPermanent(base) || Permanent(nil) != nil {
		t.Fatal("Permanent marking broken")
	}
	if !errors.Is(Permanent(base), base) {
		t.Fatal("Permanent must wrap")
	}
	s := Subscription{}.WithDefaults()
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	for i, w := range want {
		if got := s.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
		}
	}
}
