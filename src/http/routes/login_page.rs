//! The HTML of the browser endpoints: the login page, the error page and the
//! logged-out page. Plain functions returning strings; no external assets
//! (inline CSS only), every interpolated value HTML-escaped.

use std::fmt::Write;

use crate::claims::Users;
use crate::issuer::authorize::AuthzRequest;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1a1a1a}\
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}\
h1{font-size:1.4rem;margin:0 0 .25rem}\
.note{color:#555;margin:0 0 1rem;font-size:.9rem}\
fieldset{border:1px solid #ccc;border-radius:6px;margin:0 0 1rem;padding:.75rem 1rem}\
legend{font-weight:600;padding:0 .25rem}\
ul{list-style:none;margin:0;padding:0}\
li+li{margin-top:.5rem}\
label{display:block;font-weight:600;margin:.5rem 0 .2rem}\
input,textarea{width:100%;font:inherit;padding:.4rem .5rem;border:1px solid #888;border-radius:4px}\
textarea{font-family:ui-monospace,monospace;font-size:.9rem}\
button{font:inherit;cursor:pointer;border-radius:4px;border:1px solid #1d4ed8;padding:.45rem .9rem}\
.persona{width:100%;text-align:left;background:#eef2ff;color:#1a1a1a}\
.persona small{display:block;color:#444}\
.primary{background:#1d4ed8;color:#fff;margin-top:.75rem}\
.secondary{background:#fff;color:#1d4ed8}\
button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\
.error{background:#fee2e2;border:1px solid #b91c1c;color:#7f1d1d;padding:.5rem .75rem;border-radius:4px}\
.hint{font-weight:400;color:#555;font-size:.85rem}\
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;\
clip:rect(0,0,0,0);white-space:nowrap;border:0}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <title>{} · mock-idp</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// What the login form had, to show it again after an error.
#[derive(Clone, Debug, Default)]
pub struct Prefill<'a> {
    /// The free-form username.
    pub username: Option<&'a str>,
    /// The claims JSON.
    pub claims: Option<&'a str>,
    /// What went wrong, shown in an alert.
    pub error: Option<&'a str>,
}

/// The login page for `req`: one button per persona, a free-form username,
/// an optional password and an optional claims JSON box. It posts to
/// `action` (the issuer's `/authorize/login`) with the authorization request
/// as hidden fields.
pub fn login(req: &AuthzRequest, users: &Users, prefill: &Prefill<'_>, action: &str) -> String {
    let client = req.client_name.as_deref().unwrap_or(&req.client_id);
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Sign in to {}</h1>\n<p class=\"note\">mock-idp is a test identity provider: \
         pick a persona or type any name. No real credentials are involved.</p>\n",
        escape(client)
    );
    if let Some(error) = prefill.error {
        let _ = writeln!(b, "<p class=\"error\" role=\"alert\">{}</p>", escape(error));
    }
    let _ = writeln!(b, "<form method=\"post\" action=\"{}\">", escape(action));
    // Pressing Enter in a text field submits the first submit button in the
    // form; make that the free-form sign-in rather than the first persona.
    b.push_str(
        "<button type=\"submit\" name=\"action\" value=\"login\" class=\"sr-only\" \
         tabindex=\"-1\" aria-hidden=\"true\">Sign in</button>\n",
    );
    for (name, value) in &req.carried {
        let _ = writeln!(
            b,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    if !users.is_empty() {
        b.push_str("<fieldset>\n<legend>Personas</legend>\n<ul>\n");
        for (name, persona) in users {
            let mut details = persona.details(name);
            if persona.password.is_some() {
                details.push("password required: type it below, then pick".into());
            }
            let _ = writeln!(
                b,
                "<li><button type=\"submit\" class=\"persona\" name=\"user\" value=\"{0}\">\
                 Sign in as {0}<small>{1}</small></button></li>",
                escape(name),
                escape(&details.join(" · "))
            );
        }
        b.push_str("</ul>\n</fieldset>\n");
    }
    let _ = write!(
        b,
        "<fieldset>\n<legend>{}</legend>\n\
         <label for=\"username\">Username</label>\n\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{}\">\n\
         <label for=\"password\">Password <span class=\"hint\">(only personas with a password check it)</span></label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\n\
         <label for=\"claims\">Extra claims <span class=\"hint\">(optional JSON object, added to the tokens)</span></label>\n\
         <textarea id=\"claims\" name=\"claims\" rows=\"4\" spellcheck=\"false\" \
         placeholder='{{\"email\": \"dave@example.com\", \"roles\": [\"admin\"]}}'>{}</textarea>\n\
         <button type=\"submit\" class=\"primary\" name=\"action\" value=\"login\">Sign in</button>\n\
         </fieldset>\n",
        if users.is_empty() {
            "User"
        } else {
            "Or any user"
        },
        escape(prefill.username.or(req.login_hint.as_deref()).unwrap_or("")),
        escape(prefill.claims.unwrap_or("")),
    );
    b.push_str(
        "<button type=\"submit\" class=\"secondary\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>\n",
    );
    let _ = writeln!(
        b,
        "<p class=\"note\">Returns to <code>{}</code></p>",
        escape(&req.redirect_uri)
    );
    page(&format!("Sign in to {client}"), &b)
}

/// A page for an error that must not be redirected (RFC 6749 §4.1.2.1).
pub fn error(message: &str) -> String {
    page(
        "Sign-in error",
        &format!(
            "<h1>Sign-in error</h1>\n<p class=\"error\" role=\"alert\">{}</p>\n\
             <p class=\"note\">The request was not sent back to the application because its \
             client or redirect URI could not be trusted.</p>\n",
            escape(message)
        ),
    )
}

/// The page `GET /logout` shows when there is nowhere to go back to.
pub fn logged_out() -> String {
    page(
        "Signed out",
        "<h1>Signed out</h1>\n<p>You are signed out of mock-idp. You can close this page.</p>\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<script>"x"&'y'</script>"#),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
    }
}
