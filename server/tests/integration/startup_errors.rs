//! A misconfigured server says what is wrong in one line and exits non-zero, with no
//! panic and no backtrace.

use crate::support;

use support::{Finished, run_to_exit};

fn assert_one_clear_line(finished: &Finished, expected: &str) {
    assert!(
        !finished.status.success(),
        "exited successfully; stderr:\n{}",
        finished.stderr
    );
    assert_eq!(
        finished.status.code(),
        Some(1),
        "stderr:\n{}",
        finished.stderr
    );
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line, got:\n{}",
        finished.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(expected),
        "{:?} does not mention {expected:?}",
        lines[0]
    );
    for forbidden in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!finished.stderr.contains(forbidden), "{}", finished.stderr);
    }
}

#[test]
fn port_already_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let finished = run_to_exit(&[("LEPTOS_SITE_ADDR", &addr)]);
    assert_one_clear_line(
        &finished,
        &format!("cannot listen on {addr}: the address is already in use"),
    );
}

#[test]
fn unwritable_database_path_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let url = format!("sqlite://{}/gatehouse.db", file.display());
    let finished = run_to_exit(&[("DATABASE_URL", &url)]);
    assert_one_clear_line(&finished, "cannot create the database folder");
}

#[test]
fn database_file_that_is_not_a_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("garbage.db");
    std::fs::write(&file, vec![0x42_u8; 8192]).unwrap();
    let url = format!("sqlite://{}", file.display());
    let finished = run_to_exit(&[("DATABASE_URL", &url)]);
    assert_one_clear_line(&finished, "not a database");
}

#[test]
fn malformed_database_url_is_one_clear_line() {
    let finished = run_to_exit(&[("DATABASE_URL", "not a url")]);
    assert_one_clear_line(
        &finished,
        "DATABASE_URL \"not a url\" is not a database URL",
    );
}

#[test]
fn invalid_log_level_is_one_clear_line() {
    let finished = run_to_exit(&[("LOG_LEVEL", "loud[")]);
    assert_one_clear_line(&finished, "LOG_LEVEL \"loud[\" is not a valid log filter");
}

#[test]
fn weak_test_hashing_is_refused_in_production() {
    let finished = run_to_exit(&[
        ("GATEHOUSE_MODE", "production"),
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
    ]);
    assert_one_clear_line(
        &finished,
        "INSECURE_FAST_PASSWORD_HASHING is for test suites",
    );
}
