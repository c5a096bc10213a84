//! Injected faults (`PUT <mount>/_admin/faults`): make one endpoint of an
//! issuer answer a given status, an empty or garbage body, or wait first,
//! for the next `count` calls or until cleared. One fault per [`Endpoint`]
//! (a new one replaces it); faults on different endpoints stack.
//!
//! The hot path ([`Faults::strike`] on an endpoint with no fault) is one
//! atomic load; the lock is taken only when a fault is armed there.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::from_json;
use crate::issuer::OAuthError;
use crate::issuer::paths::Endpoint;

/// Longest delay a fault may ask for, in milliseconds (60 s).
pub const MAX_DELAY_MS: u64 = 60_000;

/// What a faulted endpoint answers instead of its usual body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultBody {
    /// No body at all (`Content-Length: 0`).
    Empty,
    /// Bytes that are not JSON, labelled `application/json`.
    Garbage,
}

impl FaultBody {
    /// The garbage body: labelled JSON, parses as nothing.
    pub const GARBAGE: &'static [u8] = b"<html>}{ mock-idp fault: garbage, not JSON \x01\x02";
}

/// An armed fault, as set and as listed (`count` = calls left, `None` =
/// until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// The endpoint it hits.
    #[serde(serialize_with = "endpoint_name")]
    pub endpoint: Endpoint,
    /// Status answered; `None` with a `body` = 200; `None` without = the
    /// real answer after the delay.
    pub status: Option<u16>,
    /// Wait this long before answering.
    pub delay_ms: u64,
    /// Body answered; `None` with a `status` = an RFC 6749 error.
    pub body: Option<FaultBody>,
    /// Calls left before it clears itself; `None` = until cleared.
    pub count: Option<u64>,
}

fn endpoint_name<S: Serializer>(e: &Endpoint, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.as_str())
}

/// `PUT /_admin/faults` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    endpoint: String,
    status: Option<u16>,
    delay_ms: Option<u64>,
    body: Option<FaultBody>,
    count: Option<u64>,
}

impl Fault {
    /// Parses and checks a `PUT /_admin/faults` body; errors name the field.
    pub fn parse(json: &[u8]) -> Result<Fault, OAuthError> {
        let req: FaultRequest = from_json(json)?;
        let endpoint = Endpoint::from_name(&req.endpoint).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "endpoint: {:?} is not one of {}",
                req.endpoint,
                Endpoint::list()
            ))
        })?;
        if let Some(status) = req.status
            && !(200..=599).contains(&status)
        {
            return Err(OAuthError::invalid_request(format!(
                "status: {status} is not a final HTTP status; use 200 to 599"
            )));
        }
        let delay_ms = req.delay_ms.unwrap_or(0);
        if delay_ms > MAX_DELAY_MS {
            return Err(OAuthError::invalid_request(format!(
                "delay_ms: {delay_ms} is over the limit of {MAX_DELAY_MS} ms (60 s)"
            )));
        }
        if req.count == Some(0) {
            return Err(OAuthError::invalid_request(
                "count: must be at least 1; leave it out for a fault that lasts until cleared",
            ));
        }
        if req.status.is_none() && req.body.is_none() && delay_ms == 0 {
            return Err(OAuthError::invalid_request(
                "a fault needs at least one of status, body or delay_ms",
            ));
        }
        Ok(Fault {
            endpoint,
            status: req.status,
            delay_ms,
            body: req.body,
            count: req.count,
        })
    }

    /// The delay before answering.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms)
    }

    /// Whether the fault replaces the answer (else it only delays the real one).
    pub fn replaces_answer(&self) -> bool {
        self.status.is_some() || self.body.is_some()
    }

    /// The status answered when [`Fault::replaces_answer`].
    pub fn answer_status(&self) -> u16 {
        self.status.unwrap_or(200)
    }
}

/// The faults of one issuer.
#[derive(Debug, Default)]
pub struct Faults {
    /// Bit `i` set = a fault is armed on `Endpoint::ALL[i]` (read without the lock).
    armed: AtomicU8,
    slots: Mutex<[Option<Fault>; Endpoint::ALL.len()]>,
}

fn bit(endpoint: Endpoint) -> u8 {
    1 << endpoint as u8
}

impl Faults {
    fn slots(&self) -> std::sync::MutexGuard<'_, [Option<Fault>; Endpoint::ALL.len()]> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms `fault`, replacing any fault on the same endpoint.
    pub fn set(&self, fault: Fault) {
        let mut slots = self.slots();
        let endpoint = fault.endpoint;
        slots[endpoint as usize] = Some(fault);
        self.armed.fetch_or(bit(endpoint), Ordering::Release);
    }

    /// Clears the fault on `endpoint`; whether there was one.
    pub fn clear(&self, endpoint: Endpoint) -> bool {
        let mut slots = self.slots();
        self.armed.fetch_and(!bit(endpoint), Ordering::Release);
        slots[endpoint as usize].take().is_some()
    }

    /// Clears every fault.
    pub fn clear_all(&self) {
        let mut slots = self.slots();
        self.armed.store(0, Ordering::Release);
        *slots = Default::default();
    }

