//! The accept loop: serves the router on a listener like `axum::serve`, plus the
//! connection limits that keep slow, idle or silent clients from holding sockets and
//! memory (slowloris). ARCHITECTURE: "Connections".
//!
//! - **First request deadline**: a connection whose first request head has not arrived
//!   within the header read timeout of its accept is dropped, whatever it sent (nothing,
//!   the HTTP/2 preface, half a head). hyper's own header timeout is HTTP/1-only and is
//!   armed only once hyper has told HTTP/1 from HTTP/2 by the first bytes, which waits
//!   without a timer.
//! - **Header read timeout** (HTTP/1): a request head must arrive complete within it. The
//!   same clock runs while a kept-alive connection waits for its next request, so idle
//!   connections are closed too.
//! - **Idle limit** (HTTP/2): a connection on which no request has been answered for the
//!   header read timeout is shut down gracefully (GOAWAY; open streams finish). Pings
//!   every header read timeout, unanswered for as long, close a connection whose peer is
//!   gone, and [`MAX_CONCURRENT_STREAMS`] bounds the requests one connection runs at once.
//! - **Request timeout**: a request (reading its body included) that takes longer is
//!   answered 408 and its connection closed. The timer is armed only once the request
//!   has to wait (`tokio::time::timeout` polls the request first): most answers are
//!   ready at their first poll and never touch the timer wheel, which tower-http's
//!   timeout layer did for every request (docs/PERFORMANCE.md).
//! - **Connection cap**: past it, new connections wait in the kernel's accept queue until
//!   one closes, instead of each taking a file descriptor and a task.
//! - **Per-client cap**: a client address holding its share of connections has further
//!   ones closed as soon as they are accepted, so one client cannot take every place
//!   under the connection cap and leave everyone else in the accept queue.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::router::App;

/// Streams one HTTP/2 connection may have open at once: the least RFC 9113 recommends
/// (hyper's default is 200), since each is a request running on the server and the
/// connection caps count connections, not requests.
pub const MAX_CONCURRENT_STREAMS: u32 = 100;

/// How long and how many connections are allowed.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time from accept to a complete first request head, to send any later request head
    /// (HTTP/1), and most time a connection may sit idle.
    pub header_read_timeout: Duration,
    /// Time for a whole request, body included.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Connections one client address may hold at once; 0 for no limit.
    pub max_connections_per_client: usize,
    /// Peers not held to `max_connections_per_client`: the trusted proxies, whose
    /// connections carry many clients.
    pub unlimited_peers: Vec<IpAddr>,
    /// How long shutdown waits for requests in progress.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in progress
/// finish (up to [`ConnectionLimits::shutdown_grace`]).
pub async fn serve(
    listener: TcpListener,
    app: App,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = Arc::new(PerClient::new(
        limits.max_connections_per_client,
        &limits.unlimited_peers,
    ));
    // Every connection's task holds a receiver: `closing.closed()` resolves once all
    // have ended.
    let (closing, _) = watch::channel(());
    let builder = builder(&limits);
    let request_limit = limits.request_timeout;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or the peer gave up mid-handshake: wait a
                    // moment rather than spin, and go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Dropping the stream closes it; the permit goes back for the next accept.
        let Some(place) = per_client.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection closed: the client holds its share of connections");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = service_fn({
            let app = app.clone();
            let activity = Arc::clone(&activity);
            move |request: http::Request<Incoming>| {
                let in_flight = activity.request_arrived(request.version());
                let app = app.clone();
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                async move {
                    // Boxed: the answer's future is a few kilobytes, and hyper moves the
                    // future it is given as it polls it; a pointer moves for free
                    // (docs/PERFORMANCE.md, "A fork's own route").
                    let answer = Box::pin(app.serve(request));
                    let answer = tokio::time::timeout(request_limit, answer).await;
                    drop(in_flight);
                    Ok::<_, Infallible>(answer.unwrap_or_else(|_| request_timeout()))
                }
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let mut closing = closing.subscribe();
        let header_read_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let ended = within_deadlines(connection, &activity, header_read_timeout, &mut closing);
            if let Err(err) = ended.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop((permit, place));
        });
    }
    drop(listener);
    closing.send_replace(());
    tokio::select! {
        () = closing.closed() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("requests still running at shutdown were cut off");
        }
    }
}

/// hyper's connection settings: HTTP/1's header timeout, HTTP/2's pings and stream limit.
fn builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .keep_alive_interval(limits.header_read_timeout)
        .keep_alive_timeout(limits.header_read_timeout);
    builder
}

