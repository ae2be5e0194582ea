package broker

import (
	"context"
	"time"
)

// FillBatch appends what arrives on ch to batch until it holds sub.Batch
// items or sub.BatchWait has passed since the call (the first item's
// arrival), or ctx ends. closed reports that ch closed meanwhile. Both
// adapters cut their batches with it, so they cut them alike.
func FillBatch[T any](ctx context.Context, ch <-chan T, batch []T, sub Subscription) (out []T, closed bool) {
	if sub.Batch <= 1 {
		return batch, false
	}
	t := time.NewTimer(sub.BatchWait)
	defer t.Stop()
	for len(batch) < sub.Batch {
		select {
		case v, ok := <-ch:
			if !ok {
				return batch, true
			}
			batch = append(batch, v)
		case <-t.C:
			return batch, false
		case <-ctx.Done():
			return batch, false
		}
	}
	return batch, false
}
