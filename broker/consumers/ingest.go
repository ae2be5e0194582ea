package consumers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/product"
	"github.com/meridian-graphql/meridian/ent/user"
)

// ingest stores a batch of messages as analytics events with one insert and
// returns only after it committed, so the broker acks nothing that is not
// stored. Event ids come from message ids, and the store skips ids it
// already has: a redelivered message is acked without being stored twice.
//
// A message that cannot be turned into a valid event (undecodable, or
// refused by validation) is not marked permanent: during a rolling deploy
// a newer instance may understand it, so it is retried like any failure,
// spending its attempts, and reaches the dead-letter queue after them,
// where an operator can read, replay or purge it.
//
// A valid event the event store refused (analytics.ErrRefused: a row the
// database cannot hold, a constraint) is permanent and dead-lettered at
// once: the same row meets the same database on every instance, so no
// retry and no newer version of this code can store it — retried, it
// would only come back every few seconds, holding its batch up. The other
// events of its batch are stored all the same (Service.Track finds the
// refused rows). Any other store failure is an outage: the batch waits it
// out without spending attempts (broker.Unavailable).
func (c *Consumers) ingest(ctx context.Context, msgs []broker.Message) error {
	errs := make(broker.BatchErrors, len(msgs))
	inputs := make([]analytics.EventInput, 0, len(msgs))
	owner := make([]int, 0, len(msgs)) // inputs[k] came from msgs[owner[k]]
	var users, products []int
	type pending struct {
		i    int
		kind string
		u    domainUser
		o    domainOrder
	}
	var domain []pending
	// outage settles a batch the database or store failed: every message
	// that could be read waits out the outage without spending attempts
	// (broker.Unavailable); unreadable ones keep their own error.
	outage := func(err error) error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = broker.Unavailable(err)
			}
		}
		return errs
	}
	for i, m := range msgs {
		switch m.Type {
		case TypeTrack:
			in, err := analytics.DecodeEventInput(m.Body)
			if err != nil {
				errs[i] = fmt.Errorf("decode tracked event %s: %w", m.ID, err)
				continue
			}
			if in.ID == nil || *in.ID == "" {
				id := m.ID
				in.ID = &id
			}
			inputs = append(inputs, in)
			owner = append(owner, i)
		case "user.created":
			var u domainUser
			if err := json.Unmarshal(m.Body, &u); err != nil || u.ID <= 0 {
				errs[i] = fmt.Errorf("decode %s %s: %v", m.Type, m.ID, errOr(err, "no user id"))
				continue
			}
			users = append(users, u.ID)
			domain = append(domain, pending{i: i, kind: "signup", u: u})
		case "order.created":
			var o domainOrder
			if err := json.Unmarshal(m.Body, &o); err != nil || o.ID <= 0 || o.UserID <= 0 {
				errs[i] = fmt.Errorf("decode %s %s: %v", m.Type, m.ID, errOr(err, "no order or user id"))
				continue
			}
			users = append(users, o.UserID)
			products = append(products, o.ProductID)
			domain = append(domain, pending{i: i, kind: "purchase", o: o})
		default:
			errs[i] = fmt.Errorf("ingest cannot handle message type %q", m.Type)
		}
	}
	if len(domain) > 0 {
		geo, err := c.userGeo(ctx, users)
		if err != nil {
			return outage(err)
		}
		cats, err := c.categories(ctx, products)
		if err != nil {
			return outage(err)
		}
		for _, p := range domain {
			id := "bus-" + msgs[p.i].ID
			var in analytics.EventInput
			switch p.kind {
			case "signup":
				at := p.u.CreatedAt
				in = analytics.EventInput{ID: &id, UserID: p.u.ID, Type: "signup", Timestamp: &at, Geo: geo[p.u.ID]}
			case "purchase":
				at := p.o.CreatedAt
				qty := max(p.o.Quantity, 1)
				in = analytics.EventInput{ID: &id, UserID: p.o.UserID, Type: "purchase", Timestamp: &at, Geo: geo[p.o.UserID],
					Metadata: map[string]any{"price": p.o.Amount / float64(qty), "quantity": float64(qty), "category": cats[p.o.ProductID], "product_id": p.o.ProductID, "order_id": p.o.ID}}
			}
			inputs = append(inputs, in)
			owner = append(owner, p.i)
		}
	}
	if len(inputs) > 0 {
		res, _, err := c.d.Events.Track(ctx, inputs)
		if err != nil {
			// An outage: nothing is acked. Track may have stored part of
			// the batch before it (while finding a refused row); the retry
			// skips those ids.
			return outage(err)
		}
		for k, r := range res {
			switch {
			case r.Refused != nil:
				errs[owner[k]] = broker.Permanent(fmt.Errorf("event from message %s refused by the event store: %w", msgs[owner[k]].ID, r.Refused))
			case r.Err != nil:
				errs[owner[k]] = fmt.Errorf("invalid event from message %s: %w", msgs[owner[k]].ID, r.Err)
			}
		}
	}
	return errs
}

// domainUser and domainOrder are the parts of the outbox bodies (ent's JSON
// of the entity) that the consumers read.
type domainUser struct {
	ID        int       `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	AddressID *int      `json:"address_id"`
}

type domainOrder struct {
	ID        int       `json:"id"`
	Quantity  int       `json:"quantity"`
	Amount    float64   `json:"amount"`
	CreatedAt time.Time `json:"created_at"`
	UserID    int       `json:"user_id"`
	ProductID int       `json:"product_id"`
}

// userGeo returns where each user lives, for the events their domain
// events become: four statements for the whole batch.
func (c *Consumers) userGeo(ctx context.Context, ids []int) (map[int]*analytics.Geo, error) {
	us, err := c.d.DB.Client.User.Query().Where(user.IDIn(ids...)).
		WithAddress(func(q *ent.AddressQuery) {
			q.WithCity(func(q *ent.CityQuery) { q.WithCountry() })
		}).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load users of the batch: %w", err)
	}
	out := make(map[int]*analytics.Geo, len(us))
	for _, u := range us {
		out[u.ID] = geoOf(u)
	}
	return out, nil
}

// geoOf is the city of a user loaded with address, city and country; nil
// when the user has no address.
func geoOf(u *ent.User) *analytics.Geo {
	a := u.Edges.Address
	if a == nil || a.Edges.City == nil {
		return nil
	}
	city := a.Edges.City
	g := &analytics.Geo{City: city.Name, Lat: city.Latitude, Lon: city.Longitude}
	if city.Edges.Country != nil {
		g.Country = city.Edges.Country.Code
	}
	return g
}

func (c *Consumers) categories(ctx context.Context, ids []int) (map[int]string, error) {
	out := map[int]string{}
	if len(ids) == 0 {
		return out, nil
	}
	ps, err := c.d.DB.Client.Product.Query().Where(product.IDIn(ids...)).Select(product.FieldID, product.FieldCategory).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load products of the batch: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p.Category
	}
	return out, nil
}

func errOr(err error, msg string) any {
	if err != nil {
		return err
	}
	return msg
}
