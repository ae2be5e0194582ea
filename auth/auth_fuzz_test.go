package auth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

var fuzzRoles = []auth.Role{auth.Viewer, auth.Analyst, auth.Admin}

// FuzzParseRole: an accepted role is one of the three, parses to itself,
// reads the same through the GraphQL enum decoder, marshals to its quoted
// name, and allows itself; every ASCII-case spelling of a role name, with
// spaces around it, is accepted.
func FuzzParseRole(f *testing.F) {
	for _, s := range []string{"VIEWER", "analyst", " Admin\t", "admin ", "ROOT", "", " ", "viewer\x00", "ADMIN,VIEWER",
		"admın", "ſuper", "\u00a0ADMIN\u00a0", "VİEWER", "Viewer\n", strings.Repeat("A", 1000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := auth.ParseRole(s)
		var viaGQL auth.Role
		gqlErr := viaGQL.UnmarshalGQL(s)
		if (err == nil) != (gqlErr == nil) || r != viaGQL {
			t.Fatalf("ParseRole(%q) = %q, %v but UnmarshalGQL gives %q, %v", s, r, err, viaGQL, gqlErr)
		}
		wantOK := false
		for _, role := range fuzzRoles {
			if strings.EqualFold(strings.TrimSpace(s), string(role)) {
				wantOK = true
				if r != role {
					t.Fatalf("ParseRole(%q) = %q, want %q", s, r, role)
				}
			}
		}
		if wantOK && err != nil {
			t.Fatalf("ParseRole(%q) refused a role name: %v", s, err)
		}
		if err != nil {
			if r != "" {
				t.Fatalf("ParseRole(%q) returned %q with its error", s, r)
			}
			if auth.Role(s).Allows(auth.Viewer) {
				t.Fatalf("the unknown role %q allows VIEWER", s)
			}
			return
		}
		if !slices.Contains(fuzzRoles, r) {
			t.Fatalf("ParseRole(%q) = %q, not a role", s, r)
		}
		if again, err := auth.ParseRole(string(r)); err != nil || again != r {
			t.Fatalf("ParseRole(%q) = %q, %v; want itself", r, again, err)
		}
		var b bytes.Buffer
		r.MarshalGQL(&b)
		if b.String() != strconv.Quote(string(r)) {
			t.Fatalf("MarshalGQL(%q) wrote %s", r, b.String())
		}
		if !r.Allows(r) || !r.Allows(auth.Viewer) || r.Allows("") {
			t.Fatalf("role %q does not allow itself and VIEWER only", r)
		}
	})
}

// fuzzKeys is a migrated key store on a fresh SQLite database with one live
// ADMIN key and one revoked key.
func fuzzKeys(f *testing.F) (keys *auth.Keys, live, revoked string) {
	ctx := context.Background()
	db := testdb.Open(f, fuzzBackend())
	keys = auth.NewKeys(db)
	if err := keys.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	_, live, err := keys.Create(ctx, "fuzz", auth.Admin)
	if err != nil {
		f.Fatal(err)
	}
	k, revoked, err := keys.Create(ctx, "revoked", auth.Viewer)
	if err != nil {
		f.Fatal(err)
	}
	if ok, err := keys.Revoke(ctx, k.ID); !ok || err != nil {
		f.Fatalf("revoke: %v %v", ok, err)
	}
	return keys, live, revoked
}

