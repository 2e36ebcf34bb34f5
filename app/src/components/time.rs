//! Times as people read them: "3 minutes ago", with the exact UTC time on hover, in the
//! page's language.

use chrono::DateTime;
use leptos::prelude::*;

use crate::i18n::Language;
use crate::i18n::ui::use_language;

/// "just now", "5 minutes ago", "2 hours ago", "3 days ago" for `then` seen from `now`
/// (both Unix seconds); "in 6 days" for the future.
pub fn relative(language: Language, then: i64, now: i64) -> String {
    let delta = now - then;
    let (amount, future) = (delta.unsigned_abs(), delta < 0);
    // The past is rounded down ("59 minutes ago" until the hour is full), the future up
    // ("in 7 days" for 6 days 23 hours), which is how people read both.
    let scaled = |unit: u64| {
        if future {
            amount.div_ceil(unit)
        } else {
            amount / unit
        }
    };
    let (count, past_key, future_key) = match amount {
        0..=59 => {
            return language.text(if future {
                "time-in-a-moment"
            } else {
                "time-just-now"
            });
        }
        60..=3_599 => (scaled(60), "time-minutes-ago", "time-in-minutes"),
        3_600..=86_399 => (scaled(3_600), "time-hours-ago", "time-in-hours"),
        _ => (scaled(86_400), "time-days-ago", "time-in-days"),
    };
    let key = if future { future_key } else { past_key };
    language.text_with(key, &[("count", count.into())])
}

/// The exact time, e.g. "23 November 2026 at 10:14 UTC".
pub fn exact_utc(language: Language, seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(|t| language.date_time(t.naive_utc()))
        .unwrap_or_default()
}

/// The moment as `<time datetime>` wants it (RFC 3339).
fn iso(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// A `<time>` showing the relative time, with the exact UTC time as its tooltip.
#[component]
pub fn RelativeTime(
    /// The moment (Unix seconds).
    at: i64,
    /// "Now" as the server saw it, so server and browser render the same text.
    now: i64,
) -> impl IntoView {
    let language = use_language();
    view! { <time datetime=iso(at) title=exact_utc(language, at)>{relative(language, at, now)}</time> }
}

/// A `<time>` showing the exact UTC time.
#[component]
pub fn ExactTime(
    /// The moment (Unix seconds).
    at: i64,
) -> impl IntoView {
    view! { <time datetime=iso(at)>{exact_utc(use_language(), at)}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Language::{De, En};

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(En, 100, 130), "just now");
        assert_eq!(relative(En, 0, 60), "1 minute ago");
        assert_eq!(relative(En, 0, 180), "3 minutes ago");
        assert_eq!(relative(En, 0, 7_200), "2 hours ago");
        assert_eq!(relative(En, 0, 86_400 * 3), "3 days ago");
        assert_eq!(relative(En, 86_400 * 6, 0), "in 6 days");
        assert_eq!(relative(En, 86_400 * 7 - 60, 0), "in 7 days");
        assert_eq!(relative(En, 0, 86_400 * 7 - 60), "6 days ago");
    }

    #[test]
    fn relative_times_follow_the_language() {
        assert_eq!(relative(De, 100, 130), "gerade eben");
        assert_eq!(relative(De, 0, 60), "vor 1 Minute");
        assert_eq!(relative(De, 0, 7_200), "vor 2 Stunden");
        assert_eq!(relative(De, 0, 86_400), "vor 1 Tag");
        assert_eq!(relative(De, 86_400 * 6, 0), "in 6 Tagen");
        assert_eq!(relative(De, 10, 0), "gleich");
    }

    #[test]
    fn exact_times_are_utc_in_the_language() {
        assert_eq!(exact_utc(En, 0), "1 January 1970 at 00:00 UTC");
        assert_eq!(exact_utc(De, 0), "1. Januar 1970 um 00:00 UTC");
    }
}