/// Runs `connection` to its end, or drops it when its first request head is late, and
/// shuts it down gracefully when it idles too long (HTTP/2) or the server stops.
async fn within_deadlines<C: GracefulConnection>(
    connection: C,
    activity: &Activity,
    limit: Duration,
    closing: &mut watch::Receiver<()>,
) -> Result<(), C::Error> {
    tokio::pin!(connection);
    let overstay = activity.overstay(limit);
    tokio::pin!(overstay);
    let mut overstayed = false;
    let mut shutting_down = false;
    loop {
        tokio::select! {
            ended = connection.as_mut() => return ended,
            reason = &mut overstay, if !overstayed => {
                overstayed = true;
                match reason {
                    // Nothing to finish: hyper has not started a request on it.
                    Overstay::NoRequest => return Ok(()),
                    Overstay::Idle if shutting_down => continue,
                    Overstay::Idle => {}
                }
            }
            // `Err` once the accept loop is gone: shut down all the same.
            _ = closing.changed(), if !shutting_down => {}
        }
        shutting_down = true;
        connection.as_mut().graceful_shutdown();
    }
}

/// Why a connection's time is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overstay {
    /// No request head arrived within the limit of the accept.
    NoRequest,
    /// HTTP/2: no request has been running for the limit.
    Idle,
}

/// No request has arrived yet.
const FIRST_REQUEST_AWAITED: u8 = 0;
/// Speaks HTTP/1: hyper's header read timeout takes over.
const SPEAKS_HTTP1: u8 = 1;
/// Speaks HTTP/2: [`Activity::overstay`] watches for idleness.
const SPEAKS_HTTP2: u8 = 2;

/// What one connection's deadlines look at, written by its service as requests come
/// and go.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// [`FIRST_REQUEST_AWAITED`], [`SPEAKS_HTTP1`] or [`SPEAKS_HTTP2`].
    protocol: AtomicU8,
    /// HTTP/2 requests being answered.
    in_flight: AtomicU32,
    /// HTTP/2: when `in_flight` last fell to zero, in nanoseconds since `opened`.
    idle_since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            protocol: AtomicU8::new(FIRST_REQUEST_AWAITED),
            in_flight: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    /// Notes a request head; for HTTP/2, the request counts as running until the
    /// returned guard is dropped. HTTP/1 needs no count: hyper's header read timeout
    /// covers its waits between requests.
    fn request_arrived(self: &Arc<Self>, version: http::Version) -> Option<InFlight> {
        if version != http::Version::HTTP_2 {
            self.protocol.store(SPEAKS_HTTP1, Ordering::Relaxed);
            return None;
        }
        self.protocol.store(SPEAKS_HTTP2, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Some(InFlight(Arc::clone(self)))
    }

    /// Resolves when the connection has overstayed `limit`: no request head within it of
    /// the accept, or (HTTP/2) no request running for that long. Never for HTTP/1 once a
    /// request has arrived.
    async fn overstay(&self, limit: Duration) -> Overstay {
        let mut check_at = self.opened + limit;
        loop {
            tokio::time::sleep_until(check_at).await;
            match self.protocol.load(Ordering::Relaxed) {
                FIRST_REQUEST_AWAITED => return Overstay::NoRequest,
                SPEAKS_HTTP1 => return std::future::pending().await,
                _ => {}
            }
            let now = Instant::now();
            if self.in_flight.load(Ordering::Acquire) > 0 {
                check_at = now + limit;
                continue;
            }
            let idle_since =
                self.opened + Duration::from_nanos(self.idle_since.load(Ordering::Acquire));
            if idle_since + limit <= now {
                return Overstay::Idle;
            }
            check_at = idle_since + limit;
        }
    }
}

/// An HTTP/2 request being answered; dropped when its answer is ready or the stream is
/// reset.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            let since = u64::try_from(activity.opened.elapsed().as_nanos()).unwrap_or(u64::MAX);
            activity.idle_since.store(since, Ordering::Release);
        }
    }
}

/// Connections open per client, to hold each client to `MAX_CONNECTIONS_PER_CLIENT`.
/// An entry exists only while its client has a connection open, so the map is no larger
/// than the connections served.
#[derive(Debug)]
struct PerClient {
    /// 0: no limit.
    limit: usize,
    unlimited: Vec<IpAddr>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerClient {
    fn new(limit: usize, unlimited: &[IpAddr]) -> Self {
        Self {
            limit,
            unlimited: unlimited.iter().map(IpAddr::to_canonical).collect(),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more connection from `peer`, held until the returned guard is
    /// dropped; `None` when the client already holds its share.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<ClientPlace> {
        let peer = peer.to_canonical();
        if self.limit == 0 || self.unlimited.contains(&peer) {
            return Some(ClientPlace(None));
        }
        let client = client_of(peer);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let held = open.entry(client).or_insert(0);
        if *held >= self.limit {
            return None;
        }
        *held += 1;
        Some(ClientPlace(Some((Arc::clone(self), client))))
    }

    /// Connections `peer`'s client holds now.
    #[cfg(test)]
    fn held(&self, peer: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&client_of(peer.to_canonical()))
            .copied()
            .unwrap_or(0)
    }
}

/// The client an address belongs to: an IPv4 address on its own, an IPv6 address with
/// the rest of its /64 (the least one subscriber or host is given, and what it can
/// change its address within at will).
fn client_of(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
    }
}

