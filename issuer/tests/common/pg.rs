//! A throwaway PostgreSQL cluster for tests and benchmarks: one per test process, in a
//! temporary directory, reachable only through a unix socket in that directory (no TCP port,
//! so parallel test processes cannot race for one), started on first use and stopped and
//! removed when the process exits.
//!
//! It runs the server binaries (`initdb`, `pg_ctl`, `postgres`, `createdb`) as child processes,
//! so the harness needs no Rust PostgreSQL crate. On Debian they come from the apt package
//! `postgresql` (scripts/install-deps.sh installs it) under /usr/lib/postgresql/VERSION/bin,
//! which is not on PATH.
//!
//! ```ignore
//! if !pg::available() { return; }
//! let url = pg::Cluster::shared().new_database(); // postgresql:///test_1?host=/tmp/...&user=postgres
//! ```

#![allow(dead_code)]

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

pub struct Cluster {
    /// Holds the data directory (`data/`), the server log and the socket; removed at exit.
    dir: PathBuf,
    /// Where initdb, pg_ctl, postgres and createdb are.
    bin: PathBuf,
    /// The directory of the unix socket: `dir` itself.
    socket_dir: PathBuf,
    /// Whether the server commands run as the `postgres` user (we are root, and postgres
    /// refuses to run as root).
    as_postgres: bool,
}

/// Either the running cluster or why it could not start, so that a failed start is tried once
/// per process and every test that asks gets the same message.
static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();

