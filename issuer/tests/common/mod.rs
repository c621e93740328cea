//! Helpers for the end-to-end tests: a data directory in a temporary folder, the built
//! `issuer` binary run with a passphrase and an operator in its environment, and generated
//! application files.

#![allow(dead_code)]

pub mod pg;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const PASSPHRASE: &str = "正确的口令 correct horse";
/// The issuer's clock in these tests: 2022-03-12 09:00 (UTC+8), as the sample data expects.
pub const SAMPLE_NOW: &str = "2022-03-12T09:00:00+08:00";

/// Stderr without the line that says the clock is simulated (every command prints it here).
pub fn without_clock_note(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.contains("ISSUER_NOW"))
        .map(|l| format!("{l}\n"))
        .collect()
}

pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/weihai")
}

pub struct Env {
    pub dir: tempfile::TempDir,
    /// `ISSUER_DB` for every command: `None` is the data directory's SQLite file.
    pub db: Option<String>,
}

impl Env {
    /// A fresh, uninitialised environment.
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            db: None,
        }
    }

    /// A fresh environment whose store is a new database in this process's throwaway
    /// PostgreSQL cluster; `None` (the test skips) only outside CI on a machine without
    /// PostgreSQL.
    pub fn new_postgres() -> Option<Env> {
        if !pg::available() {
            return None;
        }
        Some(Env {
            dir: tempfile::tempdir().unwrap(),
            db: Some(pg::Cluster::shared().new_database()),
        })
    }

    /// An environment initialised with the sample districts and checkpoints.
    pub fn init() -> Env {
        Env::new().initialised()
    }

    /// [`Env::init`] with the store in PostgreSQL.
    pub fn init_postgres() -> Option<Env> {
        Env::new_postgres().map(Env::initialised)
    }

    fn initialised(self) -> Env {
        let env = self;
        let s = samples();
        env.ok(&[
            "init",
            "--districts",
            s.join("districts.csv").to_str().unwrap(),
            "--checkpoints",
            s.join("checkpoints.csv").to_str().unwrap(),
        ]);
        env
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_issuer"));
        cmd.arg("--data")
            .arg(self.data())
            .args(args)
            .env("ISSUER_PASSPHRASE", PASSPHRASE)
            .env("ISSUER_OPERATOR", "测试员")
            // The sample applications travel in March 2022: a pass is issued before its window
            // ends and after its test, so the issuer runs on the sample's clock.
            .env("ISSUER_NOW", SAMPLE_NOW)
            .env_remove("ISSUER_DATA")
            .env_remove("ISSUER_ROOT_PASSPHRASE");
        match &self.db {
            Some(db) => cmd.env("ISSUER_DB", db),
            None => cmd.env_remove("ISSUER_DB"),
        };
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "issuer {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects failure with exit status 1 and no panic; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = without_clock_note(&String::from_utf8(out.stderr).unwrap());
        assert_eq!(
            out.status.code(),
            Some(1),
            "issuer {args:?} should fail: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.starts_with("错误："), "{stderr}");
        stderr
    }

    /// Runs with `--json` (any exit status) and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "issuer {args:?}: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Imports the sample applications CSV: 40 rows stored, the 9 bad ones refused (exit 2).
    pub fn import_sample(&self) {
        let out = self.run(&[
            "import",
            samples().join("applications.csv").to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Imports, forwards and approves everything in `file`.
    pub fn approve_all_from(&self, file: &Path) {
        let out = self.run(&["import", file.to_str().unwrap()]);
        assert!(out.status.code() == Some(0) || out.status.code() == Some(2));
        self.ok(&["forward", "--all"]);
        self.ok(&["approve", "--all"]);
    }

    /// Statuses by application number.
    pub fn statuses(&self) -> Vec<(String, String)> {
        self.json(&["list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["app_no"].as_str().unwrap().to_string(),
                    a["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Starts `issuer serve` on a free loopback port; returns the process, its address and
    /// the rest of its standard error.
    pub fn serve(
        &self,
    ) -> (
        std::process::Child,
        String,
        std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    ) {
        self.serve_with(&[])
    }

    /// [`Env::serve`] with more options (`--sign`).
    pub fn serve_with(
        &self,
        options: &[&str],
    ) -> (
        std::process::Child,
        String,
        std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    ) {
        use std::io::BufRead;
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(options);
        let mut child = self
            .command(&args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(at) = line.find("http://") {
                break line[at + 7..].trim().to_string();
            }
        };
        (child, addr, lines)
    }

    /// Pass directories (not temporary ones) under the data directory.
    pub fn pass_dirs(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.data().join("passes")) else {
            return vec![];
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        dirs.sort();
        dirs
    }
}

/// A whole HTTP/1.1 answer to `GET path` from `addr`, over a real socket.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// GB 11643 check character.
fn id_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

pub const HEADER: &str = "申请编号,申请人类型,所属区市,车牌号,挂车号,驾驶人员姓名,身份证号,联系方式,随车人员数,货物类别,货物名称,起运地点,运送地点,拟通行开始时间,拟通行结束时间,拟通行路线,核酸采样时间,核酸检测结果";

/// One valid application row, distinct for each `i` (plate, ID number, phone).
pub fn valid_row(i: usize) -> String {
    let first17 = format!("37100219800101{:03}", i % 1000);
    let id = format!("{first17}{}", id_check(&first17));
    format!(
        "GEN-{i:05},运输人,371002,鲁K{:05},,驾驶员{i},{id},139{:08},1,工业原材料,钢材,环翠区张村镇工业园,文登区米山镇仓储中心,\
         2022-03-12 08:00,2022-03-13 08:00,C201→C101→C103,2022-03-11 20:00,阴性",
        i % 100_000,
        i
    )
}

/// A UTF-8 CSV of `n` valid applications.
pub fn write_valid_csv(path: &Path, n: usize) {
    let mut text = String::from(HEADER);
    text.push('\n');
    for i in 0..n {
        text.push_str(&valid_row(i));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}
