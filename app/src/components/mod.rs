//! Building blocks shared by several pages.

pub mod form;
pub mod layout;
pub mod session;
pub mod time;
