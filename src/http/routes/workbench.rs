//! The workbench: `GET /` and `GET <mount>/` of every issuer. A browser
//! (`Accept: text/html`) gets a page to mint, decode and verify tokens and
//! to run an OIDC code flow; anything else gets a JSON index of the issuers
//! and their endpoint URLs (the root: every issuer; `<mount>/`: that one).
//!
//! The page is self-contained: its HTML, CSS and JavaScript are compiled
//! into the binary (`src/http/workbench/`), the script and the style sheet
//! are separate files under [`ASSETS`] so the Content-Security-Policy
//! ([`CSP`]) needs no `'unsafe-inline'`, and nothing is loaded from another
//! origin. Without JavaScript it still lists the issuers, the endpoints and
//! the personas (server-rendered). See `docs/workbench.md`.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::login_page::escape;
use super::server::{issuer_entry, issuers_doc};
use crate::claims::Persona;
use crate::http::extract::{BaseUrl, Iss};
use crate::http::{ApiError, SharedState, issuer_route};
use crate::issuer::{Issuer, paths};

/// Where each issuer's page is, relative to its mount.
pub const PAGE: &str = "/";
/// Prefix of the page's assets (root only). `_` cannot start an issuer name.
pub const ASSETS: &str = "/_workbench";
/// Persona listing the page reads (the test controls' admin API).
pub const ADMIN_USERS: &str = crate::issuer::paths::admin::USERS;
/// Request ledger the page shows when it answers.
pub const ADMIN_REQUESTS: &str = crate::issuer::paths::admin::REQUESTS;

/// Features of this build the page uses when they exist. The page never
/// requests an endpoint that is not there (a 404 is a console error in the
/// browser), so each is declared here; `tests/workbench.rs` checks every
/// flag against the router, so a flag cannot lag behind its endpoint.
pub mod features {
    /// `GET <mount>/_admin/users` (personas, "Test controls").
    pub const USERS: bool = true;
    /// `GET <mount>/_admin/requests` (the request ledger, "Test controls").
    pub const LEDGER: bool = true;
    /// `GET <mount>/token/variants` (mint field `variant`).
    pub const VARIANTS: bool = true;
    /// Mint field `alg` (its choices from discovery's
    /// `id_token_signing_alg_values_supported`).
    pub const ALG: bool = true;
    /// Mint field `typ`.
    pub const TYP: bool = true;
}

/// The page's Content-Security-Policy: scripts and styles only from this
/// origin (the two asset files; no inline code), requests only to this
/// origin, forms only to this origin, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

const INDEX_HTML: &str = include_str!("../workbench/index.html");
const APP_JS: &str = include_str!("../workbench/app.js");
const APP_CSS: &str = include_str!("../workbench/app.css");

/// FNV-1a, at compile time: the assets' version in their URLs, so a new
/// binary's page never runs an old cached script.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Version of the page's assets (a hash of their text).
pub const ASSET_VERSION: u64 = fnv1a(
    fnv1a(0xcbf2_9ce4_8422_2325, APP_JS.as_bytes()),
    APP_CSS.as_bytes(),
);

/// `Cache-Control` of the page and the JSON index: always revalidated (the
/// issuers and personas change).
pub const PAGE_CACHE_CONTROL: &str = "no-cache";
/// `Cache-Control` of the assets: their URLs carry [`ASSET_VERSION`].
pub const ASSET_CACHE_CONTROL: &str = "public, max-age=86400";

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    issuer_route(Router::new(), PAGE, get(workbench_get))
        .route(&format!("{ASSETS}/{{file}}"), get(asset_get))
}

/// `GET /` and `GET <mount>/`: the page for a browser, the JSON index otherwise.
pub async fn workbench_get(
    State(state): State<SharedState>,
    Iss(issuer): Iss,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
) -> Response {
    let html = wants_html(&headers);
    let mut response = if html {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            render_page(&state, &issuer, &base),
        )
            .into_response()
    } else {
        axum::Json(json_index(&state, &issuer, &base)).into_response()
    };
    let h = response.headers_mut();
    insert_static(
        h,
        &[
            (header::VARY, "Accept"),
            (header::CACHE_CONTROL, PAGE_CACHE_CONTROL),
        ],
    );
    if html {
        // No referrer: after the OIDC debugger's round trip the URL holds a code.
        insert_static(
            h,
            &[
                (header::CONTENT_SECURITY_POLICY, CSP),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
        );
    }
    response
}

