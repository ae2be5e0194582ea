package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/user"
)

// refresh recomputes the profile metrics derived from a user's orders
// (orders, total_spent, last_order_unix) for every user a batch of order or
// user events touched. It reads the relational core, the source of truth,
// so running it twice or out of order gives the same profile.
func (c *Consumers) refresh(ctx context.Context, msgs []broker.Message) error {
	errs := make(broker.BatchErrors, len(msgs))
	var ids []int
	for i, m := range msgs {
		var ref struct {
			ID      int `json:"id"`
			UserID  int `json:"user_id"`
			UserID2 int `json:"userId"` // order.deleted carries {id, userId}
		}
		if err := json.Unmarshal(m.Body, &ref); err != nil {
			errs[i] = fmt.Errorf("decode %s %s: %w", m.Type, m.ID, err)
			continue
		}
		uid := ref.UserID
		if uid == 0 {
			uid = ref.UserID2
		}
		if m.Type == "user.updated" {
			uid = ref.ID
		}
		if uid <= 0 {
			errs[i] = fmt.Errorf("%s %s names no user", m.Type, m.ID)
			continue
		}
		ids = append(ids, uid)
	}
	if len(ids) == 0 {
		return errs
	}
	us, err := c.d.DB.Client.User.Query().Where(user.IDIn(ids...)).
		WithOrders(func(q *ent.OrderQuery) { q.Select(order.FieldUserID, order.FieldCreatedAt) }).All(ctx)
	if err != nil {
		return outage(fmt.Errorf("refresh: load users: %w", err))
	}
	for _, u := range us {
		m := map[string]float64{"orders": float64(len(u.Edges.Orders)), "total_spent": u.TotalSpent, "last_order_unix": 0}
		for _, o := range u.Edges.Orders {
			m["last_order_unix"] = max(m["last_order_unix"], float64(o.CreatedAt.Unix()))
		}
		if err := c.setMetrics(ctx, u.Username, m); err != nil {
			return outage(err) // an outage: the batch waits; the work is idempotent
		}
	}
	return errs
}

// setMetrics merges metrics into the user's profile, creating it when the
// signup consumer has not got to it yet.
func (c *Consumers) setMetrics(ctx context.Context, username string, metrics map[string]float64) error {
	_, err := c.d.Events.Store.UpdateMetrics(ctx, username, metrics)
	var nf *analytics.NotFoundError
	if errors.As(err, &nf) {
		_, err = c.d.Events.Store.UpsertProfile(ctx, analytics.ProfileInput{Username: username, Metrics: metrics})
	}
	if err != nil {
		return fmt.Errorf("refresh: profile of %s: %w", username, err)
	}
	return nil
}
