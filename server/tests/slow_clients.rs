//! Slow, idle and silent clients are shed: connections that send nothing, only the
//! HTTP/2 preface or half a request head, or sit idle after a request, are closed within
//! the header timeout; one client address holds no more than its share of connections;
//! real requests from everyone else are served as usual.

#[path = "integration/support/mod.rs"]
mod support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The client every test floods from (the default source address).
const FLOODER: &str = "127.0.0.1";
/// Another client: all of 127.0.0.0/8 is the loopback interface on Linux.
const OTHER: &str = "127.0.0.2";

/// What an HTTP/2 client sends first, before any frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The server's `host:port`.
fn addr_of(server: &TestServer) -> SocketAddr {
    server
        .base_url
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

/// A connection to `server` from the source address `from`.
async fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    tokio::time::timeout(Duration::from_secs(3), socket.connect(server))
        .await
        .expect("the server's accept queue is full: connecting took over 3 s")
        .unwrap()
}

/// `GET /healthz` on a new connection from `from`: how long until the status line came,
/// or `None` if it did not within a second or was not 200.
async fn healthz_from(from: &str, server: SocketAddr) -> Option<Duration> {
    let started = Instant::now();
    let exchange = async {
        let mut stream = connect_from(from, server).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        (&head == b"HTTP/1.1 200").then(|| started.elapsed())
    };
    tokio::time::timeout(Duration::from_secs(1), exchange)
        .await
        .ok()
        .flatten()
}

/// `GET /healthz` from [`OTHER`] every 100 ms, in the background until [`Probe::finish`].
struct Probe {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Result<(Duration, usize), String>>,
}

impl Probe {
    fn start(server: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = Arc::clone(&stop);
            async move {
                let (mut slowest, mut asked) = (Duration::ZERO, 0);
                while !stop.load(Ordering::Relaxed) {
                    let Some(took) = healthz_from(OTHER, server).await else {
                        return Err(format!(
                            "GET /healthz from {OTHER} not answered 200 within 1 s (after {asked} that were)"
                        ));
                    };
                    slowest = slowest.max(took);
                    asked += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok((slowest, asked))
            }
        });
        Self { stop, task }
    }

    /// The slowest answer and the number asked, or the first that failed (not a 200
    /// within a second).
    async fn finish(self) -> Result<(Duration, usize), String> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap()
    }
}

/// Makes sure this process may open `needed` files (sockets), raising its soft limit
/// towards the hard one with util-linux's `prlimit` if it is lower (the lints forbid the
/// `unsafe` a direct `setrlimit` would need).
fn allow_open_files(needed: u64) {
    fn soft_limit() -> Option<(u64, u64)> {
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        let mut numbers = line["Max open files".len()..]
            .split_whitespace()
            .map(|n| n.parse::<u64>().unwrap_or(u64::MAX));
        Some((numbers.next()?, numbers.next()?))
    }
    let Some((soft, hard)) = soft_limit() else {
        return;
    };
    if soft < needed {
        let _ = std::process::Command::new("prlimit")
            .arg(format!("--pid={}", std::process::id()))
            .arg(format!("--nofile={}:", needed.min(hard)))
            .status();
    }
    let soft = soft_limit().map_or(soft, |(soft, _)| soft);
    assert!(
        soft >= needed,
        "this test opens about {needed} sockets but may open only {soft} files: raise `ulimit -n`"
    );
}

/// Opens `count` connections from [`FLOODER`] that send `first` (maybe nothing) and then
/// nothing more; returns how long after opening each was closed by the server (`None`:
/// still open after 5 s).
async fn flood(server: SocketAddr, count: usize, first: &'static [u8]) -> Vec<Option<Duration>> {
    let mut watching = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = connect_from(FLOODER, server).await;
        // A connection already closed by the server may refuse the write.
        let _ = stream.write_all(first).await;
        watching.push(tokio::spawn(closed_within(stream, Duration::from_secs(5))));
    }
    let mut closed = Vec::with_capacity(count);
    for task in watching {
        closed.push(task.await.unwrap());
    }
    closed
}

