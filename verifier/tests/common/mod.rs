//! Shared fixtures for the CLI tests: a data directory, keys, signed bundles and passes made
//! with the project's own `checkpass`, and a way to run the built `verifier` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use checkpass::bundle::{sign_bundle, RevocationList, TrustBundle};
use checkpass::keys::{public_key_file, KeyRole, SigningKey};
use checkpass::pass::{Pass, Serial};
use checkpass::{sample, wire};

/// 2022-03-13 08:00 UTC+8, inside the sample pass's validity window.
pub const NOW: i64 = sample::NOW;
pub const NOW_RFC3339: &str = "2022-03-13T08:00:00+08:00";

/// `NOW` plus `secs`, as RFC 3339 (UTC).
pub fn at(secs: i64) -> String {
    chrono::DateTime::from_timestamp(NOW + secs, 0)
        .unwrap()
        .to_rfc3339()
}

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub root: SigningKey,
    pub signing: SigningKey,
}

impl Fixture {
    /// Fresh keys, nothing initialised.
    pub fn new() -> Fixture {
        Fixture {
            tmp: tempfile::tempdir().unwrap(),
            // Fixed keys keep rendered codes identical from run to run.
            root: SigningKey::from_seed(&[0x31; 32]),
            signing: SigningKey::from_seed(&[0x32; 32]),
        }
    }

    /// Initialised at C101 with officer W001 and bundle sequence 1 installed.
    pub fn ready() -> Fixture {
        let f = Fixture::new();
        assert_ok(&f.init(&f.root_key_file(), "C101", &["--officer", "W001"]));
        let bundle = f.bundle_file("b1.cose", &f.bundle(1), &f.root);
        assert_ok(&f.run(&["bundle", "install", bundle.to_str().unwrap()]));
        f
    }

    pub fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn root_key_file(&self) -> PathBuf {
        let p = self.path("root.pub.json");
        std::fs::write(&p, public_key_file(&self.root.public_key(), KeyRole::Root)).unwrap();
        p
    }

    /// The sample bundle trusting `self.signing`, issued 2022-03-12 10:00 UTC+8.
    pub fn bundle(&self, sequence: u64) -> TrustBundle {
        sample::bundle(&self.signing, sequence, sample::ISSUED_AT)
    }

    pub fn bundle_with_revoked(&self, sequence: u64, revoked: &[u64]) -> TrustBundle {
        let mut b = self.bundle(sequence);
        b.revoked = revoked
            .iter()
            .map(|&s| Serial(s))
            .collect::<RevocationList>();
        b
    }

    pub fn bundle_file(&self, name: &str, bundle: &TrustBundle, root: &SigningKey) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, sign_bundle(bundle, root).unwrap()).unwrap();
        p
    }

    /// The sample pass (serial 1, route C201 → C101) signed by `self.signing`.
    pub fn pass_text(&self) -> String {
        wire::issue_qr_text(&sample::pass(), &self.signing).unwrap()
    }

    pub fn pass_text_with(&self, change: impl FnOnce(&mut Pass)) -> String {
        let mut p = sample::pass();
        change(&mut p);
        wire::issue_qr_text(&p, &self.signing).unwrap()
    }

    /// Runs `verifier --data <data> args…`.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(&self.data(), args)
    }

    /// `verifier init --root-key <key> --checkpoint <checkpoint> [extra…]`.
    pub fn init(&self, key: &Path, checkpoint: &str, extra: &[&str]) -> Output {
        let key = key.to_string_lossy();
        let mut args = vec!["init", "--root-key", &key, "--checkpoint", checkpoint];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `verifier check --at <NOW+secs> --text <text> [extra…]`.
    pub fn check_text(&self, text: &str, secs: i64, extra: &[&str]) -> Output {
        let at = at(secs);
        let mut args = vec!["check", "--at", &at, "--text", text];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Same as [`Fixture::check_text`] with `--json`, parsed.
    pub fn check_json(
        &self,
        text: &str,
        secs: i64,
        extra: &[&str],
    ) -> (i32, Vec<serde_json::Value>) {
        let mut e = vec!["--json"];
        e.extend_from_slice(extra);
        let out = self.check_text(text, secs, &e);
        (code(&out), json_lines(&out))
    }

    /// The scan log as CSV rows (header skipped).
    pub fn log_rows(&self) -> Vec<csv::StringRecord> {
        let out = self.run(&["log", "--csv", "-"]);
        assert_ok(&out);
        csv::Reader::from_reader(&out.stdout[..])
            .records()
            .map(|r| r.unwrap())
            .collect()
    }
}

/// `verifier --data <data> args…`, ready to run.
pub fn command_in(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_verifier"));
    cmd.arg("--data")
        .arg(data)
        .args(args)
        .env_remove("VERIFIER_DATA");
    cmd
}

pub fn run_in(data: &Path, args: &[&str]) -> Output {
    command_in(data, args).output().unwrap()
}

/// Exit status; a panic (101) or a signal fails the test at once.
pub fn code(out: &Output) -> i32 {
    let c = out.status.code().unwrap_or(-1);
    assert!(
        c != 101 && c >= 0,
        "verifier crashed (status {c}); stderr:\n{}",
        stderr(out)
    );
    assert!(
        !stderr(out).contains("panicked"),
        "verifier panicked:\n{}",
        stderr(out)
    );
    c
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_ok(out: &Output) {
    assert_eq!(
        code(out),
        0,
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Reason codes of a JSON verdict object.
pub fn reasons(v: &serde_json::Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}
