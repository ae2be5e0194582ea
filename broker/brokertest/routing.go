// Contract cases on routing: direct, topic wildcards and fanout.

package brokertest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/meridian-graphql/meridian/broker"
)

func testDirect(t *testing.T, b broker.Bus) {
	c := NewCollector(10)
	Start(t, b, broker.Subscription{Queue: "direct", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"}}, c.Handle)

	want := Msg("user.data")
	publish(t, b, broker.ExchangeDataProcessing, Msg("user.other"), want)
	got := c.Expect(t, 1)[0]
	c.ExpectNone(t)

	// The envelope must survive the trip field by field.
	if got.ID != want.ID || got.Type != want.Type || !got.OccurredAt.Equal(want.OccurredAt) ||
		got.SchemaVersion != want.SchemaVersion || got.CorrelationID != want.CorrelationID ||
		got.Attempt != 1 || !bytes.Equal(got.Body, want.Body) {
		t.Fatalf("envelope changed:\n got %+v\nwant %+v (Attempt 1)", got, want)
	}
}

func testTopic(t *testing.T, b broker.Bus) {
	email := NewCollector(10)
	any := NewCollector(10)
	Start(t, b, broker.Subscription{Queue: "email", Exchange: broker.ExchangeNotifications, Bindings: []string{"notification.email"}}, email.Handle)
	Start(t, b, broker.Subscription{Queue: "all", Exchange: broker.ExchangeNotifications, Bindings: []string{"notification.*"}}, any.Handle)

	publish(t, b, broker.ExchangeNotifications,
		Msg("notification.email"), Msg("notification.sms"), Msg("notification.email.daily"), Msg("user.created"))

	if got := types(email.Expect(t, 1)); !slices.Equal(got, []string{"notification.email"}) {
		t.Errorf("notification.email queue got %v", got)
	}
	if got := types(any.Expect(t, 2)); !slices.Equal(got, []string{"notification.email", "notification.sms"}) {
		t.Errorf("notification.* queue got %v", got)
	}
	email.ExpectNone(t)
	any.ExpectNone(t)
}

func testFanout(t *testing.T, b broker.Bus) {
	c1, c2 := NewCollector(10), NewCollector(10)
	sub := broker.Subscription{Queue: "live", Exchange: broker.ExchangeAnalytics, Exclusive: true}
	Start(t, b, sub, c1.Handle)
	Start(t, b, sub, c2.Handle)

	msgs := []broker.Message{Msg("event.tracked"), Msg("event.tracked"), Msg("stats.updated")}
	publish(t, b, broker.ExchangeAnalytics, msgs...)
	for i, c := range []*Collector{c1, c2} {
		got := c.Expect(t, len(msgs))
		for j := range msgs {
			if got[j].ID != msgs[j].ID {
				t.Errorf("subscriber %d message %d: got %s want %s", i+1, j, got[j].ID, msgs[j].ID)
			}
		}
		c.ExpectNone(t)
	}
}
