//! `/dev/mailbox`: the development mailbox. In development mode without `SMTP_URL`, mail
//! does not leave the machine; the outbox keeps each message, and these pages list and
//! show them with clickable links, so `make run` needs no mail server. The routes exist
//! only then: in production mode (which requires `SMTP_URL`) they are not mounted.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use app::mail::render::escape;
use app::paths::DEV_MAILBOX;
use app::store::models::OutboxMail;
use app::store::outbox;

use crate::state::AppState;

/// Messages listed, newest first.
const LISTED: i64 = 100;

/// The mailbox's routes, answered only on this machine (see [`only_local`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(DEV_MAILBOX, get(list))
        .route(&format!("{DEV_MAILBOX}/{{id}}"), get(show))
        .route(&format!("{DEV_MAILBOX}/{{id}}/html"), get(show_html))
        .route_layer(axum::middleware::from_fn(only_local))
}

/// The mailbox shows reset links in clear, so it answers only a loopback peer that
/// asked for a loopback host: not another machine (a server bound to `0.0.0.0`), not a
/// web page that pointed its own host name at 127.0.0.1 (DNS rebinding, whose requests
/// carry that page's host name), and not a request relayed by a proxy or tunnel on this
/// machine (it says so in `Forwarded` or `X-Forwarded-*`). Anything else gets a plain
/// 404.
async fn only_local(
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let relayed = [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-real-ip",
    ]
    .iter()
    .any(|name| request.headers().contains_key(*name));
    if peer.ip().is_loopback() && is_loopback_host(host) && !relayed {
        next.run(request).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn list(State(state): State<AppState>) -> Response {
    let mails = match state
        .db
        .run(|conn| Ok(outbox::delivered_copies(conn, LISTED)?))
        .await
    {
        Ok(mails) => mails,
        Err(err) => return unavailable(&err.to_string()),
    };
    let rows: String = mails
        .iter()
        .map(|mail| {
            format!(
                "<li class=\"card mailbox__item\"><a href=\"{DEV_MAILBOX}/{id}\"><strong>{subject}</strong></a>\
                 <br><span class=\"muted\">To {to} · {at} UTC</span></li>",
                id = escape(&mail.id),
                subject = escape(mail.subject.as_deref().unwrap_or_default()),
                to = escape(&mail.recipient),
                at = mail.created_at.format("%Y-%m-%d %H:%M:%S"),
            )
        })
        .collect();
    let body = if rows.is_empty() {
        "<p class=\"card\">No mail yet. Sign up, or ask for a password reset, and it appears here.</p>"
            .to_owned()
    } else {
        format!("<ul class=\"mailbox\" aria-label=\"Messages\">{rows}</ul>")
    };
    page(
        "Development mailbox",
        &format!(
            "<h1>Development mailbox</h1><p class=\"lead\">Mail Gatehouse would have sent. \
             Set SMTP_URL to deliver real mail; this page does not exist in production.</p>{body}"
        ),
    )
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let mail = match find(&state, id).await {
        Ok(mail) => mail,
        Err(response) => return response,
    };
    let text = linkify(mail.text_body.as_deref().unwrap_or_default());
    page(
        mail.subject.as_deref().unwrap_or_default(),
        &format!(
            "<p><a href=\"{DEV_MAILBOX}\">← All mail</a></p><article class=\"card\">\
             <h1>{subject}</h1><p class=\"muted\">To {to} · {at} UTC · <a href=\"{DEV_MAILBOX}/{id}/html\">View as HTML</a></p>\
             <pre class=\"mailbox__text\" data-testid=\"mail-text\">{text}</pre></article>",
            subject = escape(mail.subject.as_deref().unwrap_or_default()),
            to = escape(&mail.recipient),
            at = mail.created_at.format("%Y-%m-%d %H:%M:%S"),
            id = escape(&mail.id),
        ),
    )
}

/// The HTML body as the mail client would show it, sandboxed: no scripts, no forms,
/// nothing from elsewhere but what a mail may carry.
async fn show_html(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let mail = match find(&state, id).await {
        Ok(mail) => mail,
        Err(response) => return response,
    };
    let mut response = Html(mail.html_body.unwrap_or_default()).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox allow-popups allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        ),
    );
    response
}

async fn find(state: &AppState, id: String) -> Result<OutboxMail, Response> {
    match state.db.run(move |conn| Ok(outbox::find(conn, &id)?)).await {
        Ok(Some(mail)) if mail.subject.is_some() => Ok(mail),
        Ok(_) => Err((
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>No such message</h1>"),
        )
            .into_response()),
        Err(err) => Err(unavailable(&err.to_string())),
    }
}

/// Escapes `text` and turns every http(s) URL in it into a link.
fn linkify(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                let url = escape(trimmed);
                format!("<a href=\"{url}\">{url}</a>{}", &word[trimmed.len()..])
            } else {
                escape(word)
            }
        })
        .collect()
}

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>{} · Gatehouse</title><link rel=\"stylesheet\" href=\"/pkg/{}.css\"></head>\
         <body><main class=\"container\">{body}</main></body></html>",
        escape(title),
        app::SITE_NAME
    ))
    .into_response()
}

fn unavailable(reason: &str) -> Response {
    tracing::warn!(%reason, "development mailbox: database unavailable");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        page("Unavailable", "<h1>The database is not answering</h1>"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_are_local() {
        for local in [
            "localhost",
            "LOCALHOST:3000",
            "127.0.0.1",
            "127.0.0.1:3000",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(is_loopback_host(local), "{local}");
        }
        for other in [
            "",
            "evil.example",
            "localhost.evil.example",
            "10.0.0.5:3000",
            "[2001:db8::1]:80",
        ] {
            assert!(!is_loopback_host(other), "{other}");
        }
    }

    #[test]
    fn urls_become_links_and_everything_is_escaped() {
        let html = linkify("Open this:\nhttp://127.0.0.1:3000/reset?token=a_b-c\n<b>x</b>");
        assert!(html.contains(
            "<a href=\"http://127.0.0.1:3000/reset?token=a_b-c\">http://127.0.0.1:3000/reset?token=a_b-c</a>\n"
        ));
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
    }
}
