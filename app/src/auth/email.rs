//! E-mail addresses as account names.

use super::error::AuthError;

/// Longest address accepted (RFC 5321's path limit).
pub const MAX_LEN: usize = 254;

/// Trims and lower-cases `raw`, and checks it looks like an address, so that
/// " Ann@Example.COM" and "ann@example.com" are one account.
///
/// Deliberately lenient beyond that (one `@`, something on each side, a dot in the
/// domain, no spaces): the only real test of an address is sending mail to it.
pub fn normalize(raw: &str) -> Result<String, AuthError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= MAX_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(AuthError::InvalidEmail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize("  Ann.Lee@Example.COM \n").unwrap(),
            "ann.lee@example.com"
        );
    }

    #[test]
    fn implausible_addresses_are_rejected() {
        let long = format!("{}@example.com", "a".repeat(10_000));
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "ann@@example.com",
            "a b@example.com",
            "ann@.com",
            "ann@example.",
            long.as_str(),
            "ann\0@example.com",
        ] {
            assert!(
                matches!(normalize(bad), Err(AuthError::InvalidEmail)),
                "{bad:?}"
            );
        }
    }
}
