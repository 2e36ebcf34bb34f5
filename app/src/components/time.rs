//! Times as people read them: "3 minutes ago", with the exact UTC time on hover.

use chrono::DateTime;
use leptos::prelude::*;

/// "just now", "5 minutes ago", "2 hours ago", "3 days ago" for `then` seen from `now`
/// (both Unix seconds); "in 6 days" for the future.
pub fn relative(then: i64, now: i64) -> String {
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
    let (value, unit) = match amount {
        0..=59 => {
            return if future {
                "in a moment".into()
            } else {
                "just now".into()
            };
        }
        60..=3_599 => (scaled(60), "minute"),
        3_600..=86_399 => (scaled(3_600), "hour"),
        _ => (scaled(86_400), "day"),
    };
    let plural = if value == 1 { "" } else { "s" };
    if future {
        format!("in {value} {unit}{plural}")
    } else {
        format!("{value} {unit}{plural} ago")
    }
}

/// The exact time, e.g. "2026-11-23 10:14 UTC".
pub fn exact_utc(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
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
    let iso = DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    view! { <time datetime=iso title=exact_utc(at)>{relative(at, now)}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(100, 130), "just now");
        assert_eq!(relative(0, 60), "1 minute ago");
        assert_eq!(relative(0, 180), "3 minutes ago");
        assert_eq!(relative(0, 7_200), "2 hours ago");
        assert_eq!(relative(0, 86_400 * 3), "3 days ago");
        assert_eq!(relative(86_400 * 6, 0), "in 6 days");
        assert_eq!(relative(86_400 * 7 - 60, 0), "in 7 days");
        assert_eq!(relative(0, 86_400 * 7 - 60), "6 days ago");
    }

    #[test]
    fn exact_times_are_utc() {
        assert_eq!(exact_utc(0), "1970-01-01 00:00 UTC");
    }
}
