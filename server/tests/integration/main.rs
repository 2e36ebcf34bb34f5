//! The integration tests: the real server in process, over HTTP, on a temporary
//! database (SQLite, or a PostgreSQL cluster when `GATEHOUSE_TEST_BACKEND=postgres`).
//!
//! One test binary, one module per subject: each binary links the whole server (about
//! 300 MB with line tables), so one binary instead of twenty-three saves minutes of
//! linking and gigabytes of disk on every fresh build. Run one subject with a filter:
//! `cargo test -p server --test integration oidc_http::`. Three keep binaries of their
//! own, because cargo runs test binaries one after another and these need the process
//! or the database to themselves: `throttle_memory` (its resident memory must be the
//! server's alone), `slow_clients` (it raises the process's limit of open files and
//! times answers) and `postgres_faults` (it stops the shared test cluster).

mod support;

mod account_http;
mod app_tokens_http;
mod auth_http;
mod crash_safety;
mod database_faults;
mod dbsc_http;
mod devices_http;
mod fork_api_http;
mod fuzz_forms;
mod hardening_http;
mod healthz_unavailable;
mod http;
mod i18n_http;
mod mail_http;
mod mail_transport;
mod oidc_http;
mod passkeys_http;
mod reset_review_http;
mod scale_out;
mod seams_http;
mod second_factor_http;
mod startup_errors;
mod table_overflow;
mod throttle_http;
