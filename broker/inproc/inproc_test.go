package inproc_test

import (
	"log/slog"
	"testing"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/inproc"
)

func TestContract(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Bus {
		// A small capacity makes the back-pressure paths run in the suite.
		b := inproc.New(inproc.Options{Capacity: 16, Logger: slog.New(slog.DiscardHandler)})
		t.Cleanup(func() { _ = b.Close() })
		return b
	})
}