// FuzzKeysAuthenticate: (*Keys).Authenticate returns a principal only for
// the live key itself (spaces around it allowed), and refuses everything
// else — random strings, the revoked key, a live id with another secret —
// with ErrInvalidKey and nothing else (a driver error would be a 401 that
// tells an attacker something different). mode splices the fuzzed string
// into the live key so that the engine explores near misses.
func FuzzKeysAuthenticate(f *testing.F) {
	keys, live, revoked := fuzzKeys(f)
	ctx := context.Background()
	id, secret, _ := strings.Cut(strings.TrimPrefix(live, "mrd_"), "_")
	for _, s := range []struct {
		s    string
		mode uint8
	}{
		{"", 0}, {"mrd_", 0}, {"mrd__", 0}, {"mrd_x_", 0}, {"mrd__x", 0}, {"mrd_x_y", 0},
		{"MRD_" + id + "_" + secret, 0}, {"mrd_" + strings.ToUpper(id) + "_" + secret, 0},
		{"mrd_" + id + "_" + strings.ToUpper(secret), 0}, {"mrd_" + id + "_" + secret + "_", 0},
		{"mrd_" + id + "_" + secret[:len(secret)-1], 0}, {"mrd_" + id + "'--_x", 0}, {"mrd_' OR '1'='1_x", 0},
		{"mrd_" + id + "\x00_" + secret, 0}, {"mrd_" + strings.Repeat("a", 300) + "_b", 0},
		{"", 1}, {" ", 1}, {"\n", 1}, {"x", 1}, {"_", 1},
		{"", 2}, {" ", 2}, {"Bearer ", 2}, {"x", 2},
		{"", 3}, {secret + "x", 3}, {strings.Repeat(" ", 200), 1},
		{revoked, 0},
	} {
		f.Add(s.s, s.mode)
	}
	f.Fuzz(func(t *testing.T, s string, mode uint8) {
		key := s
		switch mode % 4 {
		case 1:
			key = live + s
		case 2:
			key = s + live
		case 3:
			key = "mrd_" + id + "_" + s
		}
		p, err := keys.Authenticate(ctx, key)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidKey) {
				t.Fatalf("Authenticate(%q) failed with %v, want ErrInvalidKey", key, err)
			}
			if p != (auth.Principal{}) {
				t.Fatalf("Authenticate(%q) returned %+v with its error", key, p)
			}
			return
		}
		if strings.TrimSpace(key) != live || len(key) > 200 {
			t.Fatalf("Authenticate(%q) accepted something other than the live key: %+v", key, p)
		}
		if p != (auth.Principal{Subject: "key:" + id, Role: auth.Admin, Method: "api-key"}) {
			t.Fatalf("Authenticate(live key) = %+v", p)
		}
	})
}

// fuzzJWT is a verifier with an HS256 secret and an RS256 JWKS, an issuer
// and an audience, as in production.
type fuzzJWT struct {
	v      *auth.JWT
	secret []byte
	rsa    *rsa.PrivateKey
}

const (
	fuzzIssuer   = "https://id.example"
	fuzzAudience = "meridian"
)

func newFuzzJWT(f *testing.F) fuzzJWT {
	secret := []byte("0123456789abcdef0123456789abcdef")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	file := filepath.Join(f.TempDir(), "jwks.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		f.Fatal(err)
	}
	v, err := auth.NewJWT(auth.JWTConfig{Secret: secret, JWKSFile: file, Issuer: fuzzIssuer, Audience: fuzzAudience})
	if err != nil {
		f.Fatal(err)
	}
	return fuzzJWT{v: v, secret: secret, rsa: key}
}

// token builds header.claims.signature, signed with the verifier's secret
// (alg 1), its RSA key (alg 2) or not signed (anything else).
func (j fuzzJWT) token(header, claims []byte, alg uint8) string {
	enc := base64.RawURLEncoding.EncodeToString
	in := enc(header) + "." + enc(claims)
	switch alg % 3 {
	case 1:
		m := hmac.New(sha256.New, j.secret)
		m.Write([]byte(in))
		return in + "." + enc(m.Sum(nil))
	case 2:
		sum := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(nil, j.rsa, crypto.SHA256, sum[:])
		if err != nil {
			panic(err)
		}
		return in + "." + enc(sig)
	}
	return in + "."
}

