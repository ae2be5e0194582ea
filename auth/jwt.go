package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig configures JWT verification. HS256 needs Secret; RS256 needs
// JWKSFile (keys chosen by the token's kid). Issuer and Audience, when
// set, must match.
type JWTConfig struct {
	Secret   []byte
	JWKSFile string
	Issuer   string
	Audience string
	// RoleClaim names the claim holding the role (default "role").
	RoleClaim string
	Leeway    time.Duration
}

// JWT verifies tokens.
type JWT struct {
	cfg  JWTConfig
	keys *jose.JSONWebKeySet
}

// NewJWT reads the JWKS file, if any. It returns nil (no JWT support) when
// neither a secret nor a JWKS file is configured.
func NewJWT(cfg JWTConfig) (*JWT, error) {
	if len(cfg.Secret) == 0 && cfg.JWKSFile == "" {
		return nil, nil
	}
	if len(cfg.Secret) > 0 && len(cfg.Secret) < 32 {
		return nil, errors.New("jwt: the HS256 secret must be at least 32 bytes")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "role"
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	j := &JWT{cfg: cfg}
	if cfg.JWKSFile != "" {
		b, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: read JWKS: %w", err)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(b, &set); err != nil {
			return nil, fmt.Errorf("jwt: parse JWKS %s: %w", cfg.JWKSFile, err)
		}
		if len(set.Keys) == 0 {
			return nil, fmt.Errorf("jwt: JWKS %s holds no keys", cfg.JWKSFile)
		}
		j.keys = &set
	}
	return j, nil
}

// ErrInvalidToken is returned for any token that does not verify.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks the token's signature, expiry, issuer and audience and
// returns its caller.
func (j *JWT) Verify(token string) (Principal, error) {
	var methods []string
	if len(j.cfg.Secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if j.keys != nil {
		methods = append(methods, jwt.SigningMethodRS256.Alg())
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithLeeway(j.cfg.Leeway), jwt.WithExpirationRequired()}
	if j.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(j.cfg.Issuer))
	}
	if j.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(j.cfg.Audience))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, j.key, opts...)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	sub, _ := claims.GetSubject()
	if sub == "" {
		return Principal{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	rs, _ := claims[j.cfg.RoleClaim].(string)
	role, err := ParseRole(rs)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: claim %s: %w", ErrInvalidToken, j.cfg.RoleClaim, err)
	}
	return Principal{Subject: "jwt:" + sub, Role: role, Method: "jwt"}, nil
}

// key picks the verification key by algorithm (and kid for RS256).
func (j *JWT) key(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case jwt.SigningMethodHS256.Alg():
		return j.cfg.Secret, nil
	case jwt.SigningMethodRS256.Alg():
		kid, _ := t.Header["kid"].(string)
		for _, k := range j.keys.Keys {
			if (kid == "" || k.KeyID == kid) && k.Valid() && k.IsPublic() && strings.EqualFold(keyUse(k), "sig") {
				return k.Key, nil
			}
		}
		return nil, fmt.Errorf("no RS256 key with kid %q", kid)
	}
	return nil, fmt.Errorf("unexpected algorithm %s", t.Method.Alg())
}

func keyUse(k jose.JSONWebKey) string {
	if k.Use == "" {
		return "sig"
	}
	return k.Use
}
