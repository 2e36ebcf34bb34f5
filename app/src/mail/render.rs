//! The words of every mail, in plain text and HTML from one description, so the two
//! never say different things. Pure functions: no I/O, easy to test.

use chrono::NaiveDateTime;

use super::{MailFacts, MailKind};
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

/// One mail's content: paragraphs, an optional button, and closing paragraphs.
struct Content {
    subject: String,
    intro: Vec<String>,
    action: Option<(String, String)>,
    outro: Vec<String>,
}

/// Renders `kind` for `ctx`.
pub fn render(kind: MailKind, ctx: &MailContext<'_>) -> Rendered {
    let content = content(kind, ctx);
    Rendered {
        text: to_text(&content),
        html: to_html(&content),
        subject: content.subject,
    }
}

fn content(kind: MailKind, ctx: &MailContext<'_>) -> Content {
    let page = |page: paths::Page| format!("{}{}", ctx.public_url, page.path());
    let link = ctx.link.unwrap_or_default().to_owned();
    let device = ctx.facts.device.as_deref().unwrap_or("an unknown device");
    let ip = ctx.facts.ip.as_deref().unwrap_or("unknown");
    let when = format!("{} UTC", ctx.at.format("%-d %B %Y at %H:%M"));
    let origin = format!("Device: {device}. IP address: {ip}. Time: {when}.");
    let devices = ("Review your devices".to_owned(), page(paths::DEVICES));
    let new_email = ctx.facts.new_email.as_deref().unwrap_or_default();
    match kind {
        MailKind::PasswordReset => Content {
            subject: "Reset your Gatehouse password".into(),
            intro: vec![
                format!("Someone, hopefully you, asked to reset the password of the Gatehouse account for {}.", ctx.recipient),
                "To choose a new password, open this link within 30 minutes. It works once.".into(),
            ],
            action: Some(("Choose a new password".into(), link)),
            outro: vec![
                "If you did not ask for this, ignore this e-mail: your password stays as it is.".into(),
                format!("Requested from: {device}, IP address {ip}, {when}."),
            ],
        },
        MailKind::EmailVerification => Content {
            subject: "Confirm your e-mail address".into(),
            intro: vec![
                format!("Please confirm that {} is your address, so you can recover your Gatehouse account if you forget your password.", ctx.recipient),
                "Open this link within 24 hours:".into(),
            ],
            action: Some(("Confirm my address".into(), link)),
            outro: vec!["If you did not create a Gatehouse account, ignore this e-mail.".into()],
        },
        MailKind::EmailChange => Content {
            subject: "Confirm your new e-mail address".into(),
            intro: vec![
                format!("The owner of a Gatehouse account asked to use {} as its address from now on.", ctx.recipient),
                "If that was you, open this link within 1 hour to make the change:".into(),
            ],
            action: Some(("Use this address".into(), link)),
            outro: vec![
                "If it was not you, ignore this e-mail: nothing changes.".into(),
                format!("Requested from: {device}, IP address {ip}, {when}."),
            ],
        },
        MailKind::AddressInUse => Content {
            subject: "Someone tried to use your e-mail address".into(),
            intro: vec![
                format!("Someone tried to use {} for a Gatehouse account, but it already belongs to your account. Nothing was changed.", ctx.recipient),
                "If it was you, sign in instead. Forgot your password? You can reset it from the sign-in page.".into(),
            ],
            action: Some(("Sign in".into(), page(paths::LOGIN))),
            outro: vec![origin],
        },
        MailKind::NewDeviceSignIn => Content {
            subject: "New sign-in to your Gatehouse account".into(),
            intro: vec![
                format!("Your account was signed in from a device it had not used before: {device}."),
                format!("IP address: {ip}. Time: {when}."),
                "If this was you, there is nothing to do. If not, sign that device out and change your password.".into(),
            ],
            action: Some(devices),
            outro: vec![format!("You can turn these e-mails off on your account page: {}", page(paths::ACCOUNT))],
        },
        MailKind::PasswordChanged => Content {
            subject: "Your Gatehouse password was changed".into(),
            intro: vec![
                "The password of your Gatehouse account was changed, and every other device was signed out.".into(),
                origin,
                format!("If this was not you, reset your password now: {}", page(paths::FORGOT)),
            ],
            action: Some(devices),
            outro: vec![],
        },
        MailKind::EmailChanged => Content {
            subject: "Your Gatehouse e-mail address was changed".into(),
            intro: vec![
                format!("The address of your Gatehouse account was changed from {} to {new_email}. Mail about the account now goes there.", ctx.recipient),
                origin,
                "If this was not you, someone may have your password: sign in, sign out the devices you do not know and change your password.".into(),
            ],
            action: Some(devices),
            outro: vec![],
        },
        MailKind::SecondFactorDisabled => Content {
            subject: "Two-step sign-in was turned off".into(),
            intro: vec![
                "Two-step sign-in was turned off for your Gatehouse account: signing in now needs only the password.".into(),
                origin,
                "If this was not you, change your password and turn two-step sign-in on again.".into(),
            ],
            action: Some(devices),
            outro: vec![],
        },
        MailKind::PasskeyAdded => Content {
            subject: "A passkey was added to your account".into(),
            intro: vec![
                "A passkey was added to your Gatehouse account. It can sign in without your password.".into(),
                origin,
                "If this was not you, sign in, remove the passkey on your account page and change your password.".into(),
            ],
            action: Some(devices),
            outro: vec![],
        },
        MailKind::TokenReuse => Content {
            subject: "We signed out a device to protect your account".into(),
            intro: vec![
                format!("A sign-in token of {device} was used twice, which happens when it has been copied. We signed that device out."),
                format!("IP address of the second use: {ip}. Time: {when}."),
                "If you did not expect this, change your password and review your devices.".into(),
            ],
            action: Some(devices),
            outro: vec![],
        },
    }
}

fn to_text(content: &Content) -> String {
    let mut text = String::from("Hello,\n\n");
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
    text.push_str("— Gatehouse\n");
    text
}

fn to_html(content: &Content) -> String {
    let paragraph = |text: &str| {
        format!(
            "<p style=\"margin:0 0 16px;line-height:1.5\">{}</p>",
            escape(text)
        )
    };
    let mut body = String::new();
    body.push_str(&paragraph("Hello,"));
    for text in &content.intro {
        body.push_str(&paragraph(text));
    }
    if let Some((label, url)) = &content.action {
        let url = escape(url);
        body.push_str(&format!(
            "<p style=\"margin:24px 0\"><a href=\"{url}\" style=\"background:#3b4fd8;color:#ffffff;\
             padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600\">{}</a></p>\
             <p style=\"margin:0 0 16px;font-size:13px;color:#555\">Or copy this address into your browser: \
             <a href=\"{url}\">{url}</a></p>",
            escape(label)
        ));
    }
    for text in &content.outro {
        body.push_str(&paragraph(text));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#1c2033;max-width:560px;margin:0 auto;padding:24px\">\
         {body}<p style=\"margin:24px 0 0;color:#555\">— Gatehouse</p></body></html>",
        escape(&content.subject)
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
