//! E-mail addresses as account names.

use super::error::AuthError;

/// Longest address accepted (RFC 5321's path limit).
pub const MAX_LEN: usize = 254;

/// Longest local part (before the `@`), RFC 5321.
const MAX_LOCAL_LEN: usize = 64;

/// Trims and lower-cases `raw`, and checks it is a bare address (RFC 5321's
/// `Mailbox`: a dot-atom, `@`, a domain name), so that " Ann@Example.COM" and
/// "ann@example.com" are one account.
///
/// Strict on form, because the string that is stored is the string mail goes to: a
/// display name (`a1<victim@example.com>`), a quoted local part, a comment or a second
/// address would each be delivered somewhere other than what the limits per address
/// count. Whether anyone reads it is only learnt by sending mail to it.
pub fn normalize(raw: &str) -> Result<String, AuthError> {
    // ASCII lower-casing only: an address is ASCII (below), and Unicode lower-casing
    // folds some other characters into ASCII ones (the Kelvin sign U+212A into `k`), so
    // a different mailbox would have counted as this one (found by an outside attack).
    let email = raw
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_ascii_lowercase();
    let valid = email.len() <= MAX_LEN
        && match email.split_once('@') {
            Some((local, domain)) => is_dot_atom(local) && is_domain(domain),
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(AuthError::InvalidEmail)
    }
}

/// RFC 5322's `dot-atom-text`: atoms of `atext` joined by single dots.
fn is_dot_atom(local: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    local.len() <= MAX_LOCAL_LEN
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

/// A domain name of at least two labels, each of letters, digits and inner hyphens
/// (internationalised names in their ASCII `xn--` form).
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_that_fold_into_ascii_do_not_make_another_address() {
        assert_eq!(
            normalize("Kelvin@example.com").unwrap(),
            "kelvin@example.com"
        );
        for folded in [
            "\u{212A}elvin@example.com",
            "ann@exa\u{212A}ple.com",
            // Unicode spaces are not trimmed away either (a second outside attack).
            "\u{a0}ann@example.com",
            "ann@example.com\u{2003}",
        ] {
            assert!(
                matches!(normalize(folded), Err(AuthError::InvalidEmail)),
                "{folded}"
            );
        }
    }

    #[test]
    fn bare_addresses_of_every_usual_shape_are_accepted() {
        for good in [
            "ann@example.com",
            "ann.lee+tag@mail.example.co.uk",
            "o'brien@example.ie",
            "x@xn--bcher-kva.example",
            "a_b-c@sub-domain.example.org",
        ] {
            assert_eq!(normalize(good).ok().as_deref(), Some(good), "{good}");
        }
    }

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
            // Anything that would be delivered elsewhere than the string says.
            "a1<victim@example.com>",
            "a1 <victim@example.com>",
            "\"a1\"@example.com",
            "victim@example.com, other@example.com",
            "victim@example.com;other@example.com",
            "(comment)victim@example.com",
            "victim@[127.0.0.1]",
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "a@-example.com",
            "a@exa_mple.com",
            "jörg@example.com",
        ] {
            assert!(
                matches!(normalize(bad), Err(AuthError::InvalidEmail)),
                "{bad:?}"
            );
        }
    }
}
