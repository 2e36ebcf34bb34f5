//! Two server instances on one PostgreSQL database with one key set, as behind a load
//! balancer: tokens are accepted across instances, a revocation through one is seen by
//! the other within a second, and concurrent refreshes of one token on both instances
//! leave exactly one chain.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use app::auth::events::EventKind;
use app::store::schema::{device_sessions, refresh_tokens, security_events};
use diesel::prelude::*;
use reqwest::StatusCode;
use support::{count, own_session_id, time_until_refused, two_instances};

#[tokio::test]
async fn a_session_started_on_one_instance_works_on_the_other() {
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let mut cookies = a.sign_up("ann@example.com").await;
    assert_eq!(b.me(&cookies).await, StatusCode::OK, "B accepts A's token");

    let refreshed = b.post("/api/auth/refresh", &cookies, &[]).await;
    assert_eq!(
        refreshed.status(),
        StatusCode::OK,
        "B rotates A's refresh token"
    );
    cookies.update(&refreshed);
    assert_eq!(a.me(&cookies).await, StatusCode::OK, "A accepts B's token");

    let phone = b.log_in("ann@example.com", "phone").await;
    let devices = a.post("/api/devices/list", &cookies, &[]).await;
    let body: serde_json::Value = devices.json().await.unwrap();
    assert_eq!(body["devices"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(a.me(&phone).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_instance_is_refused_by_the_other_within_a_second() {
    const DEVICES: usize = 40;
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let laptop = a.sign_up("ann@example.com").await;
    let mut lags = Vec::new();
    for i in 0..DEVICES {
        let phone = a.log_in("ann@example.com", &format!("phone {i}")).await;
        let id = own_session_id(&a, &phone).await;
        // B has verified (and cached) the phone's token before the revocation.
        assert_eq!(b.me(&phone).await, StatusCode::OK);
        // Revoke at varied moments of B's poll cycle; otherwise this loop falls into step
        // with it and measures one phase only.
        tokio::time::sleep(Duration::from_millis((i as u64 * 97) % 250)).await;

        let revoked = a
            .post("/api/devices/revoke", &laptop, &[("session_id", &id)])
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        lags.push(time_until_refused(&b, &phone, Duration::from_secs(3)).await);
    }
    lags.sort();
    let p50 = lags[DEVICES / 2];
    let p99 = lags[(DEVICES * 99).div_ceil(100) - 1];
    println!(
        "revocation through A refused by B after: p50 {p50:?}, p99 {p99:?}, max {:?} (n = {DEVICES})",
        lags[DEVICES - 1]
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
    assert_eq!(
        b.me(&laptop).await,
        StatusCode::OK,
        "other sessions unaffected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_refreshes_across_instances_leave_one_chain_and_no_theft_flag() {
    const PARALLEL: usize = 20;
    let Some((a, b)) = two_instances(&[("REFRESH_GRACE", "30s")]) else {
        return;
    };
    let (a, b) = (Arc::new(a), Arc::new(b));
    let cookies = a.sign_up("ann@example.com").await;
    let session = own_session_id(&a, &cookies).await;

    let barrier = Arc::new(tokio::sync::Barrier::new(PARALLEL));
    let mut tasks = Vec::new();
    for i in 0..PARALLEL {
        let instance = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let (barrier, cookies) = (Arc::clone(&barrier), cookies.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = instance.post("/api/auth/refresh", &cookies, &[]).await;
            let status = response.status();
            let mut after = cookies.clone();
            after.update(&response);
            (status, after)
        }));
    }
    let mut successors = std::collections::HashSet::new();
    for task in tasks {
        let (status, after) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "a concurrent refresh is not theft");
        assert_ne!(
            after.refresh, cookies.refresh,
            "every response carries a new token"
        );
        successors.insert(after.refresh.clone());
    }
    assert_eq!(
        successors.len(),
        1,
        "all twenty responses, from both instances, carry the same successor"
    );

    let db = a.db();
    let chain = count(&db, {
        let session = session.clone();
        move |c| {
            refresh_tokens::table
                .filter(refresh_tokens::session_id.eq(session))
                .count()
                .get_result(c)
        }
    })
    .await;
    assert_eq!(chain, 2, "the first token and the one that replaced it");
    let unused = count(&db, {
        let session = session.clone();
        move |c| {
            refresh_tokens::table
                .filter(refresh_tokens::session_id.eq(session))
                .filter(refresh_tokens::used_at.is_null())
                .count()
                .get_result(c)
        }
    })
    .await;
    assert_eq!(unused, 1, "one live head of the chain");
    let theft = count(&db, |c| {
        security_events::table
            .filter(security_events::kind.eq(EventKind::TokenReuseDetected.as_str()))
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(theft, 0);
    let revoked = count(&db, move |c| {
        device_sessions::table
            .filter(device_sessions::id.eq(session))
            .filter(device_sessions::revoked_at.is_not_null())
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(revoked, 0, "the session lives on");

    let mut held = cookies.clone();
    held.refresh = successors.into_iter().next().unwrap();
    let next = b.post("/api/auth/refresh", &held, &[]).await;
    assert_eq!(next.status(), StatusCode::OK, "the chain continues");
}

#[tokio::test]
async fn ten_wrong_guesses_split_over_two_instances_are_throttled_as_on_one() {
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    a.sign_up("ann@example.com").await;
    let mut wrong = 0;
    let mut throttled = 0;
    for i in 0..10 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let status = instance
            .post(
                "/api/auth/login",
                &support::Cookies::default(),
                &[("email", "ann@example.com"), ("password", "guess guess")],
            )
            .await
            .status();
        match status {
            StatusCode::UNAUTHORIZED => wrong += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        (wrong, throttled),
        (5, 5),
        "one budget of 5 for both instances, not 5 each"
    );
}
