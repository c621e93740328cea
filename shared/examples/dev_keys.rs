//! Writes the development keys in keys/ (run once; the files are committed and marked DEV-ONLY).
//!
//! `cargo run -p checkpass --example dev_keys -- keys`

use std::path::PathBuf;

use checkpass::keys::{public_key_file, seal, KeyRole, SigningKey};

/// The passphrase of every development key. Public on purpose: these keys protect nothing.
const DEV_PASSPHRASE: &str = "dev-only-not-a-secret";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "keys".into()));
    std::fs::create_dir_all(&dir)?;
    for (name, role) in [("root", KeyRole::Root), ("signing", KeyRole::Signing)] {
        let key = SigningKey::generate();
        let secret = dir.join(format!("DEV-ONLY-{name}.secret.json"));
        let public = dir.join(format!("DEV-ONLY-{name}.pub.json"));
        std::fs::write(&secret, seal(&key, role, DEV_PASSPHRASE)?)?;
        std::fs::write(&public, public_key_file(&key.public_key(), role))?;
        println!("{role}: kid {} -> {}", key.kid(), secret.display());
    }
    Ok(())
}
