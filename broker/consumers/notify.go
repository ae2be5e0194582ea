package consumers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"text/template"

	"github.com/meridian-graphql/meridian/broker"
)

// Email is the body of a notification.email message.
type Email struct {
	Template string            `json:"template"`
	To       string            `json:"to"`
	UserID   int               `json:"userId,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
}

// emailTemplate is a subject and a body, both text/template.
type emailTemplate struct{ subject, body *template.Template }

func mustTemplate(subject, body string) emailTemplate {
	opt := "missingkey=zero"
	return emailTemplate{
		subject: template.Must(template.New("subject").Option(opt).Parse(subject)),
		body:    template.Must(template.New("body").Option(opt).Parse(body)),
	}
}

// templates are the seed's notification texts. A function rather than a
// package variable so nothing global can be changed at run time.
func templates(name string) (emailTemplate, bool) {
	switch name {
	case "welcome":
		return mustTemplate(
			`Welcome to Meridian, {{.username}}`,
			`Hi {{.username}},

thanks for signing up{{if .city}} from {{.city}}{{end}}. Your account is ready.
`), true
	}
	return emailTemplate{}, false
}

// notify renders an email into the notifications log. The log's key is the
// message id, so a redelivered message inserts nothing.
func (c *Consumers) notify(ctx context.Context, m broker.Message) error {
	var e Email
	if err := json.Unmarshal(m.Body, &e); err != nil {
		return fmt.Errorf("decode %s %s: %w", m.Type, m.ID, err)
	}
	t, ok := templates(e.Template)
	if !ok {
		return broker.Permanent(fmt.Errorf("notification %s: unknown template %q", m.ID, e.Template))
	}
	if a, err := mail.ParseAddress(e.To); err != nil || a.Address != e.To {
		return broker.Permanent(fmt.Errorf("notification %s: invalid recipient %q", m.ID, e.To))
	}
	var subject, body bytes.Buffer
	if err := errors.Join(t.subject.Execute(&subject, e.Data), t.body.Execute(&body, e.Data)); err != nil {
		return broker.Permanent(fmt.Errorf("notification %s: render %s: %w", m.ID, e.Template, err))
	}
	var uid any
	if e.UserID > 0 {
		uid = e.UserID
	}
	_, err := c.d.DB.Driver.ExecContext(ctx, c.d.DB.Rebind(`INSERT INTO notifications (id, channel, template, recipient, subject, body, user_id, correlation_id, created_at)
		VALUES (?, 'email', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		m.ID, e.Template, e.To, subject.String(), body.String(), uid, m.CorrelationID, c.d.Now().UnixMilli())
	if err != nil {
		return outage(fmt.Errorf("notification %s: log: %w", m.ID, err))
	}
	return nil
}
