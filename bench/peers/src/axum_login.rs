//! axum-login with tower-sessions on SQLite, as its documentation sets it up: a users
//! table, sessions in `tower-sessions-sqlx-store`, a login route and one protected JSON
//! route that answers who is signed in. Every authenticated request loads its session
//! from SQLite and the user from the users table, which is how axum-login works.
//!
//! `DATA_DIR` holds the database. `POST /signup` and `POST /login` take
//! `email`/`password` as a form; `POST /api/session/viewer` is the protected route.
//! `SESSION_CACHE=moka` puts tower-sessions' `CachingSessionStore` with a moka cache in
//! front of SQLite, as its documentation suggests for speed: sessions are then read
//! from memory (the user is still loaded from SQLite on every request, as axum-login
//! does).

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use axum::{Form, Json, Router, http::StatusCode, response::IntoResponse, routing::post};
use axum_login::{
    AuthManagerLayerBuilder, AuthSession, AuthUser, AuthnBackend, UserId, login_required,
};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use tower_sessions::{
    CachingSessionStore, Expiry, SessionManagerLayer, SessionStore, cookie::time::Duration,
};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_sqlx_store::SqliteStore;

#[derive(Debug, Clone, sqlx::FromRow)]
struct User {
    id: i64,
    email: String,
    password_hash: String,
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Debug, Clone)]
struct Backend {
    db: SqlitePool,
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = sqlx::Error;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, sqlx::Error> {
        let user: Option<User> = sqlx::query_as("SELECT * FROM users WHERE email = ?")
            .bind(&creds.email)
            .fetch_optional(&self.db)
            .await?;
        Ok(user.filter(|user| {
            PasswordHash::new(&user.password_hash).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(creds.password.as_bytes(), &hash)
                    .is_ok()
            })
        }))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.db)
            .await
    }
}

type Session = AuthSession<Backend>;

async fn signup(session: Session, Form(creds): Form<Credentials>) -> impl IntoResponse {
    let salt = SaltString::generate(&mut OsRng);
    let Ok(hash) = Argon2::default().hash_password(creds.password.as_bytes(), &salt) else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    let inserted = sqlx::query("INSERT INTO users (email, password_hash) VALUES (?, ?)")
        .bind(&creds.email)
        .bind(hash.to_string())
        .execute(&session.backend.db)
        .await;
    if inserted.is_err() {
        return StatusCode::BAD_REQUEST;
    }
    login(session, Form(creds)).await
}

async fn login(mut session: Session, Form(creds): Form<Credentials>) -> StatusCode {
    match session.authenticate(creds).await {
        Ok(Some(user)) if session.login(&user).await.is_ok() => StatusCode::OK,
        Ok(_) => StatusCode::UNAUTHORIZED,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Serialize)]
struct Viewer {
    signed_in: bool,
    email: String,
}

async fn viewer(session: Session) -> Json<Viewer> {
    Json(Viewer {
        signed_in: session.user.is_some(),
        email: session.user.map(|user| user.email).unwrap_or_default(),
    })
}

#[tokio::main]
async fn main() {
    let dir = std::env::var("DATA_DIR").unwrap_or_else(|_| ".".into());
    let options = SqliteConnectOptions::new()
        .filename(format!("{dir}/axum-login.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let db = SqlitePool::connect_with(options).await.unwrap();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
         password_hash TEXT NOT NULL)",
    )
    .execute(&db)
    .await
    .unwrap();
    let store = SqliteStore::new(db.clone());
    store.migrate().await.unwrap();
    let app = if std::env::var("SESSION_CACHE").as_deref() == Ok("moka") {
        router(
            CachingSessionStore::new(MokaStore::new(Some(10_000)), store),
            db,
        )
    } else {
        router(store, db)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    eprintln!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// The routes, with sessions kept in `store`.
fn router<S: SessionStore + Clone>(store: S, db: SqlitePool) -> Router {
    let sessions = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(Duration::days(1)));
    let auth = AuthManagerLayerBuilder::new(Backend { db }, sessions).build();
    Router::new()
        .route("/api/session/viewer", post(viewer))
        .route_layer(login_required!(Backend))
        .route("/signup", post(signup))
        .route("/login", post(login))
        .layer(auth)
}