/// One line on how a flood of connections was closed.
fn summary(what: &str, closed: &[Option<Duration>]) -> String {
    let open = closed.iter().filter(|c| c.is_none()).count();
    let at_once = closed
        .iter()
        .flatten()
        .filter(|c| **c < Duration::from_millis(500))
        .count();
    let slowest = closed.iter().flatten().max().copied().unwrap_or_default();
    format!(
        "{what}: {} connections, {at_once} closed within 0.5 s, {} later (the last after {slowest:?}), {open} still open after 5 s",
        closed.len(),
        closed.len() - open - at_once,
    )
}

/// Opens a connection and sends half a request head, as slowloris does.
async fn half_header(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// Waits until the server closes `stream`; returns how long that took, or `None` if it
/// is still open after `limit`.
async fn closed_within(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {} // a 408 answer, or HTTP/2 settings, before the close
        }
    }
}

/// Whether `stream` is still open after `wait` (the server neither closed it nor wrote).
async fn still_open(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    tokio::time::timeout(wait, stream.read(&mut buf))
        .await
        .is_err()
}

/// 1,100 connections from one client that send not a byte, then 1,100 that send only
/// the HTTP/2 preface: more than `MAX_CONNECTIONS` (1000) each. Every one is closed
/// within the header timeout and a second (most at once, over the client's share of
/// connections), and another client is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_preface_only_connections_are_shed_while_others_are_served() {
    // Each flood's sockets at both ends, the probe's, the server's own files.
    allow_open_files(2_600);
    let server = TestServer::start(&[("HEADER_READ_TIMEOUT", "1s")]);
    let addr = addr_of(&server);
    let probe = Probe::start(addr);

    let started = Instant::now();
    let silent = flood(addr, 1_100, b"").await;
    let preface = flood(addr, 1_100, H2_PREFACE).await;
    let probed = probe.finish().await;
    let report = format!(
        "{}\n{}\nGET /healthz from {OTHER} meanwhile: {probed:?}\n(all in {:?})",
        summary("sending nothing", &silent),
        summary("sending the HTTP/2 preface", &preface),
        started.elapsed()
    );
    eprintln!("{report}");
    let in_time = |closed: &[Option<Duration>]| {
        closed
            .iter()
            .all(|c| c.is_some_and(|c| c < Duration::from_secs(2)))
    };
    assert!(in_time(&silent) && in_time(&preface), "{report}");
    let (slowest, asked) = probed.unwrap_or_else(|err| panic!("{err}\n{report}"));
    assert!(slowest < Duration::from_secs(1) && asked >= 3, "{report}");
}

/// `MAX_CONNECTIONS_PER_CLIENT`: the 51st connection of a client holding 50 is closed
/// at once, another client is served meanwhile, and a place closed is a place free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_holds_no_more_than_its_share_of_connections() {
    let server = TestServer::start(&[
        ("HEADER_READ_TIMEOUT", "10s"),
        ("MAX_CONNECTIONS_PER_CLIENT", "50"),
    ]);
    let addr = addr_of(&server);
    let mut held = Vec::new();
    for _ in 0..50 {
        held.push(connect_from(FLOODER, addr).await);
    }
    for (i, stream) in held.iter_mut().enumerate() {
        assert!(
            still_open(stream, Duration::from_millis(20)).await,
            "connection {} of 50 was closed",
            i + 1
        );
    }
    let one_more = connect_from(FLOODER, addr).await;
    let closed = closed_within(one_more, Duration::from_secs(2)).await;
    assert!(
        closed.is_some_and(|c| c < Duration::from_millis(500)),
        "the 51st connection from {FLOODER} was not closed at once: {closed:?}"
    );
    let took = healthz_from(OTHER, addr).await;
    eprintln!("the 51st connection was closed after {closed:?}; {OTHER} was served in {took:?}");
    assert!(took.is_some(), "{OTHER} was not served");
    for stream in &mut held {
        assert!(
            still_open(stream, Duration::ZERO).await,
            "a held connection was closed"
        );
    }

    // Closing one gives its place back (once the server has seen the close).
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(2);
    while healthz_from(FLOODER, addr).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "{FLOODER} still refused after closing one of its connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An HTTP/2 connection (`h2c` with prior knowledge) on which no request runs for the