impl Cluster {
    /// One cluster per test process, started on first use, stopped at process exit: an
    /// `atexit` handler runs `pg_ctl -m immediate stop` and removes the directory (a static is
    /// never dropped, but Rust's test harness leaves through `exit`, so `atexit` runs; a
    /// process killed by a signal leaves the server running).
    pub fn shared() -> &'static Cluster {
        let cluster = SHARED.get_or_init(|| {
            let cluster = Cluster::start()?;
            // SAFETY: registers a plain `extern "C"` function with no arguments.
            unsafe { libc::atexit(stop_shared) };
            Ok(cluster)
        });
        match cluster {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// Creates a fresh empty database with a unique name and returns its URL, in the form
    /// `postgresql:///NAME?host=SOCKET_DIR&user=postgres` that the `postgres` and
    /// `tokio-postgres` crates, sqlx and libpq accept.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        // A client: it runs as whoever we are, and trust authentication lets it in as the
        // `postgres` superuser. The one in the server's bin dir, because Debian's /usr/bin one
        // is a wrapper script that looks for the system's clusters.
        let createdb = self.bin.join("createdb");
        let createdb = if createdb.exists() {
            createdb
        } else {
            "createdb".into()
        };
        let out = Command::new(&createdb)
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-U", "postgres", &name])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", createdb.display()));
        check(&out, "createdb");
        self.url(&name)
    }

    /// URL of the maintenance database `postgres`.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// URL of database `db` as role `user`.
    pub fn url_as(&self, db: &str, user: &str) -> String {
        format!(
            "postgresql:///{db}?host={}&user={user}",
            self.socket_dir.display()
        )
    }

    /// Runs the server's `psql` on database `db` as `user` with `args`, without reading any
    /// `~/.psqlrc`.
    pub fn psql(&self, db: &str, user: &str, args: &[&str]) -> Output {
        let psql = self.bin.join("psql");
        let psql = if psql.exists() { psql } else { "psql".into() };
        Command::new(&psql)
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-U", user, "-d", db, "-X", "-v", "ON_ERROR_STOP=1"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", psql.display()))
    }

    fn url(&self, db: &str) -> String {
        // The temporary directory's name is alphanumeric, so the path needs no escaping
        // unless TMPDIR itself has odd characters.
        format!(
            "postgresql:///{db}?host={}&user=postgres",
            self.socket_dir.display()
        )
    }

    fn start() -> Result<Cluster, String> {
        Cluster::start_with(None)
    }

    /// A cluster of its own that also listens on 127.0.0.1:`tls.port` and accepts TCP clients
    /// only over TLS, with the certificate and key given; stopped and removed when dropped.
    pub fn start_tls(tls: &Tls) -> OwnCluster {
        match Cluster::start_with(Some(tls)) {
            Ok(c) => OwnCluster(c),
            Err(e) => panic!("{e}"),
        }
    }

    fn start_with(tls: Option<&Tls>) -> Result<Cluster, String> {
        let bin = bin_dir().ok_or("PostgreSQL server binaries (initdb, pg_ctl) not found")?;
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let tmp = tempfile::Builder::new()
            .prefix("pgtest-")
            .tempdir_in(temp_base(as_postgres))
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        if as_postgres {
            let (uid, gid) = postgres_user()?;
            std::os::unix::fs::chown(tmp.path(), Some(uid), Some(gid))
                .map_err(|e| format!("cannot give {} to postgres: {e}", tmp.path().display()))?;
        }
        let cluster = Cluster {
            dir: tmp.path().to_owned(),
            bin,
            socket_dir: tmp.path().to_owned(),
            as_postgres,
        };
        let data = cluster.dir.join("data");
        // --no-sync: nothing here has to survive a crash of the machine.
        let out = cluster.server_command("initdb", |c| {
            c.args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data);
        })?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Unix socket only, in our own directory: no TCP port to collide on. fsync=off is for
        // tests and benchmarks of our own code only: it makes commits much cheaper than on a
        // real server, so durability-bound numbers measured here say nothing about production.
        // The log file also keeps the server's output off our pipes (otherwise `output()`
        // would wait for the server to exit).
        let log = cluster.dir.join("server.log");
        let mut opts = format!(
            "-k '{}' -c max_connections=200 -c fsync=off",
            cluster.socket_dir.display()
        );
        match tls {
            None => opts.push_str(" -c listen_addresses="),
            Some(tls) => {
                // The server reads its key only if the postgres user owns it, mode 0600.
                for (from, name) in [(&tls.cert, "server.crt"), (&tls.key, "server.key")] {
                    let to = data.join(name);
                    std::fs::copy(from, &to).map_err(|e| format!("cannot copy {name}: {e}"))?;
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| e.to_string())?;
                    if as_postgres {
                        let (uid, gid) = postgres_user()?;
                        std::os::unix::fs::chown(&to, Some(uid), Some(gid))
                            .map_err(|e| e.to_string())?;
                    }
                }
                // TCP only with TLS; the socket as before.
                std::fs::write(
                    data.join("pg_hba.conf"),
                    "local all all trust\n\
                     hostssl all all 127.0.0.1/32 trust\n\
                     hostnossl all all 127.0.0.1/32 reject\n",
                )
                .map_err(|e| e.to_string())?;
                opts.push_str(&format!(
                    " -c listen_addresses=127.0.0.1 -p {} -c ssl=on",
                    tls.port
                ));
            }
        }
        let out = cluster.server_command("pg_ctl", |c| {
            c.arg("-w").arg("-D").arg(&data).arg("-l").arg(&log);
            c.args(["-o", &opts, "start"]);
        })?;
        if !out.status.success() {
            return Err(format!(
                "pg_ctl start failed ({}):\n{}\nserver log:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        // Started: from here on the atexit handler removes the directory, not TempDir's drop.
        let _ = tmp.keep();
        Ok(cluster)
    }

    /// Runs a server binary, through `runuser -u postgres --` when we are root.
    fn server_command(
        &self,
        name: &str,
        args: impl FnOnce(&mut Command),
    ) -> Result<Output, String> {
        let exe = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        args(&mut cmd);
        // The postgres user may not be allowed into our working directory (e.g. /root), and
        // initdb and postgres complain when they cannot stat it.
        cmd.current_dir(&self.dir);
        cmd.output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        let postmaster = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse::<u32>().ok());
        let _ = self.server_command("pg_ctl", |c| {
            c.args(["-m", "immediate", "-D"]).arg(&data).arg("stop");
        });
        // pg_ctl returns when postmaster.pid is gone, a moment before the postmaster has
        // exited: wait (at most 5 s) so that no server outlives the test process.
        if let Some(pid) = postmaster {
            for _ in 0..500 {
                if !alive(pid) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What [`Cluster::start_tls`] serves: a PEM certificate and key, and the TCP port.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub port: u16,
}

/// A cluster that is not shared: stopped and removed when dropped.
pub struct OwnCluster(pub Cluster);

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A TCP port nothing listens on at the moment (the kernel's pick; another process could take
/// it before the server binds it, which only fails that test's start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free TCP port: {e}"))
}

extern "C" fn stop_shared() {
    if let Some(Ok(cluster)) = SHARED.get() {
        cluster.stop();
    }
}

/// Whether PostgreSQL tests must run: if the server binaries are missing, this panics with a
/// clear message when CI=true (CI must not skip them silently), otherwise it prints a note to
/// stderr and returns false so that the caller skips.
pub fn available() -> bool {
    if bin_dir().is_some() {
        return true;
    }
    let msg = "PostgreSQL server binaries (initdb, pg_ctl, postgres) are neither on PATH nor in \
               /usr/lib/postgresql/*/bin; run scripts/install-deps.sh (apt package `postgresql`)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipping a PostgreSQL test: {msg}");
    false
}

/// The directory of the server binaries: the one of `initdb` on PATH (followed through
/// symlinks, because pg_ctl and postgres sit beside the real file), else the highest version
/// under /usr/lib/postgresql (Debian puts none of them on PATH).
fn bin_dir() -> Option<PathBuf> {
    let complete = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .filter_map(|d| std::fs::canonicalize(d.join("initdb")).ok())
        .filter_map(|f| f.parent().map(Path::to_owned))
        .find(|d| complete(d));
    on_path.or_else(|| {
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let version = e
                    .file_name()
                    .to_str()?
                    .split('.')
                    .map(|n| n.parse().ok())
                    .collect::<Option<_>>()?;
                Some((version, e.path().join("bin")))
            })
            .filter(|(_, d)| complete(d))
            .collect();
        found.sort();
        found.pop().map(|(_, d)| d)
    })
}

/// Where the cluster's directory goes. The socket path must fit in 107 bytes, and as root the
/// `postgres` user must be able to reach it, which a TMPDIR under /root would not allow: /tmp
/// in those cases.
fn temp_base(as_postgres: bool) -> PathBuf {
    let base = std::env::temp_dir();
    // "/pgtest-XXXXXX/.s.PGSQL.5432" adds 29 bytes.
    if as_postgres || base.as_os_str().len() > 70 {
        PathBuf::from("/tmp")
    } else {
        base
    }
}

fn postgres_user() -> Result<(u32, u32), String> {
    let name = CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns null or a pointer to a static record, read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(
            "running as root, and there is no `postgres` user to run the server as \
                    (the Debian package `postgresql` creates it)"
                .into(),
        );
    }
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

/// Whether a process exists and is not a zombie (which a container's init may never reap).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
