//! Raw Argon2id verifications per second with Gatehouse's parameters: the ceiling that
//! logins/s is compared with in `make bench` (ratio R5).
//!
//! `argon2_rate --seconds 3 --threads 1` (run it pinned to the server's cores).

use std::time::{Duration, Instant};

use app::auth::password::Passwords;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Version};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (seconds, threads) = (arg("--seconds", 3), arg("--threads", 1));
    let argon2 = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Passwords::owasp_params(),
    );
    let salt = SaltString::generate(&mut OsRng);
    let stored = argon2
        .hash_password(b"correct horse battery", &salt)
        .unwrap()
        .to_string();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let done: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let hash = PasswordHash::new(&stored).unwrap();
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        argon2
                            .verify_password(b"correct horse battery", &hash)
                            .unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let rate = done as f64 / started.elapsed().as_secs_f64();
    println!("verifications/s: {rate:.2}");
}
