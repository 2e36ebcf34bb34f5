//! One module per route.

pub mod account;
pub mod activity;
pub mod devices;
pub mod home;
pub mod login;
pub mod not_found;
pub mod recovery;
pub mod refresh;
pub mod sign_in_code;
pub mod signup;
