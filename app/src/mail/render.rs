//! The words of every mail, in plain text and HTML from one description, so the two
//! never say different things. Pure functions: no I/O, easy to test.

use chrono::NaiveDateTime;

use crate::auth::client_info::localized_device_label;
use crate::auth::notices::{MailFacts, MailKind, SignInMethodFact};
use crate::i18n::{Arg, Language, message_id};
use crate::paths;

/// A mail ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (the same words).
    pub html: String,
}

/// Everything a mail may name.
#[derive(Debug, Clone)]
pub struct MailContext<'a> {
    /// Where the mail goes.
    pub recipient: &'a str,
    /// Who acted, from where.
    pub facts: &'a MailFacts,
    /// When the change happened (UTC).
    pub at: NaiveDateTime,
    /// The link of a link mail (built from `PUBLIC_URL`).
    pub link: Option<&'a str>,
    /// `PUBLIC_URL`, without a trailing slash, for links to pages.
    pub public_url: &'a str,
}

/// One mail's content: paragraphs, an optional button, and closing paragraphs, with
/// the greeting and sign-off of its language.
struct Content {
    language: Language,
    subject: String,
    intro: Vec<String>,
    action: Option<(String, String)>,
    outro: Vec<String>,
}

/// Renders `kind` for `ctx`, in the language of the request that caused it.
pub fn render(kind: MailKind, ctx: &MailContext<'_>) -> Rendered {
    let content = content(kind, ctx);
    Rendered {
        text: to_text(&content),
        html: to_html(&content),
        subject: content.subject,
    }
}