// checkAccepted verifies, independently of the JWT library, that an
// accepted token carries a valid signature and claims that pass every
// configured check, and that the principal comes from them.
func (j fuzzJWT) checkAccepted(t *testing.T, token string, p auth.Principal, before, after time.Time) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted a token of %d parts: %q", len(parts), token)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.URLEncoding.DecodeString(s)
		}
		if err != nil {
			t.Fatalf("accepted a token with a segment that is not base64url: %q", s)
		}
		return b
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(dec(parts[0]), &header); err != nil {
		t.Fatalf("accepted a token whose header does not decode: %v", err)
	}
	signed, sig := []byte(parts[0]+"."+parts[1]), dec(parts[2])
	switch header.Alg {
	case "HS256":
		m := hmac.New(sha256.New, j.secret)
		m.Write(signed)
		if !hmac.Equal(m.Sum(nil), sig) {
			t.Fatalf("accepted an HS256 token with a wrong MAC: %q", token)
		}
	case "RS256":
		sum := sha256.Sum256(signed)
		if err := rsa.VerifyPKCS1v15(&j.rsa.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("accepted an RS256 token with a wrong signature: %q", token)
		}
	default:
		t.Fatalf("accepted alg %q: %q", header.Alg, token)
	}
	d := json.NewDecoder(bytes.NewReader(dec(parts[1])))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil {
		t.Fatalf("accepted claims that are not a JSON object: %v", err)
	}
	num := func(k string) (float64, bool) {
		n, ok := c[k].(json.Number)
		if !ok {
			return 0, false
		}
		v, err := n.Float64()
		return v, err == nil && !math.IsInf(v, 0)
	}
	const leeway, slack = 30, 2 // seconds: the verifier's default leeway, and clock slack
	exp, ok := num("exp")
	if !ok || exp+leeway+slack < float64(before.Unix()) {
		t.Fatalf("accepted exp %v at %v: %q", c["exp"], before, token)
	}
	if _, has := c["nbf"]; has {
		if nbf, ok := num("nbf"); !ok || nbf-leeway-slack > float64(after.Unix()) {
			t.Fatalf("accepted nbf %v at %v", c["nbf"], after)
		}
	}
	if c["iss"] != fuzzIssuer {
		t.Fatalf("accepted iss %#v", c["iss"])
	}
	switch aud := c["aud"].(type) {
	case string:
		if aud != fuzzAudience {
			t.Fatalf("accepted aud %q", aud)
		}
	case []any:
		if !slices.Contains(aud, any(fuzzAudience)) {
			t.Fatalf("accepted aud %v", aud)
		}
	default:
		t.Fatalf("accepted aud %#v", aud)
	}
	sub, _ := c["sub"].(string)
	role, _ := c["role"].(string)
	want, err := auth.ParseRole(role)
	if sub == "" || err != nil || p != (auth.Principal{Subject: "jwt:" + sub, Role: want, Method: "jwt"}) {
		t.Fatalf("principal %+v from sub %#v role %#v", p, c["sub"], c["role"])
	}
}

// FuzzJWTVerify feeds (*JWT).Verify raw tokens (alg 0) and tokens built from
// a fuzzed header and claims and signed with the verifier's HS256 secret or
// RS256 key, so that both the parser and the claim checks are explored. An
// accepted token must verify independently (see checkAccepted); a refused
// one wraps ErrInvalidToken.
func FuzzJWTVerify(f *testing.F) {
	j := newFuzzJWT(f)
	now := time.Now().Unix()
	good := `{"sub":"u-1","role":"analyst","iss":"https://id.example","aud":"meridian","exp":` + strconv.FormatInt(now+3600, 10) + `}`
	hs, rs := `{"alg":"HS256","typ":"JWT"}`, `{"alg":"RS256","typ":"JWT","kid":"k1"}`
	for _, s := range []struct {
		token, header, claims string
		alg                   uint8
	}{
		{header: hs, claims: good, alg: 1},
		{header: rs, claims: good, alg: 2},
		{header: `{"alg":"RS256"}`, claims: good, alg: 2},
		{header: `{"alg":"RS256","kid":"k9"}`, claims: good, alg: 2},
		{header: `{"alg":"none"}`, claims: good},
		{header: `{"alg":"HS256"}`, claims: good},
		{header: `{"alg":"RS256","kid":"k1"}`, claims: good, alg: 1}, // RS256 header, HMAC signature
		{header: `{"alg":"HS256"}`, claims: good, alg: 2},            // HS256 header, RSA signature
		{header: `{"alg":"HS512"}`, claims: good, alg: 1},
		{header: `{"alg":"ES256"}`, claims: good, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"analyst","iss":"https://id.example","aud":["x","meridian"],"exp":` + strconv.FormatInt(now+60, 10) + `}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian","exp":1e300}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian","exp":-1e300}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian","exp":9.3e18}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian","exp":"9999999999"}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian","exp":1}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian"}`, alg: 1},
		{header: hs, claims: `{"sub":"u-1","role":"admin","iss":"https://id.example","aud":"meridian","exp":9999999999,"nbf":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":"","role":"admin","iss":"https://id.example","aud":"meridian","exp":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":42,"role":"admin","iss":"https://id.example","aud":"meridian","exp":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":"u","role":["admin"],"iss":"https://id.example","aud":"meridian","exp":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":"u","role":"root","iss":"https://id.example","aud":"meridian","exp":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":"u","role":"admin","iss":"evil","aud":"meridian","exp":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":"u","role":"admin","iss":"https://id.example","aud":"other","exp":9999999999}`, alg: 1},
		{header: hs, claims: `{"sub":"u","role":"admin","iss":"https://id.example","aud":"meridian","exp":9999999999,"sub":""}`, alg: 1},
		{header: hs, claims: `[]`, alg: 1},
		{header: hs, claims: `null`, alg: 1},
		{header: `null`, claims: good, alg: 1},
		{header: `{"alg":"HS256","crit":["exp"]}`, claims: good, alg: 1},
		{token: ""}, {token: "."}, {token: ".."}, {token: "a.b.c"}, {token: "a.b.c.d"},
		{token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0."},
		{token: strings.Repeat("A", 10000) + ".." + strings.Repeat("=", 10)},
	} {
		f.Add(s.token, []byte(s.header), []byte(s.claims), s.alg)
	}
	f.Fuzz(func(t *testing.T, token string, header, claims []byte, alg uint8) {
		if alg%3 != 0 || token == "" && len(header)+len(claims) > 0 {
			token = j.token(header, claims, alg)
		}
		before := time.Now()
		p, err := j.v.Verify(token)
		after := time.Now()
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify(%q) failed with %v, want ErrInvalidToken", token, err)
			}
			if p != (auth.Principal{}) {
				t.Fatalf("Verify(%q) returned %+v with its error", token, p)
			}
			return
		}
		j.checkAccepted(t, token, p, before, after)
	})
}

