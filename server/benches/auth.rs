//! Single-operation costs of authentication, for `make bench`: what one request pays to
//! mint or verify an access token, hash a refresh token, and check the revocation set.

use std::hint::black_box;
use std::time::Duration;

use app::auth::access_token::AccessTokens;
use app::auth::keys::{KeySet, SigningKey};
use app::auth::refresh_token::RefreshToken;
use app::auth::revocation::{RevocationSet, Revoked};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn tokens() -> AccessTokens {
    AccessTokens::new(
        KeySet::new(SigningKey::generate().0, vec![]),
        "https://gatehouse.bench",
        Duration::from_secs(900),
    )
}

fn access_tokens(c: &mut Criterion) {
    let tokens = tokens();
    c.bench_function("token_mint", |b| {
        b.iter(|| tokens.mint(black_box("0193-user"), black_box("session-id")))
    });
    // Cold: a token this process has not verified yet (signature check and claims).
    c.bench_function("token_verify_cold", |b| {
        b.iter_batched(
            || {
                tokens
                    .mint("0193-user", "session-id")
                    .token
                    .expose()
                    .to_owned()
            },
            |token| tokens.verify_uncached(&token).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // Cached: the same token again, as on every request after a device's first.
    let token = tokens
        .mint("0193-user", "session-id")
        .token
        .expose()
        .to_owned();
    tokens.verify(&token).unwrap();
    c.bench_function("token_verify_cached", |b| {
        b.iter(|| tokens.verify(black_box(&token)).unwrap())
    });
}

fn refresh_tokens(c: &mut Criterion) {
    let token = RefreshToken::generate();
    c.bench_function("refresh_token_hash", |b| {
        b.iter(|| black_box(&token).hash())
    });
}

fn revocation(c: &mut Criterion) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // One million revoked sessions, as in ratio R3, with ids shaped like the ones
    // Gatehouse issues (a `sid` is 16 random bytes in base64url).
    let set = RevocationSet::new();
    for i in 0..1_000_000_u128 {
        let bits = i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        set.insert(
            Revoked::Session,
            &URL_SAFE_NO_PAD.encode(bits.to_be_bytes()),
            i64::MAX,
        );
    }
    c.bench_function("revocation_lookup_1m", |b| {
        b.iter(|| set.is_revoked(black_box("YT4auG2Ms7eOFcibyoiIZw")))
    });
}

criterion_group!(benches, access_tokens, refresh_tokens, revocation);
criterion_main!(benches);
