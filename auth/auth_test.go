package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

func TestAPIKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		keys := auth.NewKeys(db)
		if err := keys.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		k, key, err := keys.Create(ctx, "dashboards", auth.Analyst)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, "mrd_"+k.ID+"_") || k.Role != auth.Analyst {
			t.Fatalf("key %q for %+v", key, k)
		}
		// Only a hash is stored.
		var stored string
		if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT secret_sha256 FROM api_keys WHERE id = ?`), k.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(key, stored) || len(stored) != 64 {
			t.Errorf("stored secret %q", stored)
		}
		p, err := keys.Authenticate(ctx, key)
		if err != nil || p.Role != auth.Analyst || p.Subject != "key:"+k.ID || p.Method != "api-key" {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		for _, bad := range []string{"", "mrd_", "mrd_" + k.ID, "mrd_" + k.ID + "_wrong", key + "x", "mrd_nosuchid_" + strings.Repeat("a", 26), strings.Replace(key, "mrd_", "mrx_", 1)} {
			if _, err := keys.Authenticate(ctx, bad); !errors.Is(err, auth.ErrInvalidKey) {
				t.Errorf("Authenticate(%q) = %v, want ErrInvalidKey", bad, err)
			}
		}
		if ok, err := keys.Revoke(ctx, k.ID); !ok || err != nil {
			t.Fatalf("Revoke = %v, %v", ok, err)
		}
		if _, err := keys.Authenticate(ctx, key); !errors.Is(err, auth.ErrInvalidKey) {
			t.Errorf("revoked key accepted: %v", err)
		}
		if ok, _ := keys.Revoke(ctx, k.ID); ok {
			t.Error("revoked twice")
		}
		if _, _, err := keys.Create(ctx, " ", auth.Admin); err == nil {
			t.Error("empty name accepted")
		}
		if _, _, err := keys.Create(ctx, "x", auth.Role("ROOT")); err == nil {
			t.Error("unknown role accepted")
		}
	})
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWT(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rsaKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	b, _ := json.Marshal(jwks)
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewJWT(auth.JWTConfig{Secret: secret, JWKSFile: file, Issuer: "https://id.example", Audience: "meridian"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u-1", "role": "analyst", "iss": "https://id.example", "aud": "meridian", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	for name, tok := range map[string]string{
		"HS256": sign(t, jwt.SigningMethodHS256, secret, "", claims(nil)),
		"RS256": sign(t, jwt.SigningMethodRS256, rsaKey, "k1", claims(nil)),
	} {
		p, err := v.Verify(tok)
		if err != nil || p.Role != auth.Analyst || p.Subject != "jwt:u-1" || p.Method != "jwt" {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
	}
	for name, tok := range map[string]string{
		"expired":          sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"no expiry":        sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"wrong issuer":     sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { c["iss"] = "evil" })),
		"wrong audience":   sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { c["aud"] = "other" })),
		"no role":          sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { delete(c, "role") })),
		"unknown role":     sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { c["role"] = "root" })),
		"no subject":       sign(t, jwt.SigningMethodHS256, secret, "", claims(func(c jwt.MapClaims) { delete(c, "sub") })),
		"wrong secret":     sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "", claims(nil)),
		"unknown RSA key":  sign(t, jwt.SigningMethodRS256, other, "k1", claims(nil)),
		"unknown kid":      sign(t, jwt.SigningMethodRS256, rsaKey, "k9", claims(nil)),
		"alg none":         sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(nil)),
		"HS384 not listed": sign(t, jwt.SigningMethodHS384, secret, "", claims(nil)),
		"garbage":          "not.a.jwt",
	} {
		if p, err := v.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: accepted as %+v (%v)", name, p, err)
		}
	}
	if v, err := auth.NewJWT(auth.JWTConfig{}); v != nil || err != nil {
		t.Errorf("no configuration gives %v, %v; want no JWT support", v, err)
	}
	if _, err := auth.NewJWT(auth.JWTConfig{Secret: []byte("short")}); err == nil {
		t.Error("short secret accepted")
	}
}

func TestRoles(t *testing.T) {
	if !auth.Admin.Allows(auth.Analyst) || !auth.Analyst.Allows(auth.Viewer) || auth.Viewer.Allows(auth.Analyst) || auth.Role("").Allows(auth.Viewer) || auth.Admin.Allows("") {
		t.Error("role order wrong")
	}
	if r, err := auth.ParseRole(" admin "); r != auth.Admin || err != nil {
		t.Errorf("ParseRole = %v, %v", r, err)
	}
}
