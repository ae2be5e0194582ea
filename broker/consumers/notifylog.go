package consumers

import (
	"context"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/platform/database"
)

// Notification is one entry of the notifications log.
type Notification struct {
	ID        string
	Channel   string
	Template  string
	Recipient string
	Subject   string
	Body      string
	CreatedAt time.Time
}

// MaxNotifications bounds one read of the log.
const MaxNotifications = 500

// Notifications returns the newest limit entries of the log (for one
// recipient when it is not empty), newest first.
func Notifications(ctx context.Context, db *database.DB, recipient string, limit int) ([]*Notification, error) {
	out := []*Notification{}
	if limit <= 0 {
		return out, nil
	}
	limit = min(limit, MaxNotifications)
	q := `SELECT id, channel, template, recipient, subject, body, created_at FROM notifications`
	args := []any{}
	if recipient != "" {
		q += ` WHERE recipient = ?`
		args = append(args, recipient)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.Driver.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n Notification
		var ms int64
		if err := rows.Scan(&n.ID, &n.Channel, &n.Template, &n.Recipient, &n.Subject, &n.Body, &ms); err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
		n.CreatedAt = time.UnixMilli(ms).UTC()
		out = append(out, &n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return out, nil
}