/// Sets each `(name, value)` header.
fn insert_static(h: &mut HeaderMap, headers: &[(HeaderName, &'static str)]) {
    for (name, value) in headers {
        h.insert(name.clone(), HeaderValue::from_static(value));
    }
}

/// `GET /_workbench/{file}`: `app.js` and `app.css`.
pub async fn asset_get(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (body, content_type) = match file.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => {
            return Err(ApiError::NotFound(format!(
                "no workbench asset {file:?}; see {PAGE} for the page"
            )));
        }
    };
    let etag = format!("\"{ASSET_VERSION:016x}\"");
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    insert_static(
        h,
        &[
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, ASSET_CACHE_CONTROL),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    Ok(response)
}

/// Whether the client asked for HTML: `text/html` is listed with a
/// non-zero quality that is not below `application/json`'s (a tie goes to
/// the one listed first). `*/*` alone, or no `Accept`, means JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let ranges: Vec<(String, f32)> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim().to_ascii_lowercase();
            if range.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").map(str::trim))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((range, q))
        })
        .collect();
    // The most specific range matching `wanted` (RFC 9110 §12.5.1), with its position.
    let quality = |kind: &str, wanted: &str| -> Option<(f32, usize, usize)> {
        ranges
            .iter()
            .enumerate()
            .filter_map(|(i, (range, q))| {
                let specificity = if range == wanted {
                    3
                } else if *range == format!("{kind}/*") {
                    2
                } else if range == "*/*" {
                    1
                } else {
                    return None;
                };
                Some((*q, i, specificity))
            })
            .max_by_key(|(_, _, specificity)| *specificity)
    };
    let Some((html_q, html_pos, 3)) = quality("text", "text/html") else {
        return false;
    };
    if html_q <= 0.0 {
        return false;
    }
    match quality("application", "application/json") {
        None => true,
        Some((json_q, json_pos, specificity)) => {
            html_q > json_q || (html_q == json_q && (specificity < 3 || html_pos < json_pos))
        }
    }
}

/// The JSON index: the `GET /issuers` document with each issuer's endpoint
/// URLs from its discovery document and its `workbench` page; `<mount>/` of
/// a named issuer: that issuer's entry alone.
pub fn json_index(state: &SharedState, issuer: &Issuer, base: &str) -> Value {
    if !issuer.is_root() {
        return index_entry(issuer_entry(issuer, base), issuer, base);
    }
    let mut doc = issuers_doc(state, base);
    if let Some(Value::Array(list)) = doc.get_mut("issuers") {
        let all = state.issuers.all();
        for (entry, issuer) in list.iter_mut().zip(all.iter()) {
            *entry = index_entry(entry.take(), issuer, base);
        }
    }
    if let Value::Object(map) = &mut doc {
        map.insert("workbench".into(), json!(issuer.workbench_url(base)));
    }
    doc
}

/// Adds the discovery document's endpoint URLs and the page's URL to an
/// `/issuers` entry (never replacing what the entry has).
fn index_entry(mut entry: Value, issuer: &Issuer, base: &str) -> Value {
    if let (Value::Object(map), Value::Object(discovery)) = (&mut entry, issuer.discovery(base)) {
        for (key, value) in discovery {
            if key.ends_with("_endpoint") || key == "jwks_uri" {
                map.entry(key).or_insert(value);
            }
        }
        map.insert("workbench".into(), json!(issuer.workbench_url(base)));
    }
    entry
}

/// Endpoints listed on the page: label, discovery member.
const ENDPOINTS: &[(&str, &str)] = &[
    ("Token endpoint", "token_endpoint"),
    ("JWKS", "jwks_uri"),
    ("Authorization endpoint", "authorization_endpoint"),
    ("UserInfo endpoint", "userinfo_endpoint"),
    ("Introspection endpoint", "introspection_endpoint"),
    ("Revocation endpoint", "revocation_endpoint"),
    ("End session endpoint", "end_session_endpoint"),
];