// FuzzAuthenticate drives the Authenticator as the HTTP middleware and the
// WebSocket init do: any credential string, with or without a scheme. An
// API-key principal needs the live key after nothing but schemes and
// spaces; a JWT principal needs a token that verifies independently;
// anything else is refused, and an empty credential (only) is "no
// credential".
func FuzzAuthenticate(f *testing.F) {
	keys, live, revoked := fuzzKeys(f)
	j := newFuzzJWT(f)
	a := &auth.Authenticator{Keys: keys, JWT: j.v}
	good := j.token([]byte(`{"alg":"HS256","typ":"JWT"}`),
		[]byte(`{"sub":"u-1","role":"viewer","iss":"https://id.example","aud":"meridian","exp":`+strconv.FormatInt(time.Now().Unix()+3600, 10)+`}`), 1)
	for _, s := range []string{
		live, "Bearer " + live, "bearer " + live, "ApiKey " + live, "apikey " + live, "Bearer ApiKey " + live,
		"BEARER " + live, "Bearer  " + live, "Basic " + live, "\t" + live + "\n", revoked, "Bearer " + revoked,
		good, "Bearer " + good, "ApiKey " + good, "Bearer", "Bearer ", "", " ", "mrd_", "Bearer mrd_",
		"Bearer eyJ", "x.y.z", live + " " + live, "Bearer\u00a0" + live,
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, cred string) {
		before := time.Now()
		p, err := a.Authenticate(ctx, cred)
		after := time.Now()
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidKey) && !errors.Is(err, auth.ErrInvalidToken) && err.Error() != "no credentials" {
				t.Fatalf("Authenticate(%q) failed with %v", cred, err)
			}
			if err.Error() == "no credentials" && fuzzStripSchemes(cred) != "" {
				t.Fatalf("Authenticate(%q): a credential taken for none", cred)
			}
			return
		}
		rest := fuzzStripSchemes(cred)
		switch p.Method {
		case "api-key":
			if rest != live || p.Role != auth.Admin {
				t.Fatalf("Authenticate(%q) = %+v from something other than the live key", cred, p)
			}
		case "jwt":
			j.checkAccepted(t, rest, p, before, after)
		default:
			t.Fatalf("Authenticate(%q) = %+v", cred, p)
		}
	})
}

// fuzzStripSchemes removes what the Authenticator documents it removes: the
// schemes "Bearer ", "ApiKey " (either case) and surrounding spaces.
func fuzzStripSchemes(s string) string {
	s = strings.TrimSpace(s)
	for _, scheme := range []string{"Bearer ", "bearer ", "ApiKey ", "apikey "} {
		s = strings.TrimPrefix(s, scheme)
	}
	return s
}

// fuzzBackend is the database of the fuzz targets: SQLite unless
// MERIDIAN_FUZZ_BACKEND names another testdb backend ("postgres").
func fuzzBackend() string {
	if b := os.Getenv("MERIDIAN_FUZZ_BACKEND"); b != "" {
		return b
	}
	return "sqlite"
}
