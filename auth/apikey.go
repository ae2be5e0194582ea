package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/platform/database"
)

// keyPrefix starts every API key, so that leaked keys are easy to find
// with secret scanners and never mistaken for a JWT.
const keyPrefix = "mrd_"

// Keys stores API keys: the id and a SHA-256 of the secret, never the key
// itself. A key is 160 random bits, so a fast hash is enough: there is no
// low-entropy password to brute-force.
type Keys struct {
	db *database.DB
}

// NewKeys returns the key store of db, whose migrations create its table.
func NewKeys(db *database.DB) *Keys { return &Keys{db: db} }

// Tables declares the api_keys table for the versioned migrations
// (internal/dbschema lists it; see database.Tables).
func Tables() database.Tables { return database.Tables{Owner: "api keys", DDL: schema} }

// schema creates the api_keys table; times are Unix milliseconds.
func schema(string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS api_keys (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		role TEXT NOT NULL,
		secret_sha256 TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		revoked_at BIGINT
	)`}
}

// Migrate makes sure the database has the api_keys table: it applies the
// database's pending migrations (database.DB.Migrate), whose files create
// it. database.Open has done so already, unless it was told not to migrate.
func (k *Keys) Migrate(ctx context.Context) error {
	if err := k.db.Migrate(ctx); err != nil {
		return fmt.Errorf("api keys schema: %w", err)
	}
	return nil
}

// APIKey describes a stored key (without its secret).
type APIKey struct {
	ID        string
	Name      string
	Role      Role
	CreatedAt time.Time
}

// Create stores a new key and returns it with the plaintext key, which is
// shown this once and cannot be recovered.
func (k *Keys) Create(ctx context.Context, name string, role Role) (*APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", &InputError{Field: "name", Msg: "must be 1 to 100 characters"}
	}
	if role.rank() == 0 {
		return nil, "", &InputError{Field: "role", Msg: "must be VIEWER, ANALYST or ADMIN"}
	}
	id := strings.ToLower(rand.Text()[:12])
	secret := strings.ToLower(rand.Text()) // 26 base32 characters: 130 bits
	sum := sha256.Sum256([]byte(secret))
	now := time.Now().UTC()
	_, err := k.db.Driver.ExecContext(ctx, k.db.Rebind(`INSERT INTO api_keys (id, name, role, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)`),
		id, name, string(role), hex.EncodeToString(sum[:]), now.UnixMilli())
	if err != nil {
		return nil, "", fmt.Errorf("create api key: %w", err)
	}
	return &APIKey{ID: id, Name: name, Role: role, CreatedAt: now.Truncate(time.Millisecond)}, keyPrefix + id + "_" + secret, nil
}

// ErrInvalidKey is returned for a key that is malformed, unknown, revoked
// or wrong; callers must not tell these apart to the client.
var ErrInvalidKey = errors.New("invalid API key")

// Authenticate returns the caller a key belongs to.
func (k *Keys) Authenticate(ctx context.Context, key string) (Principal, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(key), keyPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || !base32Lower(id) || !base32Lower(secret) || len(key) > 200 {
		return Principal{}, ErrInvalidKey
	}
	var role, want string
	var revoked sql.NullInt64
	err := k.db.SQL().QueryRowContext(ctx, k.db.Rebind(`SELECT role, secret_sha256, revoked_at FROM api_keys WHERE id = ?`), id).Scan(&role, &want, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrInvalidKey
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up api key: %w", err)
	}
	sum := sha256.Sum256([]byte(secret))
	got := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 || revoked.Valid {
		return Principal{}, ErrInvalidKey
	}
	r, err := ParseRole(role)
	if err != nil {
		return Principal{}, fmt.Errorf("api key %s: %w", id, err)
	}
	return Principal{Subject: "key:" + id, Role: r, Method: "api-key"}, nil
}

// Revoke disables a key; it reports whether the key existed and was live.
func (k *Keys) Revoke(ctx context.Context, id string) (bool, error) {
	res, err := k.db.Driver.ExecContext(ctx, k.db.Rebind(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), time.Now().UnixMilli(), id)
	if err != nil {
		return false, fmt.Errorf("revoke api key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InputError is a bad argument; package apperr maps it to BAD_USER_INPUT.
type InputError struct{ Field, Msg string }

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

// BadUserInput lets package apperr map the error to BAD_USER_INPUT.
func (e *InputError) BadUserInput() (field, msg string) { return e.Field, e.Msg }

// base32Lower reports a non-empty string of the characters keys are made
// of, so that nothing else ever reaches the database.
func base32Lower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return s != ""
}
