//! Throttle keys cannot grow memory: addresses that are not addresses are refused
//! before they become keys. Alone in its test binary, so the process's memory is the
//! server's and nothing else runs beside it.

#[path = "integration/support/mod.rs"]
mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use support::TestServer;

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Asks for a reset for `email` (not an address: 12 KB of letters); it must be a 400.
async fn refused_reset(server: &TestServer, email: String) {
    let response = server
        .http
        .post(server.url("/api/recovery/forgot"))
        .form(&[("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_huge_addresses_leave_no_counters_and_no_memory_behind() {
    let server = Arc::new(TestServer::start(&[("TRUSTED_PROXIES", "127.0.0.1")]));
    let big = "a".repeat(12_000);
    // Warm up the allocator and the connection pool on the same path.
    for i in 0..200 {
        refused_reset(&server, format!("{big}{i}@example.com")).await;
    }
    let (rss_before, counters_before) = (
        rss(),
        server.state().server.auth.guard.throttle().memory_len(),
    );
    let lanes: Vec<_> = (0..8)
        .map(|lane| {
            let server = Arc::clone(&server);
            let big = big.clone();
            tokio::spawn(async move {
                for i in 0..1250 {
                    refused_reset(&server, format!("{big}{lane}x{i}@example.com")).await;
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
    assert_eq!(
        server.state().server.auth.guard.throttle().memory_len(),
        counters_before,
        "an address refused as invalid leaves no counter"
    );
    let grown = rss().saturating_sub(rss_before);
    assert!(
        grown < 10 * 1024 * 1024,
        "memory grew by {} KiB",
        grown / 1024
    );
}
