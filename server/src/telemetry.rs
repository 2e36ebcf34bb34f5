//! Logging: one `tracing` subscriber for the process, and the request each line belongs to.
//!
//! Every line logged while a request is being served names that request, its id, method
//! and path (`request{id=… method=GET path=/devices}:`), so all the lines of one request
//! can be found together and matched with its `x-request-id`. The request is kept in a
//! task-local ([`in_request`]) that the line format ([`Line`]) reads. It used to be a
//! `tracing` span, which the subscriber registered, formatted and entered on every poll of
//! every request, for the few requests that log anything (docs/PERFORMANCE.md). The task-local reaches exactly what the span reached: the
//! request's own future, not tasks it spawns or blocking threads. A fork that exports
//! spans (OpenTelemetry, say) can open its own inside [`in_request`]; [`Line`] writes any
//! span an event is in after the request.

use std::fmt;
use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, Uri};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{
    FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter, SubscriberBuilder,
};
use tracing_subscriber::registry::LookupSpan;

use crate::error::StartupError;

tokio::task_local! {
    /// The request the current task is serving (see [`in_request`]).
    static REQUEST: ServedRequest;
}

/// Installs the global log subscriber with the filter from `LOG_LEVEL`.
///
/// Logs go to stderr so stdout stays free for command output (`server keygen`).
pub fn init(filter: &str) -> Result<(), StartupError> {
    let filter = EnvFilter::try_new(filter).map_err(|e| StartupError::LogLevel {
        value: filter.to_owned(),
        reason: e.to_string(),
    })?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A second call (e.g. in tests) keeps the first subscriber; that is fine.
    let _ = subscriber(filter, std::io::stderr, ansi).try_init();
    Ok(())
}

/// The subscriber [`init`] installs, writing to `writer` (tests capture it).
fn subscriber<W>(
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> SubscriberBuilder<DefaultFields, Line, EnvFilter, W>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .event_format(Line)
}

/// Serves a request (the future `serve`) as the request with `id`, `method` and `uri`:
/// every line it logs names it.
pub async fn in_request<F: Future>(
    id: HeaderValue,
    method: Method,
    uri: Uri,
    serve: F,
) -> F::Output {
    REQUEST
        .scope(ServedRequest { id, method, uri }, serve)
        .await
}

/// A request being served, as its log lines name it. Nothing in it can carry a control
/// character into the log: a header value's text is visible ASCII (any other id is
/// written as `-`), a method is a token and a path is percent-encoded.
struct ServedRequest {
    id: HeaderValue,
    method: Method,
    uri: Uri,
}

impl fmt::Display for ServedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "request{{id={} method={} path={}}}",
            self.id.to_str().unwrap_or("-"),
            self.method,
            self.uri.path()
        )
    }
}

/// The access log line of a response, in its request (see [`in_request`]): an error for a
/// server error, else at info level. Its target is `access`, so
/// `LOG_LEVEL=info,access=warn` keeps the application's own info lines without one line
/// per request.
pub fn log_response(status: StatusCode, latency: Duration) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::error!(target: "access", status = status.as_u16(), latency_ms, "response failed");
    } else {
        tracing::info!(target: "access", status = status.as_u16(), latency_ms, "finished processing request");
    }
}

/// The format of a log line: the time, the level, the request being served (if any), the
/// spans the event is in (if any), then the message and fields, as `tracing-subscriber`'s
/// default format writes them.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        let level = *event.metadata().level();
        if writer.has_ansi_escapes() {
            write!(
                writer,
                " \x1b[{}m{:>5}\x1b[0m ",
                colour(level),
                level.as_str()
            )?;
        } else {
            write!(writer, " {:>5} ", level.as_str())?;
        }
        REQUEST
            .try_with(|request| write!(writer, "{request}: "))
            .unwrap_or(Ok(()))?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_str(": ")?;
            }
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The ANSI colour of a level on a terminal, the default format's.
fn colour(level: Level) -> &'static str {
    match level {
        Level::ERROR => "31",
        Level::WARN => "33",
        Level::INFO => "32",
        Level::DEBUG => "34",
        Level::TRACE => "35",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A log writer into memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    #[tokio::test]
    async fn the_lines_of_a_request_name_it_and_no_other_line_does() {
        let captured = Captured::default();
        let filter = EnvFilter::new("info");
        let _default =
            tracing::subscriber::set_default(subscriber(filter, captured.clone(), false).finish());
        tracing::info!("before");
        let uri = "/api/session/viewer?x=1".parse().unwrap();
        let id = HeaderValue::from_static("id-42");
        let answer = in_request(id, Method::POST, uri, async {
            tracing::warn!(code = 7, "first");
            tokio::task::yield_now().await;
            tracing::info_span!("job", n = 3).in_scope(|| tracing::error!("second"));
            tracing::debug!("filtered out");
            "done"
        })
        .await;
        assert_eq!(answer, "done");
        tracing::info!("after");

        let lines = captured.lines();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        let request = "request{id=id-42 method=POST path=/api/session/viewer}: ";
        assert!(lines[0].ends_with("Z  INFO before"), "{}", lines[0]);
        assert!(
            lines[1].ends_with(&format!("Z  WARN {request}first code=7")),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].ends_with(&format!("Z ERROR {request}job{{n=3}}: second")),
            "a span inside the request follows it: {}",
            lines[2]
        );
        assert!(lines[3].ends_with("Z  INFO after"), "{}", lines[3]);
        chrono::DateTime::parse_from_rfc3339(lines[0].split(' ').next().unwrap())
            .expect("each line starts with its time");
    }

    #[tokio::test]
    async fn an_id_that_is_not_visible_text_is_logged_as_a_dash() {
        let captured = Captured::default();
        let _default = tracing::subscriber::set_default(
            subscriber(EnvFilter::new("info"), captured.clone(), false).finish(),
        );
        let id = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
        in_request(id, Method::GET, Uri::from_static("/"), async {
            tracing::info!("x");
        })
        .await;
        assert!(
            captured.lines()[0].ends_with("request{id=- method=GET path=/}: x"),
            "{:?}",
            captured.lines()
        );
    }
}
