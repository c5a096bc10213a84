//! The production guard: mock-idp must never become a real issuer by accident.
//!
//! If `NODE_ENV` or `APP_ENV` is `production` or `prod` (any case, surrounding
//! whitespace ignored), `serve` refuses to start before binding a port or
//! touching a key file, and exits with [`EXIT_CODE`].

/// Exit code when the guard trips (`EX_CONFIG` from sysexits.h).
pub const EXIT_CODE: u8 = 78;

/// The environment variables that are checked, in order.
pub const GUARDED_VARS: [&str; 2] = ["NODE_ENV", "APP_ENV"];

/// Returns `true` when `value` names a production environment.
pub fn is_production(value: &str) -> bool {
    let v = value.trim();
    v.eq_ignore_ascii_case("production") || v.eq_ignore_ascii_case("prod")
}

/// Checks the guarded variables through `lookup` (normally `std::env::var`).
///
/// Returns the message to print when the guard trips.
pub fn check(lookup: impl Fn(&str) -> Option<String>) -> Result<(), String> {
    for var in GUARDED_VARS {
        if let Some(value) = lookup(var)
            && is_production(&value)
        {
            return Err(format!(
                "mock-idp: refusing to start: {var}={:?} says this is production. mock-idp is a \
                 test tool and must never act as a real issuer; unset {var} or set it to \
                 development/test.",
                value.trim()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_production_spellings() {
        for v in [
            "production",
            "PRODUCTION",
            " Production ",
            "prod",
            "PROD",
            "\tprod\n",
        ] {
            assert!(is_production(v), "{v:?} should count as production");
        }
        for v in [
            "",
            "dev",
            "development",
            "test",
            "staging",
            "production-like",
            "pro d",
        ] {
            assert!(!is_production(v), "{v:?} should not count as production");
        }
    }

    #[test]
    fn names_the_variable() {
        let err = check(|k| (k == "APP_ENV").then(|| "Prod".to_string())).unwrap_err();
        assert!(err.contains("APP_ENV"), "{err}");
        assert!(check(|_| Some("test".into())).is_ok());
        assert!(check(|_| None).is_ok());
    }
}
