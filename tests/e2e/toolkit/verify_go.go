// Algorithms and token variants of a running mock-idp, verified by Go's
// golang-jwt (v4, Debian's golang-github-golang-jwt-jwt-dev, GOPATH mode)
// against the JWKS the server serves. golang-jwt has no JWKS support: the
// keyfunc below builds the public key from the served JWK the header's kid
// names (kid required), standard library only.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode MOCK_IDP_URL=... go run verify_go.go
//
// Same server as verify_py.py (scripts/ci/toolkit.sh starts it); runs after it.
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt"
)

var (
	base    = strings.TrimRight(os.Getenv("MOCK_IDP_URL"), "/")
	rootIss = os.Getenv("TOOLKIT_ROOT_ISS")
	secrets = map[string]string{"": os.Getenv("TOOLKIT_ROOT_SECRET"), "partner": os.Getenv("TOOLKIT_PARTNER_SECRET")}
	algs    = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
	client  = &http.Client{Timeout: 10 * time.Second}
	passed  int
	failed  int
)

func check(label string, ok bool, detail string) {
	if ok {
		passed++
		if detail != "" {
			fmt.Printf("PASS %s (%s)\n", label, detail)
		} else {
			fmt.Printf("PASS %s\n", label)
		}
	} else {
		failed++
		fmt.Printf("FAIL %s: %s\n", label, detail)
	}
}

func issOf(issuer string) string {
	if issuer == "" {
		return rootIss
	}
	return base + "/" + issuer
}

func jwksPath(issuer string) string {
	if issuer == "" {
		return "/.well-known/jwks.json"
	}
	return "/" + issuer + "/jwks"
}

func mount(issuer string) string {
	if issuer == "" {
		return ""
	}
	return "/" + issuer
}

func getJSON(path string, out interface{}) error {
	res, err := client.Get(base + path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", path, res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func mint(issuer string, body map[string]interface{}) (string, error) {
	raw, _ := json.Marshal(body)
	res, err := client.Post(base+mount(issuer)+"/token", "application/json", strings.NewReader(string(raw)))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 || out.AccessToken == "" {
		return "", fmt.Errorf("POST %s/token %s: %d", mount(issuer), raw, res.StatusCode)
	}
	return out.AccessToken, nil
}

type jwk map[string]string

func b64(s string) []byte {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return b
}

// publicKey builds the key golang-jwt wants for a served JWK.
func publicKey(k jwk) (interface{}, error) {
	switch k["kty"] {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(b64(k["n"])), E: int(new(big.Int).SetBytes(b64(k["e"])).Int64())}, nil
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384()}
		curve, ok := curves[k["crv"]]
		if !ok {
			return nil, fmt.Errorf("unsupported crv %q", k["crv"])
		}
		return &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(b64(k["x"])), Y: new(big.Int).SetBytes(b64(k["y"]))}, nil
	case "OKP":
		return ed25519.PublicKey(b64(k["x"])), nil
	}
	return nil, fmt.Errorf("unsupported kty %q", k["kty"])
}

var (
	errNoKid      = errors.New("token has no kid")
	errUnknownKid = errors.New("no key in the JWKS for the kid")
	errNoSub      = errors.New("token has no sub")
	errNoExp      = errors.New("token has no exp")
)

// verify: parse with the alg pinned and the key from the served JWKS by kid,
// then iss, aud (required) and, when asked, exp and sub present.
func verify(token, issuer, alg string, require bool) (jwt.MapClaims, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := getJSON(jwksPath(issuer), &set); err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}))
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (interface{}, error) {
		kid, ok := t.Header["kid"].(string)
		if !ok {
			return nil, errNoKid
		}
		for _, k := range set.Keys {
			if k["kid"] == kid {
				return publicKey(k)
			}
		}
		return nil, errUnknownKid
	})
	if err != nil {
		return nil, err
	}
	if !claims.VerifyIssuer(issOf(issuer), true) {
		return nil, jwt.ErrTokenInvalidIssuer
	}
	if !claims.VerifyAudience("api", true) {
		return nil, jwt.ErrTokenInvalidAudience
	}
	if require {
		if !claims.VerifyExpiresAt(time.Now().Unix(), true) {
			return nil, errNoExp
		}
		if _, ok := claims["sub"].(string); !ok {
			return nil, errNoSub
		}
	}
	return claims, nil
}

// outcome names the error by the sentinel it matches (errors.Is).
func outcome(claims jwt.MapClaims, err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range []error{jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenInvalidAudience, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenUnverifiable, jwt.ErrTokenMalformed,
		errNoExp, errNoSub} {
		if errors.Is(err, s) {
			return fmt.Sprintf("%s: %s", name(s), err)
		}
	}
	return "other: " + err.Error()
}

func name(e error) string {
	names := map[error]string{jwt.ErrTokenExpired: "ErrTokenExpired", jwt.ErrTokenNotValidYet: "ErrTokenNotValidYet",
		jwt.ErrTokenInvalidIssuer: "ErrTokenInvalidIssuer", jwt.ErrTokenInvalidAudience: "ErrTokenInvalidAudience",
		jwt.ErrTokenSignatureInvalid: "ErrTokenSignatureInvalid", jwt.ErrTokenUnverifiable: "ErrTokenUnverifiable",
		jwt.ErrTokenMalformed: "ErrTokenMalformed", errNoExp: "required exp", errNoSub: "required sub"}
	return names[e]
}

