//! What a checkpoint device adds to the pass rules, whatever keeps its state (the native
//! verifier's SQLite log, the web app's IndexedDB): accepting a trust bundle against the pinned
//! root and what was installed before. The findings only a scan log can give (a repeat scan of
//! the same pass here, a clock that went backwards) are [`crate::rules::log`]'s, re-exported
//! here for the callers that know them from this module.
//!
//! Both verifiers call these; neither writes a rule of its own.

use crate::bundle::{bundle_digest, check_same_sequence, open_bundle, BundleError, TrustBundle};
use crate::keys::{is_public_test_key, Kid, PublicKey};

pub use crate::rules::log::{clock_problem, log_reasons, ClockProblem, LogFacts};

/// What a checkpoint installed last: the floor a new bundle's sequence must reach, and the
/// digest of the bundle of that sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Installed {
    pub sequence: Option<u64>,
    pub digest: Option<[u8; 32]>,
}

/// Checks a bundle file for installation: signed by the pinned `root`, not older than the
/// installed sequence, the very same file if its sequence is the installed one, within the
/// size limit. Returns the bundle and its digest (to remember with the sequence).
pub fn accept_bundle(
    bytes: &[u8],
    root: &PublicKey,
    installed: Installed,
) -> Result<(TrustBundle, [u8; 32]), BundleError> {
    let bundle = open_bundle(bytes, root, installed.sequence)?;
    let digest = bundle_digest(bytes);
    if let (Some(floor), Some(installed_digest)) = (installed.sequence, installed.digest) {
        check_same_sequence(bundle.sequence, &digest, floor, &installed_digest)?;
    }
    Ok((bundle, digest))
}

/// The first signing key of the bundle that is a public development or test-vector key, which
/// a real checkpoint refuses.
pub fn dev_key_in(bundle: &TrustBundle) -> Option<Kid> {
    bundle
        .keys
        .iter()
        .find(|k| is_public_test_key(&k.public_key))
        .map(|k| k.kid())
}