/// One connection's place in [`PerClient`], given back when dropped (`None`: a peer
/// without a limit).
struct ClientPlace(Option<(Arc<PerClient>, IpAddr)>);

impl Drop for ClientPlace {
    fn drop(&mut self) {
        let Some((per_client, client)) = self.0.take() else {
            return;
        };
        let mut open = per_client
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = open.get_mut(&client) {
            *held -= 1;
            if *held == 0 {
                open.remove(&client);
            }
        }
    }
}

/// The answer to a request that ran past [`ConnectionLimits::request_timeout`].
fn request_timeout() -> Response {
    http::StatusCode::REQUEST_TIMEOUT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_is_an_ipv4_address_or_an_ipv6_slash_64() {
        assert_eq!(client_of(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            client_of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(client_of(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
    }

    #[test]
    fn a_client_holds_at_most_its_share_and_gets_places_back_as_they_close() {
        let per_client = Arc::new(PerClient::new(2, &[]));
        let first = per_client.admit(ip("2001:db8::1")).unwrap();
        let _second = per_client.admit(ip("2001:db8::2")).unwrap();
        assert!(
            per_client.admit(ip("2001:db8::3")).is_none(),
            "the same /64"
        );
        assert!(per_client.admit(ip("2001:db8:0:1::1")).is_some());
        let _v4 = per_client.admit(ip("192.0.2.7")).unwrap();
        let _mapped = per_client.admit(ip("::ffff:192.0.2.7")).unwrap();
        assert!(per_client.admit(ip("192.0.2.7")).is_none());
        drop(first);
        assert_eq!(per_client.held(ip("2001:db8::9")), 1);
        assert!(per_client.admit(ip("2001:db8::3")).is_some());
    }

    #[test]
    fn closed_clients_leave_no_entry() {
        let per_client = Arc::new(PerClient::new(2, &[]));
        let places: Vec<_> = ["192.0.2.1", "192.0.2.1", "192.0.2.2", "2001:db8::1"]
            .into_iter()
            .map(|peer| per_client.admit(ip(peer)).unwrap())
            .collect();
        assert_eq!(per_client.open.lock().unwrap().len(), 3);
        drop(places);
        assert!(per_client.open.lock().unwrap().is_empty());
    }

    #[test]
    fn trusted_proxies_and_a_zero_limit_are_not_counted() {
        let per_client = Arc::new(PerClient::new(1, &[ip("10.0.0.1")]));
        let _held: Vec<_> = (0..5)
            .map(|_| per_client.admit(ip("::ffff:10.0.0.1")).unwrap())
            .collect();
        assert_eq!(per_client.held(ip("10.0.0.1")), 0);
        let off = Arc::new(PerClient::new(0, &[]));
        let _held: Vec<_> = (0..5)
            .map(|_| off.admit(ip("192.0.2.7")).unwrap())
            .collect();
        assert!(off.open.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_overstays_at_the_limit() {
        let activity = Arc::new(Activity::new());
        let started = Instant::now();
        let limit = Duration::from_secs(10);
        assert_eq!(activity.overstay(limit).await, Overstay::NoRequest);
        assert_eq!(started.elapsed(), limit);
    }

    #[tokio::test(start_paused = true)]
    async fn http1_connections_are_left_to_hyper_after_their_first_request() {
        let activity = Arc::new(Activity::new());
        assert!(activity.request_arrived(http::Version::HTTP_11).is_none());
        let limit = Duration::from_secs(10);
        let waited = tokio::time::timeout(limit * 5, activity.overstay(limit)).await;
        assert!(waited.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn an_http2_connection_is_idle_once_no_request_ran_for_the_limit() {
        let activity = Arc::new(Activity::new());
        let limit = Duration::from_secs(10);
        let request = activity.request_arrived(http::Version::HTTP_2);
        let watch = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.overstay(limit).await }
        });
        // A request running past several limits keeps it open...
        tokio::time::sleep(limit * 3).await;
        assert!(!watch.is_finished());
        let answered = Instant::now();
        drop(request);
        // ...and the idle clock starts when it is answered.
        assert_eq!(watch.await.unwrap(), Overstay::Idle);
        assert_eq!(answered.elapsed(), limit);
    }
}