func algorithms(issuer string) {
	label := issuer
	if label == "" {
		label = "root"
	}
	for _, alg := range algs {
		token, err := mint(issuer, map[string]interface{}{"sub": "alg-check", "alg": alg})
		if err != nil {
			check(label+" "+alg+": mint", false, err.Error())
			continue
		}
		claims, err := verify(token, issuer, alg, true)
		res := outcome(claims, err)
		check(fmt.Sprintf("%s %s: golang-jwt verifies against the served JWKS", label, alg), res == "ok" && claims["sub"] == "alg-check", res)
	}
	token, err := mint(issuer, map[string]interface{}{"sub": "hs-check", "alg": "HS256"})
	if err == nil {
		claims := jwt.MapClaims{}
		_, err = jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(token, claims,
			func(*jwt.Token) (interface{}, error) { return []byte(secrets[issuer]), nil })
	}
	check(label+" HS256: golang-jwt verifies with the secret", err == nil, fmt.Sprint(err))
}

// expect: the sentinel name and a text in the message, or "ok".
var expect = map[string][2]string{
	"expired":             {"ErrTokenExpired", "is expired"},
	"not_yet_valid":       {"ErrTokenNotValidYet", ""},
	"wrong_issuer":        {"ErrTokenInvalidIssuer", ""},
	"wrong_audience":      {"ErrTokenInvalidAudience", ""},
	"bad_signature":       {"ErrTokenSignatureInvalid", "verification error"},
	"unknown_kid":         {"ErrTokenUnverifiable", errUnknownKid.Error()},
	"no_kid":              {"ErrTokenUnverifiable", errNoKid.Error()},
	"alg_none":            {"ErrTokenSignatureInvalid", "signing method none is invalid"},
	"hs256_key_confusion": {"ErrTokenSignatureInvalid", "signing method HS256 is invalid"},
	"missing_exp":         {"required exp", ""},
	"missing_sub":         {"required sub", ""},
	"wrong_typ":           {"ok", ""},
}

func variants(issuer, alg string) {
	label := issuer
	if label == "" {
		label = "root"
	}
	var catalogue struct {
		Variants []struct {
			Name string `json:"name"`
		} `json:"variants"`
	}
	if err := getJSON("/token/variants", &catalogue); err != nil {
		check("GET /token/variants", false, err.Error())
		return
	}
	request := map[string]interface{}{"sub": "user_variant", "org_id": "org_1", "scope": "read"}
	control, err := mint(issuer, request)
	if err == nil {
		res := outcome(verify(control, issuer, alg, true))
		check(label+" control: golang-jwt accepts the token of the same request without variant", res == "ok", res)
	}
	for _, v := range catalogue.Variants {
		body := map[string]interface{}{"variant": v.Name}
		for k, val := range request {
			body[k] = val
		}
		token, err := mint(issuer, body)
		if err != nil {
			check(label+" "+v.Name+": mint", false, err.Error())
			continue
		}
		want, known := expect[v.Name]
		res := outcome(verify(token, issuer, alg, true))
		ok := known && (res == want[0] || (strings.HasPrefix(res, want[0]+":") && strings.Contains(res, want[1])))
		wantText := "accepted"
		if want[0] != "ok" {
			wantText = want[0]
		}
		check(fmt.Sprintf("%s %s: golang-jwt -> %s", label, v.Name, wantText), ok, res)
		if v.Name == "missing_exp" {
			res := outcome(verify(token, issuer, alg, false))
			check(label+" missing_exp: golang-jwt v4 accepts it unless exp is required (VerifyExpiresAt(now, true))", res == "ok", res)
		}
		if v.Name == "hs256_key_confusion" {
			// Unpinned: the keyfunc hands an RSA/EC key to the HMAC method.
			claims := jwt.MapClaims{}
			var set struct {
				Keys []jwk `json:"keys"`
			}
			_ = getJSON(jwksPath(issuer), &set)
			_, err := jwt.NewParser().ParseWithClaims(token, claims, func(t *jwt.Token) (interface{}, error) {
				for _, k := range set.Keys {
					if k["kid"] == t.Header["kid"] {
						return publicKey(k)
					}
				}
				return nil, errUnknownKid
			})
			check(label+" hs256_key_confusion: golang-jwt without WithValidMethods refuses too (an RSA/EC key is not an HMAC key)",
				err != nil && errors.Is(err, jwt.ErrInvalidKeyType), fmt.Sprint(err))
		}
	}
}

func main() {
	if base == "" {
		fmt.Fprintln(os.Stderr, "MOCK_IDP_URL is not set")
		os.Exit(2)
	}
	if rootIss == "" {
		rootIss = base
	}
	start := time.Now()
	algorithms("")
	algorithms("partner")
	variants("vrs", "RS256")
	variants("ves", "ES256")
	variants("", "RS256")
	fmt.Printf("verify_go took %.1f s\n", time.Since(start).Seconds())
	fmt.Printf("verify_go: %d passed, %d failed\n", passed, failed)
	if failed > 0 || passed == 0 {
		os.Exit(1)
	}
}
