// Google's own Java ID-token verifier (com.google.api.client.auth.openidconnect.IdTokenVerifier,
// Debian's libgoogle-oauth-client-java 1.34.1 on libgoogle-http-client-java 1.42) against a real
// mock-idp: the tokens mock-idp mints, verified with the keys it serves (the JWKS at
// /oauth2/v3/certs and /.well-known/jwks.json, the X.509 PEM map at /oauth2/v1/certs).
// Run by scripts/ci/java.sh, which starts mock-idp with tests/e2e/java/config.yaml.
//
//   java -cp <jars>:<classes> VerifyTokens                  # every check
//   java -cp <jars>:<classes> VerifyTokens skip-signature   # with OAUTH_CLIENT_SKIP_SIGNATURE=true
//
// Environment: MOCK_IDP_URL (http://127.0.0.1:PORT), ROOT_ISS (the root issuer's `iss`).
// One PASS/FAIL line per check, then "java: N passed, N failed"; exit 1 on any failure.
//
// What the library does (1.34.1, read from its source and checked below):
// - verify(IdToken) returns false without saying why: the payload checks (iss, aud, exp, iat,
//   each with the IdToken methods it calls) come first, then the signature, whose failure is
//   logged (SEVERE, with the exception) on the IdTokenVerifier logger. The reason printed here
//   is the first of the library's own payload checks that fails, else that logged exception.
// - Algorithms: RS256 and ES256 only; default time skew 300 s; `nbf`, `typ` and `sub` are not
//   looked at; `aud` must be present, every member trusted; a token without `exp` makes verify()
//   throw a NullPointerException instead of returning false.
// - Keys: a body with `keys` is a JWKS (only JWKs with alg RS256 or ES256 are usable; a JWK with
//   any other `alg` fails the whole download), else a map of kid -> X.509 PEM certificate.
// - OAUTH_CLIENT_SKIP_SIGNATURE=true turns the signature check off (checked to be unset here).

import com.google.api.client.auth.openidconnect.IdToken;
import com.google.api.client.auth.openidconnect.IdTokenVerifier;
import com.google.api.client.json.gson.GsonFactory;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

public final class VerifyTokens {
  static final String CLIENT_ID = "123456789012-mockidp.apps.googleusercontent.com"; // config.yaml
  static final List<String> GOOGLE_ISSUERS = List.of("accounts.google.com", "https://accounts.google.com");
  static final String API_AUD = "java-api";
  static final GsonFactory JSON = GsonFactory.getDefaultInstance();

