//! The committed development keys open with their documented passphrase and match their
//! public key files.

use std::path::Path;

use checkpass::keys::{open_sealed, parse_public_key_file, KeyRole};

#[test]
fn development_keys_open_and_match() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../keys");
    for (name, role) in [("root", KeyRole::Root), ("signing", KeyRole::Signing)] {
        let secret =
            std::fs::read_to_string(dir.join(format!("DEV-ONLY-{name}.secret.json"))).unwrap();
        let public =
            std::fs::read_to_string(dir.join(format!("DEV-ONLY-{name}.pub.json"))).unwrap();
        let (key, sealed_role) = open_sealed(&secret, "dev-only-not-a-secret").unwrap();
        let (public_key, public_role) = parse_public_key_file(&public).unwrap();
        assert_eq!(sealed_role, role);
        assert_eq!(public_role, role);
        assert_eq!(key.public_key(), public_key);
    }
}
