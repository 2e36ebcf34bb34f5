//! Building blocks shared by several pages.

pub mod connected;
pub mod form;
pub mod language;
pub mod layout;
pub mod passkeys;
pub mod providers;
pub mod second_factor;
pub mod sudo;
pub mod suspense;
pub mod time;
pub mod viewer;
