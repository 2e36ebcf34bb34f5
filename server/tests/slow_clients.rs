//! Slow and idle clients are shed: connections that send half a request head, or sit
//! idle after a request, are closed within the header timeout, while real requests are
//! served as usual.

mod support;

use std::time::{Duration, Instant};

use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
            Ok(Ok(_)) => {} // a 408 answer before the close
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_cut_off_and_real_requests_still_served() {
    let server = TestServer::start(&[("HEADER_READ_TIMEOUT", "1s")]);
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..200 {
        slow.push(half_header(&addr).await);
    }
    // While they hang, a real request is served at once.
    let started = Instant::now();
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

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
