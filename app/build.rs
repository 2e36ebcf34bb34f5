//! Rebuilds the crate when a migration is added or changed: `store::migrations` embeds
//! the SQL files at compile time, and cargo does not see new files on its own.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
