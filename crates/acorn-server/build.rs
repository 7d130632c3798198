//! Rebuilds the server when a migration file is added or changed: `sqlx::migrate!` embeds
//! `migrations/<engine>/` at compile time but cannot tell Cargo to watch the folders.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
