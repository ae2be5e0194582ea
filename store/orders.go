package store

import (
	"context"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/product"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// CreateProduct creates a product; the SKU is upper-cased first.
func (s *Store) CreateProduct(ctx context.Context, in ent.CreateProductInput) (*ent.Product, error) {
	in.Sku = strings.ToUpper(strings.TrimSpace(in.Sku))
	var out *ent.Product
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if out, err = tx.Product.Create().SetInput(in).Save(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "product.created", out)
	}, TagOrders, TagUsers)
	return out, err
}

// UpdateProduct updates a product. Past orders keep their amounts.
func (s *Store) UpdateProduct(ctx context.Context, id int, in ent.UpdateProductInput) (*ent.Product, error) {
	if in.Sku != nil {
		v := strings.ToUpper(strings.TrimSpace(*in.Sku))
		in.Sku = &v
	}
	var out *ent.Product
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if out, err = tx.Product.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return notFound(err, "id", "product", id)
		}
		return s.emit(ctx, tx, "product.updated", out)
	}, TagOrders, TagUsers)
	return out, err
}

// DeleteProduct deletes a product that was never ordered.
func (s *Store) DeleteProduct(ctx context.Context, id int) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := exists(ctx, tx.Product.Query().Where(product.ID(id)).Exist, "id", "product", id); err != nil {
			return err
		}
		n, err := tx.Order.Query().Where(order.ProductID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.Conflictf("id", "product %d has %d orders", id, n)
		}
		if err := tx.Product.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "product.deleted", map[string]int{"id": id})
	}, TagOrders, TagUsers)
}

// CreateOrder records a purchase. Without an amount it is quantity × price.
// The buyer's total_spent grows by the amount and last_active_at moves up to
// the order's time, in the same transaction.
func (s *Store) CreateOrder(ctx context.Context, in ent.CreateOrderInput) (*ent.Order, error) {
	in.CreatedAt = utc(in.CreatedAt)
	if in.CreatedAt == nil {
		now := time.Now().UTC()
		in.CreatedAt = &now
	}
	var out *ent.Order
	err := s.tx(ctx, func(tx *ent.Tx) error {
		p, err := tx.Product.Get(ctx, in.ProductID)
		if err != nil {
			return notFound(err, "productID", "product", in.ProductID)
		}
		u, err := tx.User.Get(ctx, in.UserID)
		if err != nil {
			return notFound(err, "userID", "user", in.UserID)
		}
		qty := 1
		if in.Quantity != nil {
			qty = *in.Quantity
		}
		amount, err := orderAmount(in.Amount, qty, p.Price)
		if err != nil {
			return err
		}
		in.Amount = &amount
		out, err = tx.Order.Create().SetInput(in).Save(ctx)
		if err != nil {
			return err
		}
		if err := charge(ctx, tx, u, amount, *in.CreatedAt); err != nil {
			return err
		}
		return s.emit(ctx, tx, "order.created", out)
	}, TagOrders, TagUsers)
	return out, err
}

// UpdateOrder changes an order and moves the difference in amount between
// the old and the new buyer's total_spent. When the quantity or product
// changes without an amount, the amount is recomputed from the price.
func (s *Store) UpdateOrder(ctx context.Context, id int, in ent.UpdateOrderInput) (*ent.Order, error) {
	in.CreatedAt = utc(in.CreatedAt)
	var out *ent.Order
	err := s.tx(ctx, func(tx *ent.Tx) error {
		old, err := tx.Order.Get(ctx, id)
		if err != nil {
			return notFound(err, "id", "order", id)
		}
		productID, userID, qty := old.ProductID, old.UserID, old.Quantity
		if in.ProductID != nil {
			productID = *in.ProductID
		}
		if in.UserID != nil {
			userID = *in.UserID
		}
		if in.Quantity != nil {
			qty = *in.Quantity
		}
		p, err := tx.Product.Get(ctx, productID)
		if err != nil {
			return notFound(err, "productID", "product", productID)
		}
		buyer, err := tx.User.Get(ctx, userID)
		if err != nil {
			return notFound(err, "userID", "user", userID)
		}
		amount := old.Amount
		if in.Amount != nil || in.Quantity != nil || in.ProductID != nil {
			if amount, err = orderAmount(in.Amount, qty, p.Price); err != nil {
				return err
			}
			in.Amount = &amount
		}
		out, err = tx.Order.UpdateOneID(id).SetInput(in).Save(ctx)
		if err != nil {
			return err
		}
		prev, err := tx.User.Get(ctx, old.UserID)
		if err != nil {
			return err
		}
		if err := charge(ctx, tx, prev, -old.Amount, time.Time{}); err != nil {
			return err
		}
		if buyer.ID == prev.ID {
			buyer = prev
		}
		if err := charge(ctx, tx, buyer, amount, out.CreatedAt); err != nil {
			return err
		}
		return s.emit(ctx, tx, "order.updated", out)
	}, TagOrders, TagUsers)
	return out, err
}

// DeleteOrder deletes an order and takes its amount off the buyer's total.
func (s *Store) DeleteOrder(ctx context.Context, id int) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		o, err := tx.Order.Get(ctx, id)
		if err != nil {
			return notFound(err, "id", "order", id)
		}
		if err := tx.Order.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		if _, err = tx.User.Update().Where(user.ID(o.UserID)).AddTotalSpent(-o.Amount).Save(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "order.deleted", map[string]int{"id": id, "userId": o.UserID})
	}, TagOrders, TagUsers)
}

// orderAmount is the given amount, or quantity × price, in cents.
func orderAmount(given *float64, qty int, price float64) (float64, error) {
	if given != nil {
		if !finite(*given) || *given < 0 {
			return 0, apperr.BadInput("amount", "must be a non-negative number")
		}
		return cents(*given), nil
	}
	if qty < 1 {
		return 0, apperr.BadInput("quantity", "must be at least 1")
	}
	return cents(float64(qty) * price), nil
}

// charge adds amount to u's total_spent (an SQL increment, so concurrent
// orders add up) and moves last_active_at up to at.
func charge(ctx context.Context, tx *ent.Tx, u *ent.User, amount float64, at time.Time) error {
	upd := tx.User.UpdateOneID(u.ID).AddTotalSpent(amount)
	if !at.IsZero() && (u.LastActiveAt == nil || at.After(*u.LastActiveAt)) {
		upd.SetLastActiveAt(at)
	}
	return upd.Exec(ctx)
}
