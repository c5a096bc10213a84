//! The request bodies of the service, decoded the way its Go handlers
//! decode them (`json.NewDecoder(r.Body).Decode(&req)`): JSON whatever the
//! `Content-Type`, unknown fields ignored, `null` = the zero value, integers
//! only for integer fields, and Go's messages for what does not decode (the
//! `message` of `400 {"error": "Invalid request body"}`).

use serde_json::{Map, Value};

use super::LifecycleError;

/// `TokenRequest` of `POST /tokens` and `POST /token-pairs`. Zero means
/// "not given" for every number, as in the original (`omitempty` ints).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// `user_id` (required).
    pub user_id: String,
    /// `network` (`""` = `"default"`).
    pub network: String,
    /// `rate_limit` (0 = 100).
    pub rate_limit: i64,
    /// `expiry_days`: lifetime of a single token in days (0 = 1 hour).
    pub expiry_days: i64,
    /// `parent_expiry_hours`: lifetime of a parent (0 = 720).
    pub parent_expiry_hours: i64,
    /// `include_child`: also mint a child with the pair.
    pub include_child: bool,
    /// `expires_in` (seconds; the README's name, wins over `expiry_days`).
    pub expires_in: i64,
    /// `parent_expires_in` (seconds; wins over `parent_expiry_hours`).
    pub parent_expires_in: i64,
    /// `child_expires_in` (seconds; 0 = 900).
    pub child_expires_in: i64,
}

/// `RenewRequest` of `POST /renew`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewRequest {
    /// `parent_token`.
    pub parent_token: String,
}

/// Go's name for the JSON type of `v` in "cannot unmarshal X into ...".
fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

fn invalid(message: impl Into<String>) -> LifecycleError {
    LifecycleError::bad_request("Invalid request body").with_message(message)
}

/// The body as a JSON object, or Go's reason why not.
fn object(body: &[u8], go_type: &str) -> Result<Map<String, Value>, LifecycleError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("EOF"));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        // `null` decodes into a struct as "nothing set".
        Value::Null => Ok(Map::new()),
        other => Err(invalid(format!(
            "json: cannot unmarshal {} into Go value of type {go_type}",
            json_kind(&other)
        ))),
    }
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
    go_struct: &'static str,
}

impl Fields<'_> {
    fn mismatch(&self, name: &str, value: &Value, go_type: &str) -> LifecycleError {
        invalid(format!(
            "json: cannot unmarshal {} into Go struct field {}.{name} of type {go_type}",
            json_kind(value),
            self.go_struct
        ))
    }

    fn string(&self, name: &str) -> Result<String, LifecycleError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.mismatch(name, other, "string")),
        }
    }

    fn int(&self, name: &str) -> Result<i64, LifecycleError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(0),
            Some(number @ Value::Number(n)) => {
                n.as_i64().ok_or_else(|| self.mismatch(name, number, "int"))
            }
            Some(other) => Err(self.mismatch(name, other, "int")),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, LifecycleError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.mismatch(name, other, "bool")),
        }
    }
}

impl TokenRequest {
    /// Decodes a `TokenRequest` body.
    pub fn parse(body: &[u8]) -> Result<Self, LifecycleError> {
        let map = object(body, "api.TokenRequest")?;
        let f = Fields {
            map: &map,
            go_struct: "TokenRequest",
        };
        Ok(TokenRequest {
            user_id: f.string("user_id")?,
            network: f.string("network")?,
            rate_limit: f.int("rate_limit")?,
            expiry_days: f.int("expiry_days")?,
            parent_expiry_hours: f.int("parent_expiry_hours")?,
            include_child: f.bool("include_child")?,
            expires_in: f.int("expires_in")?,
            parent_expires_in: f.int("parent_expires_in")?,
            child_expires_in: f.int("child_expires_in")?,
        })
    }
}

impl RenewRequest {
    /// Decodes a `RenewRequest` body.
    pub fn parse(body: &[u8]) -> Result<Self, LifecycleError> {
        let map = object(body, "api.RenewRequest")?;
        let f = Fields {
            map: &map,
            go_struct: "RenewRequest",
        };
        Ok(RenewRequest {
            parent_token: f.string("parent_token")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        let e = TokenRequest::parse(body.as_bytes()).unwrap_err();
        assert_eq!(e.error, "Invalid request body", "{body}");
        e.message.unwrap_or_default()
    }

    #[test]
    fn decodes_like_go() {
        let r = TokenRequest::parse(
            br#"{"user_id": "u", "network": null, "rate_limit": -3, "include_child": true,
                 "colour": "blue", "child_expires_in": 60}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            TokenRequest {
                user_id: "u".into(),
                rate_limit: -3,
                include_child: true,
                child_expires_in: 60,
                ..TokenRequest::default()
            }
        );
        assert_eq!(
            TokenRequest::parse(b"null").unwrap(),
            TokenRequest::default()
        );
        assert_eq!(
            RenewRequest::parse(br#"{"parent_token": "t"}"#)
                .unwrap()
                .parent_token,
            "t"
        );
    }

    #[test]
    fn reasons_are_gos() {
        let cases = [
            ("", "EOF"),
            ("  \n", "EOF"),
            (
                "[]",
                "json: cannot unmarshal array into Go value of type api.TokenRequest",
            ),
            (
                r#"{"user_id": 5}"#,
                "json: cannot unmarshal number 5 into Go struct field TokenRequest.user_id of type string",
            ),
            (
                r#"{"parent_expiry_hours": 1.5}"#,
                "json: cannot unmarshal number 1.5 into Go struct field TokenRequest.parent_expiry_hours of type int",
            ),
            (
                r#"{"include_child": "yes"}"#,
                "json: cannot unmarshal string into Go struct field TokenRequest.include_child of type bool",
            ),
            (
                r#"{"rate_limit": 1e2}"#,
                "json: cannot unmarshal number 100.0 into Go struct field TokenRequest.rate_limit of type int",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(message(body), expected, "{body:?}");
        }
        assert!(!message("{not json").is_empty());
        let e = RenewRequest::parse(b"[]").unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("json: cannot unmarshal array into Go value of type api.RenewRequest")
        );
    }
}