/// The words of each mail are the messages `mail-<kind>-…` (the kind's stored name with
/// dashes): `subject`, `intro`, `action` and `outro`, where each line of `intro` and
/// `outro` is a paragraph. Each gets the variables of [`MailContext`].
fn content(kind: MailKind, ctx: &MailContext<'_>) -> Content {
    let language = ctx.facts.language.unwrap_or_default();
    let page = |page: paths::Page| format!("{}{}", ctx.public_url, page.path());
    let device = match ctx.facts.device.as_deref() {
        Some(label) => localized_device_label(language, label),
        None => language.text("mail-unknown-device"),
    };
    let ip = ctx
        .facts
        .ip
        .clone()
        .unwrap_or_else(|| language.text("mail-unknown-ip"));
    let args: Vec<(&'static str, Arg)> = vec![
        ("recipient", ctx.recipient.into()),
        ("device", device.into()),
        ("ip", ip.into()),
        ("time", language.date_time(ctx.at).into()),
        (
            "new_email",
            ctx.facts.new_email.as_deref().unwrap_or_default().into(),
        ),
        (
            "provider",
            ctx.facts.provider.as_deref().unwrap_or_default().into(),
        ),
        ("account_page", page(paths::ACCOUNT).into()),
        ("forgot_page", page(paths::FORGOT).into()),
    ];
    let text = |part: &str| language.text_with(&message_id("mail", kind.as_str(), part), &args);
    let paragraphs = |part: &str| {
        text(part)
            .lines()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let mut intro = paragraphs("intro");
    if kind == MailKind::ResetCompleted {
        intro.extend(method_lines(language, &ctx.facts.methods));
    }
    let target = match kind {
        MailKind::ResetCompleted => page(paths::ACCOUNT),
        MailKind::PasswordReset
        | MailKind::AccountLocked
        | MailKind::EmailVerification
        | MailKind::EmailChange => ctx.link.unwrap_or_default().to_owned(),
        MailKind::AddressInUse | MailKind::AccountDeleted => page(paths::LOGIN),
        _ => page(paths::DEVICES),
    };
    Content {
        language,
        subject: text("subject"),
        intro,
        action: Some((text("action"), target)),
        outro: paragraphs("outro"),
    }
}

/// The reset notice's list of the account's ways in besides the password, one
/// paragraph each, after a line saying what to do about them.
fn method_lines(language: Language, methods: &[SignInMethodFact]) -> Vec<String> {
    if methods.is_empty() {
        return vec![language.text("mail-reset-completed-no-methods")];
    }
    let minutes = crate::auth::reset_review::REVIEW_WINDOW.num_minutes();
    let mut lines = vec![language.text_with(
        "mail-reset-completed-methods",
        &[("review_minutes", minutes.into())],
    )];
    lines.extend(methods.iter().map(|method| match method {
        SignInMethodFact::Passkey { name, added_at } => language.text_with(
            "mail-reset-completed-passkey",
            &[
                ("name", name.clone().into()),
                ("time", language.date_time(*added_at).into()),
            ],
        ),
        SignInMethodFact::Provider {
            name,
            email,
            added_at,
        } => language.text_with(
            "mail-reset-completed-provider",
            &[
                ("name", name.clone().into()),
                ("email", email.clone().into()),
                ("time", language.date_time(*added_at).into()),
            ],
        ),
        SignInMethodFact::ProviderDisconnected {
            name,
            email,
            added_at,
        } => language.text_with(
            "mail-reset-completed-provider-disconnected",
            &[
                ("name", name.clone().into()),
                ("email", email.clone().into()),
                ("time", language.date_time(*added_at).into()),
            ],
        ),
        SignInMethodFact::AuthenticatorApp { added_at } => language.text_with(
            "mail-reset-completed-authenticator",
            &[("time", language.date_time(*added_at).into())],
        ),
    }));
    lines
}

fn to_text(content: &Content) -> String {
    let mut text = format!("{}\n\n", content.language.text("mail-hello"));
    for paragraph in &content.intro {
        text.push_str(paragraph);
        text.push_str("\n\n");
    }
    if let Some((label, url)) = &content.action {
        text.push_str(&format!("{label}:\n{url}\n\n"));
    }
    for paragraph in &content.outro {
        text.push_str(paragraph);
        text.push_str("\n\n");
    }
    text.push_str(&content.language.text("mail-signature"));
    text.push('\n');
    text
}

fn to_html(content: &Content) -> String {
    let language = content.language;
    let paragraph = |text: &str| {
        format!(
            "<p style=\"margin:0 0 16px;line-height:1.5\">{}</p>",
            escape(text)
        )
    };
    let mut body = String::new();
    body.push_str(&paragraph(&language.text("mail-hello")));
    for text in &content.intro {
        body.push_str(&paragraph(text));
    }
    if let Some((label, url)) = &content.action {
        let url = escape(url);
        body.push_str(&format!(
            "<p style=\"margin:24px 0\"><a href=\"{url}\" style=\"background:#3b4fd8;color:#ffffff;\
             padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600\">{}</a></p>\
             <p style=\"margin:0 0 16px;font-size:13px;color:#555\">{} \
             <a href=\"{url}\">{url}</a></p>",
            escape(label),
            escape(&language.text("mail-copy-link")),
        ));
    }
    for text in &content.outro {
        body.push_str(&paragraph(text));
    }
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#1c2033;max-width:560px;margin:0 auto;padding:24px\">\
         {body}<p style=\"margin:24px 0 0;color:#555\">{}</p></body></html>",
        language.code(),
        escape(&content.subject),
        escape(&language.text("mail-signature")),
    )
}