/// header timeout is shut down, as an idle HTTP/1 connection is by hyper's timeout.
#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let server = TestServer::start(&[("HEADER_READ_TIMEOUT", "1s")]);
    let stream = TcpStream::connect(addr_of(&server)).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    for _ in 0..3 {
        let request = http::Request::get(server.url("/healthz"))
            .body(Empty::<bytes::Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            r#"{"status":"ok"}"#
        );
    }
    let answered = Instant::now();
    // `sender` stays alive: the client would close an unused connection itself.
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    let waited = answered.elapsed();
    eprintln!("the idle HTTP/2 connection ended {waited:?} after its last answer");
    assert!(
        ended.is_ok() && waited < Duration::from_secs(2),
        "the idle HTTP/2 connection was still open after {waited:?}"
    );
}

/// The server's HTTP/2 settings bound the streams one connection may run at once.
#[tokio::test]
async fn http2_connections_are_limited_to_100_streams() {
    let server = TestServer::start(&[]);
    let mut stream = TcpStream::connect(addr_of(&server)).await.unwrap();
    // The preface and an empty SETTINGS frame (length 0, type 4, no flags, stream 0).
    stream.write_all(H2_PREFACE).await.unwrap();
    stream
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .unwrap();
    let mut header = [0u8; 9];
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(header[3], 4, "the server's first frame is its SETTINGS");
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.unwrap();
    let settings: Vec<(u16, u32)> = payload
        .chunks_exact(6)
        .map(|s| {
            (
                u16::from_be_bytes([s[0], s[1]]),
                u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
            )
        })
        .collect();
    // SETTINGS_MAX_CONCURRENT_STREAMS is 0x3.
    let streams = settings.iter().find(|(id, _)| *id == 3).map(|(_, v)| *v);
    assert_eq!(streams, Some(100), "{settings:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_cut_off_and_real_requests_still_served() {
    let server = TestServer::start(&[("HEADER_READ_TIMEOUT", "1s")]);
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..200 {
        slow.push(half_header(&addr).await);
    }
    // While they hang, a real request from another client is served at once (this one
    // holds its share of connections).
    let took = healthz_from(OTHER, addr_of(&server)).await;
    assert!(took.is_some(), "not served within a second");

    let waits = futures_wait(slow).await;
    assert!(
        waits
            .iter()
            .all(|w| w.is_some_and(|w| w < Duration::from_secs(3))),
        "slow connections left open: {} of {}",
        waits.iter().filter(|w| w.is_none()).count(),
        waits.len()
    );
}

async fn futures_wait(streams: Vec<TcpStream>) -> Vec<Option<Duration>> {
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|s| tokio::spawn(closed_within(s, Duration::from_secs(5))))
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let server = TestServer::start(&[("HEADER_READ_TIMEOUT", "1s")]);
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Then nothing: the server hangs up.
    let waited = closed_within(stream, Duration::from_secs(5)).await;
    assert!(
        waited.is_some_and(|w| w < Duration::from_secs(3)),
        "{waited:?}"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let server = TestServer::start(&[("HEADER_READ_TIMEOUT", "1s"), ("MAX_CONNECTIONS", "5")]);
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..5 {
        slow.push(half_header(&addr).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The sixth is not served while five are held...
    let started = Instant::now();
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), 200);
    // ...but as soon as the timeout frees a place.
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    drop(slow);
}

/// A request that stops sending its body is answered 408 once `REQUEST_TIMEOUT` has
/// passed, even though its head arrived in time (the header timeout does not cover the
/// body). The timer is armed only when a request has to wait: this one waits on its
/// body.
#[tokio::test]
async fn a_request_whose_body_stalls_is_answered_408() {
    let server = TestServer::start(&[("REQUEST_TIMEOUT", "1s"), ("HEADER_READ_TIMEOUT", "10s")]);
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("no answer within 5 s")
        .unwrap();
    let waited = started.elapsed();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}
