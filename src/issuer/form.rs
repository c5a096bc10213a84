//! [`Form`]: the `name=value` parameters of an OAuth request (a form body or
//! a query string), in order, with the lookups the grants need. Parsing the
//! bytes is the HTTP layer's job; this type only reads them.

use serde_json::{Map, Value};

use super::OAuthError;

/// Form fields (or query parameters) of an OAuth request, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// A form of `name=value` pairs, in order.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Form(pairs)
    }

    /// Parses `application/x-www-form-urlencoded` bytes; the error says
    /// what `what` (e.g. "form body") is wrong with.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Form, OAuthError> {
        serde_urlencoded::from_bytes(bytes).map(Form).map_err(|e| {
            OAuthError::invalid_request(format!("{what} is not valid URL encoding: {e}"))
        })
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The pairs, owned.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the field is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The value of a required field.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::invalid_request(format!("{name}: is required")))
    }

    /// The first non-blank value of `name`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// The name of the first field given more than once (RFC 6749 §3.1, §3.2).
    pub fn repeated(&self) -> Option<&str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (k, _))| self.0[..*i].iter().any(|(seen, _)| seen == k))
            .map(|(_, (k, _))| k.as_str())
    }

    /// Fails naming the first repeated field (RFC 6749 §3.2: parameters
    /// must not be included more than once).
    pub fn reject_repeated(&self) -> Result<(), OAuthError> {
        match self.repeated() {
            Some(k) => Err(OAuthError::invalid_request(format!(
                "{k}: must not be repeated"
            ))),
            None => Ok(()),
        }
    }

    /// The `claims` field: a JSON object of extra claims, empty when absent.
    pub fn claims(&self) -> Result<Map<String, Value>, OAuthError> {
        match self.non_empty("claims") {
            None => Ok(Map::new()),
            Some(text) => parse_claims(text).map_err(OAuthError::invalid_request),
        }
    }
}

/// Parses a JSON object of extra claims; the error names the `claims` field.
pub fn parse_claims(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("claims: must be a JSON object, e.g. {\"email\": \"a@example.com\"}".into()),
        Err(e) => Err(format!("claims: is not valid JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(s: &str) -> Form {
        Form::parse(s.as_bytes(), "form body").unwrap()
    }

    #[test]
    fn lookups() {
        let f = form("a=1&b=&c=%20&a=2");
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.get("b"), Some(""));
        assert!(f.has("b") && !f.has("z"));
        assert_eq!(f.non_empty("c"), None);
        assert_eq!(f.require("a").unwrap(), "1");
        assert_eq!(f.require("b").unwrap_err().to_string(), "b: is required");
        assert_eq!(f.repeated(), Some("a"));
        assert_eq!(
            f.reject_repeated().unwrap_err().to_string(),
            "a: must not be repeated"
        );
        assert!(form("x=1&y=2").reject_repeated().is_ok());
    }

    #[test]
    fn bad_encoding_and_claims_name_the_field() {
        assert!(form("claims=%7B%22x%22%3A1%7D").claims().unwrap()["x"] == 1);
        let e = form("claims=5").claims().unwrap_err().to_string();
        assert!(e.contains("claims: must be a JSON object"), "{e}");
        let e = form("claims=%7B").claims().unwrap_err().to_string();
        assert!(e.contains("claims: is not valid JSON"), "{e}");
        assert!(form("").claims().unwrap().is_empty());
    }
}
