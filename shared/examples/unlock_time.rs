//! Measures how long unlocking a sealed key file takes (one Argon2id derivation and the
//! decryption): a file sealed now, and the committed development key sealed with the earlier,
//! cheaper parameters. Median of 7 unlocks each.
//!
//! `cargo run --release -p checkpass --example unlock_time`

use std::time::{Duration, Instant};

use checkpass::keys::{open_sealed, seal, KeyRole, SigningKey};

fn median_unlock(text: &str, passphrase: &str) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        open_sealed(text, passphrase)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let passphrase = "a passphrase for measuring";
    let now = seal(&SigningKey::generate(), KeyRole::Signing, passphrase)?;
    let old = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../keys/DEV-ONLY-signing.secret.json"),
    )?;
    for (what, text, pw) in [
        ("sealed now", now.as_str(), passphrase),
        (
            "sealed before (keys/DEV-ONLY-signing)",
            old.as_str(),
            "dev-only-not-a-secret",
        ),
    ] {
        let file: serde_json::Value = serde_json::from_str(text)?;
        println!(
            "{what}: m = {} KiB, t = {}: unlock {:.0} ms",
            file["kdf"]["m_kib"],
            file["kdf"]["t"],
            median_unlock(text, pw)?.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