  static String base;
  static int passed;
  static int failed;
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).proxy(ProxySelector.of(null)).build();

  // The verifier's log records (its only report of why a signature check failed).
  static final List<LogRecord> LOGS = Collections.synchronizedList(new ArrayList<>());
  // Every URL the JVM's HttpURLConnection (the library's NetHttpTransport) opened.
  static final List<URI> FETCHED = Collections.synchronizedList(new ArrayList<>());

  public static void main(String[] args) throws Exception {
    base = requireEnv("MOCK_IDP_URL");
    installHooks();
    if (args.length > 0 && args[0].equals("skip-signature")) {
      skipSignature();
    } else {
      environment();
      googleProfile();
      googleVariants();
      rootIssuer(requireEnv("ROOT_ISS"));
      es256();
      mixedJwks();
      loopbackOnly();
    }
    System.out.printf("java: %d passed, %d failed%n", passed, failed);
    System.exit(failed == 0 ? 0 : 1);
  }

  // ---------------------------------------------------------------- checks

  static void environment() {
    String skip = System.getenv("OAUTH_CLIENT_SKIP_SIGNATURE");
    check("OAUTH_CLIENT_SKIP_SIGNATURE is unset (signatures are verified)", skip == null, "value: " + skip);
  }

  /** Run with OAUTH_CLIENT_SKIP_SIGNATURE=true: the variable really is what turns signatures off. */
  static void skipSignature() throws Exception {
    String token = mint("/google", "{\"user\":\"alice\",\"variant\":\"bad_signature\"}");
    IdTokenVerifier v = verifier("/google/oauth2/v3/certs", GOOGLE_ISSUERS, List.of(CLIENT_ID));
    expect("with OAUTH_CLIENT_SKIP_SIGNATURE=true the library accepts a bad_signature token", "accepted",
        verdict(v, token));
    String expired = mint("/google", "{\"user\":\"alice\",\"variant\":\"expired\"}");
    expect("... and still checks the payload (expired refused)", "refused: exp", verdict(v, expired));
  }

  /** 1. The google profile's ID token, against the JWKS and against the PEM certificate map. */
  static void googleProfile() throws Exception {
    JsonObject pem = getJson("/google/oauth2/v1/certs");
    boolean allPem = !pem.has("keys") && pem.size() > 0;
    for (Map.Entry<String, JsonElement> e : pem.entrySet()) {
      allPem &= e.getValue().getAsString().startsWith("-----BEGIN CERTIFICATE-----");
    }
    check("/google/oauth2/v1/certs is a map kid -> X.509 PEM (no `keys`)", allPem, pem.keySet().toString());
    JsonArray jwks = getJson("/google/oauth2/v3/certs").getAsJsonArray("keys");
    check("/google/oauth2/v3/certs is a JWKS with the same kids", jwks != null && pem.keySet().equals(
        new HashSet<>(kids(jwks))), kids(jwks) + " vs " + pem.keySet());

    String alice = mint("/google", "{\"user\":\"alice\"}");
    String bob = mint("/google", "{\"user\":\"bob\"}");
    for (String certs : List.of("/google/oauth2/v3/certs", "/google/oauth2/v1/certs")) {
      IdTokenVerifier v = verifier(certs, GOOGLE_ISSUERS, List.of(CLIENT_ID));
      String got = verdict(v, alice);
      IdToken.Payload p = IdToken.parse(JSON, alice).getPayload();
      String claims = String.format("iss=%s sub=%s aud=%s azp=%s email=%s email_verified=%s hd=%s name=%s",
          p.getIssuer(), p.getSubject(), p.getAudienceAsList(), p.getAuthorizedParty(), p.get("email"),
          p.get("email_verified"), p.get("hd"), p.get("name"));
      check("google alice ID token accepted with " + certs + ", claims as the persona",
          got.equals("accepted")
              && "https://accounts.google.com".equals(p.getIssuer())
              && "user_alice".equals(p.getSubject())
              && List.of(CLIENT_ID).equals(p.getAudienceAsList())
              && CLIENT_ID.equals(p.getAuthorizedParty())
              && "alice@acme.example".equals(p.get("email"))
              && Boolean.TRUE.equals(p.get("email_verified"))
              && "acme.example".equals(p.get("hd"))
              && "Alice Liddell".equals(p.get("name")),
          got + "; " + claims);
      String gotBob = verdict(v, bob);
      IdToken.Payload pb = IdToken.parse(JSON, bob).getPayload();
      check("google bob (consumer account) accepted with " + certs + ": no hd",
          gotBob.equals("accepted") && "bob@example.com".equals(pb.get("email"))
              && Boolean.TRUE.equals(pb.get("email_verified")) && !pb.containsKey("hd")
              && "Bob Builder".equals(pb.get("name")) && CLIENT_ID.equals(pb.getAuthorizedParty()),
          gotBob + "; email=" + pb.get("email") + " hd=" + pb.get("hd"));
      expect("google token refused by a verifier expecting another issuer (" + certs + ")", "refused: iss",
          verdict(verifier(certs, List.of(base + "/google"), List.of(CLIENT_ID)), alice));
    }
    // The certificate URL matters: another issuer's keys do not verify it.
    expect("google token refused with the root issuer's JWKS (kid not there)",
        "refused: Could not find public key for provided keyId",
        verdict(verifier("/.well-known/jwks.json", GOOGLE_ISSUERS, List.of(CLIENT_ID)), alice));
  }

  /** 2. Every token variant, against both certificate URLs, as this library treats it. */
  static void googleVariants() throws Exception {
    String[][] expected = {
      {"expired", "refused: exp"},
      // The library checks iat (and exp), never nbf: a token whose only defect is its nbf passes.
      {"not_yet_valid", "accepted"},
      {"wrong_issuer", "refused: iss"},
      {"wrong_audience", "refused: aud"},
      {"bad_signature", "refused: Invalid signature"},
      {"unknown_kid", "refused: Could not find public key for provided keyId: unknown-"},
      {"no_kid", "refused: Could not find public key for provided keyId: null"},
      {"alg_none", "refused: Unexpected signing algorithm none"},
      {"hs256_key_confusion", "refused: Unexpected signing algorithm HS256"},
      // exp is unboxed without a null check: verify() throws instead of returning false.
      {"missing_exp", "threw NullPointerException"},
      {"missing_sub", "accepted"},
      {"wrong_typ", "accepted"},
    };
    JsonArray listed = getJson("/google/token/variants").getAsJsonArray("variants");
    List<String> names = new ArrayList<>();
    listed.forEach(e -> names.add(e.getAsJsonObject().get("name").getAsString()));
    List<String> ours = new ArrayList<>();
    for (String[] e : expected) ours.add(e[0]);
    check("GET /google/token/variants lists exactly the variants checked here", names.equals(ours),
        names.toString());

    long now = System.currentTimeMillis() / 1000;
    for (String certs : List.of("/google/oauth2/v3/certs", "/google/oauth2/v1/certs")) {
      IdTokenVerifier v = verifier(certs, GOOGLE_ISSUERS, List.of(CLIENT_ID));
      expect("control token (no variant) accepted with " + certs, "accepted",
          verdict(v, mint("/google", "{\"user\":\"alice\"}")));
      for (String[] e : expected) {
        String token = mint("/google", "{\"user\":\"alice\",\"variant\":\"" + e[0] + "\"}");
        String detail = "";
        if (e[0].equals("not_yet_valid")) {
          // Accepted, yet the token really is not valid before nbf (an hour ahead).
          Object nbf = IdToken.parse(JSON, token).getPayload().getNotBeforeTimeSeconds();
          boolean future = nbf instanceof Long && (Long) nbf > now + 3000;
          check("not_yet_valid token carries nbf an hour ahead (" + certs + ")", future, "nbf=" + nbf);
          detail = " (the library does not check nbf)";
        }
        expect("variant " + e[0] + " with " + certs + detail, e[1], verdict(v, token));
      }
    }
    IdTokenVerifier v = verifier("/google/oauth2/v3/certs", GOOGLE_ISSUERS, List.of(CLIENT_ID));
    // What the library does take as "not yet valid": an iat beyond the skew.
    expect("iat an hour ahead (claims.iat) refused: the library's not-yet-valid check", "refused: iat",
        verdict(v, mint("/google", "{\"user\":\"alice\",\"claims\":{\"iat\":" + (now + 3600) + "}}")));
    // Default acceptable time skew: 300 s.
    expect("exp 120 s ago accepted (default time skew 300 s)", "accepted",
        verdict(v, mint("/google", "{\"user\":\"alice\",\"expires_in\":-120}")));
    expect("exp 400 s ago refused (beyond the 300 s skew)", "refused: exp",
        verdict(v, mint("/google", "{\"user\":\"alice\",\"expires_in\":-400}")));
    // No maximum lifetime (google-auth-library and google-auth refuse tokens living over a day).
    expect("a token living 2 days accepted (no maximum lifetime check)", "accepted",
        verdict(v, mint("/google", "{\"user\":\"alice\",\"expires_in\":172800}")));
  }

  /** 3. The root issuer (clerk profile, RS256) with its /.well-known/jwks.json. */
  static void rootIssuer(String rootIss) throws Exception {
    String token = mint("", "{\"user\":\"alice\",\"aud\":\"" + API_AUD + "\"}");
    IdTokenVerifier v = verifier("/.well-known/jwks.json", List.of(rootIss), List.of(API_AUD));
    String got = verdict(v, token);
    IdToken.Payload p = IdToken.parse(JSON, token).getPayload();
    check("root issuer RS256 token accepted with /.well-known/jwks.json (iss " + rootIss + ", aud " + API_AUD + ")",
        got.equals("accepted") && rootIss.equals(p.getIssuer()) && "user_alice".equals(p.getSubject())
            && "alice@acme.example".equals(p.get("email")),
        got + "; iss=" + p.getIssuer() + " sub=" + p.getSubject());
    expect("root token refused by a verifier expecting another audience", "refused: aud",
        verdict(verifier("/.well-known/jwks.json", List.of(rootIss), List.of("other-api")), token));
    expect("root token refused by a verifier expecting another issuer", "refused: iss",
        verdict(verifier("/.well-known/jwks.json", List.of(rootIss + "/"), List.of(API_AUD)), token));
    expect("root bad_signature refused", "refused: Invalid signature", verdict(v,
        mint("", "{\"user\":\"alice\",\"aud\":\"" + API_AUD + "\",\"variant\":\"bad_signature\"}")));
    // The audience check wants a non-empty aud, every member trusted: a token without aud (the
    // root's default when AUDIENCE is unset) is refused by any verifier that sets an audience.
    String noAud = mint("", "{\"user\":\"alice\"}");
    String gotNoAud = verdict(v, noAud);
    check("root token minted without aud is refused by setAudience(" + API_AUD + ")",
        IdToken.parse(JSON, noAud).getPayload().getAudience() == null && gotNoAud.equals("refused: aud"),
        gotNoAud);
  }

  /** 4. ES256: supported by the library, from a JWKS; the PEM map has no certificate for EC keys. */
  static void es256() throws Exception {
    String token = mint("/es", "{\"user\":\"alice\",\"alg\":\"ES256\",\"aud\":\"" + API_AUD + "\"}");
    IdToken t = IdToken.parse(JSON, token);
    JsonObject jwk = jwkFor("/es/.well-known/jwks.json", t.getHeader().getKeyId());
    check("ES256 token: header alg ES256, its kid in /es's JWKS as an EC P-256 key",
        "ES256".equals(t.getHeader().getAlgorithm()) && jwk != null && "EC".equals(str(jwk, "kty"))
            && "P-256".equals(str(jwk, "crv")) && "ES256".equals(str(jwk, "alg")),
        t.getHeader().getAlgorithm() + " " + jwk);
    IdTokenVerifier v = verifier("/es/.well-known/jwks.json", List.of(base + "/es"), List.of(API_AUD));
    expect("ES256 token accepted with /es/.well-known/jwks.json", "accepted", verdict(v, token));
    expect("ES256 bad_signature refused", "refused: Invalid signature", verdict(v, mint("/es",
        "{\"user\":\"alice\",\"alg\":\"ES256\",\"aud\":\"" + API_AUD + "\",\"variant\":\"bad_signature\"}")));

    String g = mint("/google-es", "{\"user\":\"alice\",\"alg\":\"ES256\"}");
    expect("google-profile ES256 token accepted with /oauth2/v3/certs (JWKS)", "accepted",
        verdict(verifier("/google-es/oauth2/v3/certs", GOOGLE_ISSUERS, List.of(CLIENT_ID)), g));
    expect("google-profile ES256 token refused with /oauth2/v1/certs (EC keys get no certificate)",
        "refused: Could not find public key for provided keyId",
        verdict(verifier("/google-es/oauth2/v1/certs", GOOGLE_ISSUERS, List.of(CLIENT_ID)), g));
  }

  /**
   * 5. An RS256 token when the issuer's JWKS also holds another algorithm's key (published from its
   * first use). The library builds a key for every JWK: alg RS256/ES256 only; for any other alg it
   * puts a null into an ImmutableMap, the download fails, and no token verifies against that JWKS.
   */
  static void mixedJwks() throws Exception {
    String[][] cases = {
      {"ES256", "EC", "accepted"},
      {"ES384", "EC", "refused: Error fetching public key"},
      {"EdDSA", "OKP", "refused: Error fetching public key"},
      {"RS384", "RSA", "refused: Error fetching public key"},
      {"PS256", "RSA", "refused: Error fetching public key"},
    };
    for (String[] c : cases) {
      String alg = c[0];
      String mount = "/mix-" + alg.toLowerCase();
      String jwksUrl = mount + "/.well-known/jwks.json";
      List<String> iss = List.of(base + mount);
      String rs = mint(mount, "{\"user\":\"alice\",\"aud\":\"" + API_AUD + "\"}");
      IdTokenVerifier before = verifier(jwksUrl, iss, List.of(API_AUD));
      expect(mount + ": RS256 token accepted while the JWKS holds only the RS256 key", "accepted",
          verdict(before, rs));
      String other = mint(mount, "{\"user\":\"alice\",\"aud\":\"" + API_AUD + "\",\"alg\":\"" + alg + "\"}");
      JsonArray keys = getJson(jwksUrl).getAsJsonArray("keys");
      List<String> shape = new ArrayList<>();
      keys.forEach(k -> shape.add(str(k.getAsJsonObject(), "kty") + "/" + str(k.getAsJsonObject(), "alg")));
      check(mount + ": after one " + alg + " token the JWKS holds RSA/RS256 and " + c[1] + "/" + alg,
          shape.size() == 2 && shape.containsAll(List.of("RSA/RS256", c[1] + "/" + alg)), shape.toString());
      expect(mount + ": RS256 token with a fresh verifier, the JWKS holding the " + alg + " key", c[2],
          verdict(verifier(jwksUrl, iss, List.of(API_AUD)), rs));
      // The verifier that fetched the JWKS before keeps its copy (cached for an hour).
      expect(mount + ": the verifier that fetched the JWKS before still accepts (its cache)", "accepted",
          verdict(before, rs));
      expect(mount + ": the " + alg + " token itself",
          alg.equals("ES256") ? "accepted" : "refused: Unexpected signing algorithm " + alg,
          verdict(verifier(jwksUrl, iss, List.of(API_AUD)), other));
    }
    // The Google profile's PEM map holds X.509 certificates only (RSA keys; read whatever the
    // key's alg): an RS256 token still verifies there when the JWKS form is broken.
    String mount = "/google-mix";
    String rs = mint(mount, "{\"user\":\"alice\"}");
    mint(mount, "{\"user\":\"alice\",\"alg\":\"EdDSA\"}");
    mint(mount, "{\"user\":\"alice\",\"alg\":\"RS384\"}");
    expect("google-mix (RS256 + EdDSA + RS384 keys): RS256 token refused with /oauth2/v3/certs",
        "refused: Error fetching public key",
        verdict(verifier(mount + "/oauth2/v3/certs", GOOGLE_ISSUERS, List.of(CLIENT_ID)), rs));
    JsonArray keys = getJson(mount + "/oauth2/v3/certs").getAsJsonArray("keys");
    List<String> rsaKids = new ArrayList<>();
    keys.forEach(k -> {
      if ("RSA".equals(str(k.getAsJsonObject(), "kty"))) rsaKids.add(str(k.getAsJsonObject(), "kid"));
    });
    JsonObject pem = getJson(mount + "/oauth2/v1/certs");
    check("google-mix: the JWKS holds 3 keys, /oauth2/v1/certs a certificate for each RSA key (RS256, RS384)",
        keys.size() == 3 && rsaKids.size() == 2 && pem.keySet().equals(new HashSet<>(rsaKids)),
        keys.size() + " keys; certificates for " + pem.keySet() + "; RSA kids " + rsaKids);
    expect("google-mix: the same token accepted with /oauth2/v1/certs", "accepted",
        verdict(verifier(mount + "/oauth2/v1/certs", GOOGLE_ISSUERS, List.of(CLIENT_ID)), rs));
  }

  static void loopbackOnly() {
    List<String> hosts = new ArrayList<>();
    boolean ok;
    synchronized (FETCHED) {
      ok = !FETCHED.isEmpty();
      for (URI u : FETCHED) {
        ok &= "127.0.0.1".equals(u.getHost());
        if (!hosts.contains(u.getHost())) hosts.add(u.getHost());
      }
    }
    check("the library fetched keys only from 127.0.0.1 (" + FETCHED.size() + " fetches)", ok, hosts.toString());
  }

  // ---------------------------------------------------------------- helpers

  static IdTokenVerifier verifier(String certsPath, List<String> issuers, List<String> audience) {
    return new IdTokenVerifier.Builder()
        .setCertificatesLocation(base + certsPath)
        .setIssuers(issuers)
        .setAudience(audience)
        .build();
  }

  /**
   * "accepted", "threw X", or "refused: <reason>" with the reason the library would have: the
   * first of its payload checks that fails (same methods, same order as verifyPayload), else the
   * exception of its logged signature failure.
   */
  static String verdict(IdTokenVerifier v, String token) {
    IdToken t;
    try {
      t = IdToken.parse(JSON, token);
    } catch (IOException | RuntimeException e) {
      return "unparsable: " + e;
    }
    LOGS.clear();
    boolean ok;
    try {
      ok = v.verify(t);
    } catch (RuntimeException e) {
      return "threw " + e.getClass().getSimpleName();
    }
    if (ok) return "accepted";
    long now = System.currentTimeMillis();
    long skew = v.getAcceptableTimeSkewSeconds();
    if (v.getIssuers() != null && !t.verifyIssuer(v.getIssuers())) return "refused: iss";
    if (v.getAudience() != null && !t.verifyAudience(v.getAudience())) return "refused: aud";
    if (!t.verifyExpirationTime(now, skew)) return "refused: exp";
    if (!t.verifyIssuedAtTime(now, skew)) return "refused: iat";
    synchronized (LOGS) {
      for (LogRecord r : LOGS) {
        if (r.getThrown() != null) return "refused: " + chain(r.getThrown());
      }
    }
    return "refused: (no reason logged)";
  }

  static String chain(Throwable e) {
    StringBuilder s = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      s.append(" <- ").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
    }
    return s.toString().replace(base, "<mock-idp>");
  }

  static void expect(String name, String expectedPrefix, String actual) {
    check(name, actual.startsWith(expectedPrefix), actual);
  }

  static void check(String name, boolean ok, String detail) {
    if (ok) passed++;
    else failed++;
    System.out.printf("%s  %s%s%n", ok ? "PASS" : "FAIL", name, detail.isEmpty() ? "" : "  [" + detail + "]");
  }

  /** POST <mount>/token (JSON mint); the token (the access_token member). */
  static String mint(String mount, String body) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + mount + "/token"))
        .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("POST " + mount + "/token " + body + ": " + r.statusCode() + " " + r.body());
    }
    return JsonParser.parseString(r.body()).getAsJsonObject().get("access_token").getAsString();
  }

  static JsonObject getJson(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new IllegalStateException("GET " + path + ": " + r.statusCode());
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  static JsonObject jwkFor(String jwksPath, String kid) throws IOException, InterruptedException {
    for (JsonElement k : getJson(jwksPath).getAsJsonArray("keys")) {
      if (kid != null && kid.equals(str(k.getAsJsonObject(), "kid"))) return k.getAsJsonObject();
    }
    return null;
  }

  static List<String> kids(JsonArray keys) {
    List<String> out = new ArrayList<>();
    if (keys != null) keys.forEach(k -> out.add(str(k.getAsJsonObject(), "kid")));
    return out;
  }

  static String str(JsonObject o, String member) {
    JsonElement e = o.get(member);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  static String requireEnv(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      System.err.println("VerifyTokens: " + name + " is not set");
      System.exit(2);
    }
    return v;
  }

  static void installHooks() {
    Logger lib = Logger.getLogger(IdTokenVerifier.class.getName());
    lib.setUseParentHandlers(false); // its stack traces would bury the PASS/FAIL lines
    lib.addHandler(new Handler() {
      @Override public void publish(LogRecord r) { LOGS.add(r); }
      @Override public void flush() {}
      @Override public void close() {}
    });
    // HttpURLConnection asks the default ProxySelector for every URL it opens: record them.
    ProxySelector.setDefault(new ProxySelector() {
      @Override public List<Proxy> select(URI uri) {
        FETCHED.add(uri);
        return List.of(Proxy.NO_PROXY);
      }
      @Override public void connectFailed(URI uri, SocketAddress sa, IOException e) {}
    });
  }

  private VerifyTokens() {}
}