    /// Every armed fault, in [`Endpoint::ALL`] order.
    pub fn list(&self) -> Vec<Fault> {
        self.slots().iter().flatten().cloned().collect()
    }

    /// One call to `endpoint`: the fault to apply, if one is armed there,
    /// counting the call (the last counted call disarms it).
    pub fn strike(&self, endpoint: Endpoint) -> Option<Fault> {
        if self.armed.load(Ordering::Acquire) & bit(endpoint) == 0 {
            return None;
        }
        let mut slots = self.slots();
        let slot = &mut slots[endpoint as usize];
        let fault = slot.as_mut()?;
        match fault.count {
            Some(left) if left <= 1 => {
                self.armed.fetch_and(!bit(endpoint), Ordering::Release);
                slot.take()
            }
            Some(left) => {
                fault.count = Some(left - 1);
                Some(fault.clone())
            }
            None => Some(fault.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(json: &str) -> Fault {
        Fault::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn bad_requests_name_the_field() {
        let cases = [
            (r#"{"status": 500}"#, "endpoint"),
            (
                r#"{"endpoint": "revoke", "status": 500}"#,
                "endpoint: \"revoke\"",
            ),
            (r#"{"endpoint": "jwks", "status": 99}"#, "status: 99"),
            (r#"{"endpoint": "jwks", "status": 600}"#, "status: 600"),
            (r#"{"endpoint": "jwks", "status": "500"}"#, "status"),
            (
                r#"{"endpoint": "jwks", "delay_ms": 60001}"#,
                "delay_ms: 60001",
            ),
            (r#"{"endpoint": "jwks", "delay_ms": -1}"#, "delay_ms"),
            (r#"{"endpoint": "jwks", "body": "html"}"#, "body"),
            (
                r#"{"endpoint": "jwks", "status": 500, "count": 0}"#,
                "count",
            ),
            (r#"{"endpoint": "jwks"}"#, "at least one of"),
            (
                r#"{"endpoint": "jwks", "status": 500, "times": 1}"#,
                "times",
            ),
            ("[]", "JSON object"),
            ("", "body"),
        ];
        for (payload, want) in cases {
            let e = Fault::parse(payload.as_bytes())
                .map(|f| format!("accepted as {f:?}"))
                .unwrap_or_else(|e| e.to_string());
            assert!(
                e.contains(want),
                "payload {payload}: {e:?} should name {want:?}"
            );
        }
    }

    #[test]
    fn counted_fault_strikes_exactly_count_times() {
        let faults = Faults::default();
        assert_eq!(faults.strike(Endpoint::Jwks), None);
        faults.set(fault(r#"{"endpoint": "jwks", "status": 503, "count": 2}"#));
        assert_eq!(faults.list()[0].count, Some(2));
        assert_eq!(
            faults.strike(Endpoint::Token),
            None,
            "other endpoints untouched"
        );
        assert_eq!(faults.strike(Endpoint::Jwks).unwrap().status, Some(503));
        assert_eq!(
            faults.list()[0].count,
            Some(1),
            "listed with the calls left"
        );
        assert!(faults.strike(Endpoint::Jwks).is_some());
        assert_eq!(
            faults.strike(Endpoint::Jwks),
            None,
            "cleared after count calls"
        );
        assert!(faults.list().is_empty());
    }

    #[test]
    fn faults_stack_per_endpoint_and_replace_on_the_same_one() {
        let faults = Faults::default();
        faults.set(fault(r#"{"endpoint": "token", "status": 500}"#));
        faults.set(fault(r#"{"endpoint": "jwks", "body": "garbage"}"#));
        faults.set(fault(r#"{"endpoint": "token", "delay_ms": 10}"#));
        let listed = faults.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].endpoint, Endpoint::Jwks);
        assert_eq!(listed[1].status, None, "the token fault was replaced");
        for _ in 0..100 {
            assert!(faults.strike(Endpoint::Token).is_some(), "uncounted lasts");
        }
        let jwks = faults.strike(Endpoint::Jwks).unwrap();
        assert!(jwks.replaces_answer() && jwks.answer_status() == 200);
        assert!(!faults.strike(Endpoint::Token).unwrap().replaces_answer());
        assert!(faults.clear(Endpoint::Token));
        assert!(!faults.clear(Endpoint::Token));
        assert!(faults.strike(Endpoint::Jwks).is_some());
        faults.clear_all();
        assert_eq!(faults.strike(Endpoint::Jwks), None);
        assert_eq!(
            serde_json::to_value(fault(r#"{"endpoint": "userinfo", "status": 401}"#)).unwrap(),
            serde_json::json!({"endpoint": "userinfo", "status": 401, "delay_ms": 0,
                               "body": null, "count": null})
        );
    }

    #[test]
    fn concurrent_calls_consume_the_count_exactly() {
        let faults = std::sync::Arc::new(Faults::default());
        faults.set(fault(
            r#"{"endpoint": "token", "status": 500, "count": 1000}"#,
        ));
        let hits: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let faults = &faults;
                    s.spawn(move || {
                        (0..500)
                            .filter(|_| faults.strike(Endpoint::Token).is_some())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(hits, 1000);
    }
}
