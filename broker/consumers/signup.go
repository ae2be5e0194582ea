package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/live"
)

// signup is the seed's signup flow for one new user: validate the stored
// record, enrich it (email domain, free-mail provider, home city), write
// the user's analytics profile, queue the welcome email and announce the
// sign-up to live subscribers on every instance.
//
// Its effects are idempotent (profile upserts; downstream messages carry
// ids derived from this message's, which their consumers dedupe) and the
// inbox records the message once they all succeeded, so a redelivery of a
// handled message does nothing.
func (c *Consumers) signup(ctx context.Context, m broker.Message) error {
	err := c.signupOnce(ctx, m)
	if err != nil && !broker.IsPermanent(err) && !errors.Is(err, errDecode) {
		// Everything else that fails here is a database, store or broker
		// call: an outage, unless the database refused the data itself.
		return outage(err)
	}
	return err
}

// errDecode marks a body the consumer cannot read.
var errDecode = errors.New("cannot decode message")

func (c *Consumers) signupOnce(ctx context.Context, m broker.Message) error {
	in := inbox{db: c.d.DB, consumer: QueueSignup}
	if seen, err := in.seen(ctx, m.ID); err != nil || seen {
		return err
	}
	var du domainUser
	if err := json.Unmarshal(m.Body, &du); err != nil || du.ID <= 0 {
		return fmt.Errorf("%w: %s %s: %v", errDecode, m.Type, m.ID, errOr(err, "no user id"))
	}
	u, err := c.d.DB.Client.User.Get(ctx, du.ID)
	if ent.IsNotFound(err) {
		// Deleted before we got to it: nothing left to welcome.
		c.d.Log.InfoContext(ctx, "signup: user no longer exists", "user", du.ID, "id", m.ID)
		return in.done(ctx, m.ID, c.d.Now())
	}
	if err != nil {
		return fmt.Errorf("signup: load user %d: %w", du.ID, err)
	}
	domain, err := validateUser(u)
	if err != nil {
		// The record itself is wrong: retrying cannot help, an operator must
		// look at it (it waits in the dead-letter queue).
		return broker.Permanent(fmt.Errorf("signup: user %d: %w", u.ID, err))
	}
	geo, err := c.homeOf(ctx, u)
	if err != nil {
		return err
	}
	if _, err := c.d.Events.Store.UpsertProfile(ctx, analytics.ProfileInput{Username: u.Username, Email: &u.Email}); err != nil {
		return fmt.Errorf("signup: profile of %s: %w", u.Username, err)
	}
	if _, err := c.d.Events.Store.UpdateMetrics(ctx, u.Username, map[string]float64{
		"free_mail":   boolf(freeMail(domain)),
		"signup_unix": float64(u.CreatedAt.Unix()),
	}); err != nil {
		return fmt.Errorf("signup: profile metrics of %s: %w", u.Username, err)
	}
	su := live.SignUp{UserID: u.ID, Username: u.Username, EmailDomain: domain, SignedUpAt: u.CreatedAt.UTC()}
	if geo != nil {
		su.CountryCode, su.City = geo.Country, geo.City
	}
	welcome, err := json.Marshal(Email{Template: "welcome", To: u.Email, UserID: u.ID, Data: map[string]string{
		"username": u.Username, "city": su.City, "country": su.CountryCode,
	}})
	if err != nil {
		return err
	}
	now := c.d.Now()
	if err := c.d.Bus.Publish(ctx, broker.ExchangeNotifications, broker.Message{
		ID: "welcome-" + m.ID, Type: TypeEmail, OccurredAt: now, SchemaVersion: 1, CorrelationID: m.CorrelationID, Body: welcome,
	}); err != nil {
		return fmt.Errorf("signup: queue welcome email: %w", err)
	}
	announce, err := json.Marshal(su)
	if err != nil {
		return err
	}
	if err := c.d.Bus.Publish(ctx, broker.ExchangeAnalytics, broker.Message{
		ID: "signedup-" + m.ID, Type: live.UserSignedUp, OccurredAt: now, SchemaVersion: 1, CorrelationID: m.CorrelationID, Body: announce,
	}); err != nil {
		return fmt.Errorf("signup: announce: %w", err)
	}
	return in.done(ctx, m.ID, now)
}

// validateUser checks what the seed's validator checked, plus what the
// schema cannot know (reserved domains), and returns the email's domain.
func validateUser(u *ent.User) (string, error) {
	if strings.TrimSpace(u.Username) == "" {
		return "", errors.New("empty username")
	}
	a, err := mail.ParseAddress(u.Email)
	if err != nil || a.Address != u.Email || a.Name != "" {
		return "", fmt.Errorf("invalid email %q", u.Email)
	}
	_, domain, _ := strings.Cut(u.Email, "@")
	domain = strings.ToLower(domain)
	if !strings.Contains(strings.Trim(domain, "."), ".") {
		return "", fmt.Errorf("email domain %q is not a public domain", domain)
	}
	// The schema accepts any dotted domain; mail to the special-use names
	// of RFC 2606 and RFC 6761 can never be delivered.
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	switch tld {
	case "test", "invalid", "localhost", "example", "local":
		return "", fmt.Errorf("email domain %q is not a public domain (reserved .%s)", domain, tld)
	}
	return domain, nil
}

// freeMail reports whether domain is a consumer mailbox provider rather
// than a company's own domain, a common enrichment for B2B segmentation.
func freeMail(domain string) bool {
	switch domain {
	case "gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com",
		"aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru", "ukr.net", "qq.com", "163.com":
		return true
	}
	return false
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// homeOf returns the city the user's address is in; nil without address.
func (c *Consumers) homeOf(ctx context.Context, u *ent.User) (*analytics.Geo, error) {
	if u.AddressID == nil {
		return nil, nil
	}
	ci, err := c.d.DB.Client.City.Query().Where(city.HasAddressesWith(address.ID(*u.AddressID))).WithCountry().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signup: city of user %d: %w", u.ID, err)
	}
	g := &analytics.Geo{City: ci.Name, Lat: ci.Latitude, Lon: ci.Longitude}
	if ci.Edges.Country != nil {
		g.Country = ci.Edges.Country.Code
	}
	return g, nil
}