/// The page for `issuer`, every value HTML-escaped.
pub fn render_page(state: &SharedState, issuer: &Issuer, base: &str) -> String {
    let mount = issuer.mount();
    let iss = issuer.iss(base).into_owned();
    let page_url = issuer.workbench_url(base);
    let discovery = issuer.discovery(base);
    let url_of = |key: &str| discovery.get(key).and_then(Value::as_str).unwrap_or("");
    let token_path = format!("{mount}{}", paths::TOKEN);
    let jwks_path = format!("{mount}{}", paths::JWKS_WELL_KNOWN);

    let mut nav = String::new();
    for other in state.issuers.all() {
        let href = format!("{}{PAGE}", other.mount());
        let current = if other.name() == issuer.name() {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = writeln!(
            nav,
            "<li><a href=\"{}\"{current}>{}</a><code class=\"iss\">{}</code></li>",
            escape(&href),
            escape(&display_name(&other)),
            escape(&other.iss(base))
        );
    }

    let mut endpoints = String::new();
    let discovery_url = format!("{base}{mount}{}", paths::DISCOVERY);
    let listed = [("Discovery", discovery_url.as_str())]
        .into_iter()
        .chain(ENDPOINTS.iter().map(|(label, key)| (*label, url_of(key))))
        .chain([(
            "This page (JSON with Accept: application/json)",
            page_url.as_str(),
        )]);
    for (i, (label, url)) in listed.enumerate().filter(|(_, (_, url))| !url.is_empty()) {
        let _ = writeln!(
            endpoints,
            "<div class=\"ep\"><dt id=\"ep-label-{i}\">{label}</dt><dd><code id=\"ep-{i}\">{url}</code> \
             <button type=\"button\" class=\"copy\" data-copy=\"ep-{i}\" data-js-only hidden \
             aria-describedby=\"ep-label-{i}\">Copy</button></dd></div>",
            label = escape(label),
            url = escape(url),
        );
    }

    let users = issuer.users();
    let mut personas = String::new();
    let mut persona_options = String::new();
    for (name, persona) in users.iter() {
        let _ = writeln!(
            personas,
            "<li><button type=\"submit\" class=\"persona\" name=\"user\" value=\"{0}\">Mint for {0}</button> \
             <span class=\"muted\">{1}</span></li>",
            escape(name),
            escape(&persona_summary(name, persona))
        );
        let _ = write!(persona_options, "<option value=\"{}\">", escape(name));
    }

    let audience = issuer
        .settings()
        .audience
        .as_ref()
        .map(|a| match serde_json::to_value(a) {
            Ok(Value::String(s)) => s,
            Ok(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            _ => String::new(),
        })
        .unwrap_or_default();

    let data = json!({
        "name": issuer.name(),
        "mount": mount,
        "base": base,
        "iss": iss,
        "page": page_url,
        "audience": audience,
        "dynamic_issuers": state.issuers.dynamic(),
        "personas": users.keys().collect::<Vec<_>>(),
        "features": {
            "users": features::USERS,
            "ledger": features::LEDGER,
            "variants": features::VARIANTS,
            "alg": features::ALG,
            "typ": features::TYP,
        },
        "urls": {
            "token": url_of("token_endpoint"),
            "jwks": url_of("jwks_uri"),
            "authorize": url_of("authorization_endpoint"),
            "userinfo": url_of("userinfo_endpoint"),
        },
        // Same-origin paths the page fetches (the URLs above may use PUBLIC_URL).
        "paths": {
            "token": token_path,
            "jwks": jwks_path,
            "authorize": format!("{mount}{}", paths::AUTHORIZE),
            "userinfo": format!("{mount}{}", paths::USERINFO),
            "users": format!("{mount}{ADMIN_USERS}"),
            "requests": format!("{mount}{ADMIN_REQUESTS}"),
            "variants": format!("{mount}{}", paths::TOKEN_VARIANTS),
            "discovery": format!("{mount}{}", paths::DISCOVERY),
            "health": paths::server::HEALTH,
            "cluster": paths::server::CLUSTER,
        },
    });

    let (title, heading) = if issuer.is_root() {
        ("Root issuer".to_string(), "Root issuer".to_string())
    } else {
        (
            format!("Issuer {}", issuer.name()),
            format!("Issuer {}", issuer.name()),
        )
    };
    let dynamic_hint = if state.issuers.dynamic() {
        "Dynamic issuers are on: any new name is created on first use."
    } else {
        "Dynamic issuers are off: only the configured issuers exist."
    };
    let fields: [(&str, String); 21] = [
        ("{{ISS}}", escape(&iss)),
        ("{{TITLE}}", escape(&title)),
        ("{{HEADING}}", escape(&heading)),
        ("{{ISSUER_NAV}}", nav),
        ("{{DYNAMIC_HINT}}", escape(dynamic_hint)),
        ("{{ENDPOINTS}}", endpoints),
        ("{{PERSONAS}}", personas),
        ("{{PERSONA_OPTIONS}}", persona_options),
        (
            "{{PERSONAS_EMPTY_HIDDEN}}",
            if users.is_empty() { "" } else { " hidden" }.into(),
        ),
        (
            "{{PERSONAS_SOURCE}}",
            escape(&format!(" (the list comes from {mount}{ADMIN_USERS})")),
        ),
        ("{{TOKEN_PATH}}", escape(&token_path)),
        ("{{TOKEN_URL}}", escape(url_of("token_endpoint"))),
        ("{{JWKS_PATH}}", escape(&jwks_path)),
        ("{{JWKS_URL}}", escape(url_of("jwks_uri"))),
        ("{{PAGE_URL}}", escape(&page_url)),
        ("{{TTL}}", issuer.settings().token_ttl.to_string()),
        ("{{AUDIENCE_PLACEHOLDER}}", escape(&audience)),
        ("{{AUDIENCE_VALUE}}", escape(&audience)),
        ("{{VERSION}}", format!("{ASSET_VERSION:016x}")),
        ("{{PKG_VERSION}}", escape(env!("CARGO_PKG_VERSION"))),
        ("{{DATA}}", script_json(&data)),
    ];
    fill(INDEX_HTML, &fields)
}

/// Replaces each `{{NAME}}` of `template` by its value, in one pass (a
/// value is never searched for placeholders); unknown ones stay as they are.
fn fill(template: &str, fields: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let value = tail.find("}}").and_then(|end| {
            let name = &tail[..end + 2];
            fields
                .iter()
                .find(|(p, _)| *p == name)
                .map(|(_, v)| (v, end + 2))
        });
        match value {
            Some((value, len)) => {
                out.push_str(value);
                rest = &tail[len..];
            }
            None => {
                out.push_str("{{");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The name shown for an issuer.
fn display_name(issuer: &Issuer) -> String {
    if issuer.is_root() {
        "Root issuer".into()
    } else {
        issuer.name().to_string()
    }
}

/// One line about a persona: subject, name, email, organisation role (as
/// the page's script writes it from `GET <mount>/_admin/users`).
pub fn persona_summary(name: &str, persona: &Persona) -> String {
    persona.details(name).join(" · ")
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&`
/// escaped so no value can close the element (they only occur in strings).
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn content_negotiation_table() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        let cases: &[(&[&str], bool)] = &[
            (&[chromium], true),
            (&["text/html"], true),
            (&["TEXT/HTML; charset=utf-8"], true),
            (&["text/html, */*"], true),
            (&["text/html, application/json"], true),
            (&["application/json, text/html"], false),
            (&["application/json;q=0.9, text/html"], true),
            (&["text/html;q=0.5, application/json"], false),
            (&["text/html;q=0"], false),
            (&["text/html;q=0.5, */*"], false),
            (&["application/json", "text/html"], false),
            (&["*/*"], false),
            (&["text/*"], false),
            (&["application/json"], false),
            (&["application/json, text/plain, */*"], false),
            (&[], false),
            (&[""], false),
        ];
        for (values, html) in cases {
            assert_eq!(wants_html(&accept(values)), *html, "Accept: {values:?}");
        }
    }

    #[test]
    fn fill_is_one_pass() {
        let fields = [("{{A}}", "{{B}}".to_string()), ("{{B}}", "b".to_string())];
        assert_eq!(fill("x{{A}}y{{B}}{{C}}{{", &fields), "x{{B}}yb{{C}}{{");
    }

    #[test]
    fn script_json_cannot_close_the_element() {
        let v = json!({"x": "</script><script>alert(1)</script>&"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }

    #[test]
    fn the_listed_persona_never_has_the_password() {
        let users = crate::claims::users::parse_users(
            "alice: {sub: u_a, org_role: admin, password: hunter2, aud: [a, b], claims: {email: a@x}}\n",
        )
        .unwrap();
        // What `GET <mount>/_admin/users` lists (the test controls' view).
        let v = crate::issuer::controls::persona_view(&users["alice"]);
        assert_eq!(
            v,
            json!({"sub": "u_a", "org_role": "admin", "aud": ["a", "b"], "claims": {"email": "a@x"},
                   "password": "<set>"})
        );
        assert!(!v.to_string().contains("hunter2"));
        assert_eq!(
            persona_summary("alice", &users["alice"]),
            "u_a · a@x · admin"
        );
    }

    #[test]
    fn every_placeholder_is_filled() {
        let placeholders: Vec<&str> = INDEX_HTML
            .match_indices("{{")
            .map(|(i, _)| &INDEX_HTML[i..i + INDEX_HTML[i..].find("}}").unwrap_or(0) + 2])
            .collect();
        assert!(!placeholders.is_empty());
        // render_page is exercised end to end by tests/workbench.rs; here the
        // template and the list of fields must agree.
        let source = include_str!("workbench.rs");
        for p in placeholders {
            assert!(
                source.contains(&format!("\"{p}\"")),
                "{p} is never replaced"
            );
        }
    }

    #[test]
    fn asset_version_changes_with_the_text() {
        assert_ne!(
            fnv1a(0xcbf2_9ce4_8422_2325, b"a"),
            fnv1a(0xcbf2_9ce4_8422_2325, b"b")
        );
        assert_eq!(
            fnv1a(0xcbf2_9ce4_8422_2325, b"a"),
            0xaf63_dc4c_8601_ec8c,
            "FNV-1a 64 of \"a\""
        );
    }
}