/// Escapes text for HTML element content and double-quoted attributes. Device labels
/// come from the User-Agent header, i.e. from whoever made the request.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    fn ctx<'a>(facts: &'a MailFacts, link: Option<&'a str>) -> MailContext<'a> {
        MailContext {
            recipient: "ann@example.com",
            facts,
            at: chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
                .unwrap()
                .and_hms_opt(19, 5, 0)
                .unwrap(),
            link,
            public_url: "https://gatehouse.example",
        }
    }

    #[test]
    fn every_mail_has_a_subject_and_the_same_words_in_both_bodies() {
        let facts = MailFacts {
            device: Some("Firefox 130 on Windows".into()),
            ip: Some("203.0.113.9".into()),
            old_email: Some("ann@example.com".into()),
            new_email: Some("ann@new.example".into()),
            language: None,
            provider: Some("Example ID".into()),
            methods: Vec::new(),
        };
        for kind in MailKind::iter() {
            let mail = render(
                kind,
                &ctx(&facts, Some("https://gatehouse.example/reset?token=T")),
            );
            assert!(!mail.subject.is_empty(), "{kind:?}");
            assert!(mail.text.starts_with("Hello,"), "{kind:?}");
            assert!(mail.html.contains("<!DOCTYPE html>"), "{kind:?}");
            if kind.link().is_some() {
                assert!(
                    mail.text
                        .contains("https://gatehouse.example/reset?token=T")
                );
                assert!(
                    mail.html
                        .contains("href=\"https://gatehouse.example/reset?token=T\"")
                );
            }
        }
    }

    #[test]
    fn notices_name_device_address_and_time_and_link_to_the_devices_page() {
        let facts = MailFacts {
            device: Some("Firefox 130 on Windows".into()),
            ip: Some("203.0.113.9".into()),
            ..MailFacts::default()
        };
        for kind in [
            MailKind::NewDeviceSignIn,
            MailKind::PasswordChanged,
            MailKind::EmailChanged,
            MailKind::TokenReuse,
            MailKind::SecondFactorDisabled,
            MailKind::PasskeyAdded,
        ] {
            let mail = render(kind, &ctx(&facts, None));
            for needle in [
                "Firefox 130 on Windows",
                "203.0.113.9",
                "23 November 2026 at 19:05 UTC",
                "https://gatehouse.example/devices",
            ] {
                assert!(mail.text.contains(needle), "{kind:?} lacks {needle}");
            }
        }
    }

    #[test]
    fn the_reset_notice_lists_every_way_in_with_its_date_in_both_bodies() {
        let at = |day| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, day)
                .unwrap()
                .and_hms_opt(8, 30, 0)
                .unwrap()
        };
        let facts = MailFacts {
            methods: vec![
                SignInMethodFact::Passkey {
                    name: "Thief's <b>key</b>".into(),
                    added_at: at(20),
                },
                SignInMethodFact::AuthenticatorApp { added_at: at(21) },
                SignInMethodFact::Provider {
                    name: "Example ID".into(),
                    email: "mallory@example.com".into(),
                    added_at: at(22),
                },
            ],
            ..MailFacts::default()
        };
        let mail = render(MailKind::ResetCompleted, &ctx(&facts, None));
        for needle in [
            "Passkey “Thief's <b>key</b>”, added 20 November 2026 at 08:30 UTC",
            "authenticator app, turned on 21 November 2026 at 08:30 UTC",
            "Your account at Example ID (mallory@example.com), connected 22 November 2026 at 08:30 UTC",
            "for 15 minutes",
            "https://gatehouse.example/account",
        ] {
            assert!(mail.text.contains(needle), "lacks {needle}: {}", mail.text);
        }
        assert!(mail.html.contains("Thief&#39;s &lt;b&gt;key&lt;/b&gt;"));
        assert!(mail.html.contains("21 November 2026 at 08:30 UTC"));
        let none = render(MailKind::ResetCompleted, &ctx(&MailFacts::default(), None));
        assert!(
            none.text
                .contains("it has no passkeys and two-step sign-in is off")
        );
    }

    #[test]
    fn mails_are_written_in_the_language_of_their_request() {
        use strum::IntoEnumIterator;
        let facts = MailFacts {
            device: Some("Firefox 130 on Windows".into()),
            ip: Some("203.0.113.9".into()),
            new_email: Some("ann@new.example".into()),
            language: Some(Language::De),
            ..MailFacts::default()
        };
        for kind in MailKind::iter() {
            let mail = render(kind, &ctx(&facts, Some("https://gatehouse.example/x")));
            assert!(mail.text.starts_with("Hallo,"), "{kind:?}");
            assert!(!mail.subject.starts_with("mail-"), "{kind:?}");
            assert!(!mail.text.contains("mail-"), "{kind:?}: {}", mail.text);
            assert!(mail.html.contains("<html lang=\"de\">"), "{kind:?}");
        }
        let mail = render(MailKind::NewDeviceSignIn, &ctx(&facts, None));
        assert!(
            mail.text.contains("Firefox 130 unter Windows"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("23. November 2026 um 19:05 UTC"),
            "{}",
            mail.text
        );
    }

    #[test]
    fn what_a_request_controls_is_escaped_in_html() {
        let facts = MailFacts {
            device: Some("<script>alert(1)</script>\" onmouseover=\"x".into()),
            ..MailFacts::default()
        };
        let mail = render(MailKind::NewDeviceSignIn, &ctx(&facts, None));
        assert!(!mail.html.contains("<script>"));
        assert!(!mail.html.contains("\" onmouseover"));
        assert!(mail.html.contains("&lt;script&gt;"));
    }
}
