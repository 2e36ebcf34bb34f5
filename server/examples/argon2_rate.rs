//! Argon2id verifications per second with Gatehouse's parameters, through the server's
//! own hashing pool (each thread reusing its 19 MiB buffer, as a login's check does): the
//! ceiling that logins/s is compared with in `make bench` (ratio R5). Through the pool,
//! so that the ceiling pays what a login pays and no more (docs/PERFORMANCE.md).
//!
//! `argon2_rate --seconds 3 --threads 1` (run it pinned to the server's cores).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::auth::password::{Passwords, Verification};
use app::secret::Secret;

/// The server's allocator (`server/src/main.rs`), so the ceiling allocates as a login
/// does: should a check allocate its 19 MiB (argon2's own verifier), glibc's allocator
/// can hand it back to the kernel and fault it in again, mimalloc's keeps it
/// (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "correct horse battery";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (seconds, threads) = (arg("--seconds", 3), arg("--threads", 1).max(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rate = runtime.block_on(async {
        let passwords = Passwords::new(Passwords::owasp_params(), threads as usize);
        let stored = passwords.hash(Secret::from(PASSWORD)).await.unwrap();
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        // Two checks waiting per hashing thread keep every thread busy, as a queue of
        // logins does.
        let tasks: Vec<_> = (0..threads * 2)
            .map(|_| {
                let (passwords, stored, done) =
                    (passwords.clone(), stored.clone(), Arc::clone(&done));
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let checked = passwords
                            .verify(Secret::from(PASSWORD), Some(stored.clone()))
                            .await
                            .unwrap();
                        assert!(matches!(checked, Verification::Valid { .. }));
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
    });
    println!("verifications/s: {rate:.2}");
}
