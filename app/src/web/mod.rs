//! The thin layer between HTTP and the auth domain, for server functions and pages:
//! cookies, request facts, and "who is calling". Server-only (`ssr`).

pub mod context;
pub mod cookies;
pub mod csp;
pub mod dbsc;
pub mod email_link;
pub mod extract;
pub mod web_session;
