//! Issuing: building the signed pass of an approved application, checking it with the same
//! rules a checkpoint runs, and writing its files so that a crash can never leave a pass
//! recorded as issued without them.
//!
//! The order is what makes it safe: (1) the serial is reserved and the QR text signed and
//! stored as `pending` in one transaction; (2) the files are written into a temporary directory
//! and renamed to `passes/<serial>/` — a directory that exists is complete; (3) the file system
//! is synced; (4) only then is the pass recorded as `issued`. A rerun after a crash at any
//! point finds the same reservation and finishes it, never signing a second pass.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use checkpass::bundle::{Checkpoint, IssuerKey, Policy, RevocationList, TrustBundle};
use checkpass::keys::SigningKey;
use checkpass::pass::{MaskedId, Pass, Serial};
use checkpass::scope::KeyScope;
use checkpass::verdict::Level;

use crate::domain::{Application, PassRecord};
use crate::render::{self, Formats, PassSheet};
use crate::store::{Ask, Lease, Reservation, SignError, Signed, Store, ToSign, Which};

use crate::validate::format_cst;

/// When a pass issued at `issued_at` starts: the planned start, or its issue if that is later
/// (a pass is never valid before it exists; checkpoints refuse one that claims so).
pub fn valid_from(app: &Application, issued_at: i64) -> i64 {
    app.data.start_at.max(issued_at)
}

/// Builds the pass an application is issued as.
pub fn build_pass(app: &Application, serial: Serial, issuer: &str, issued_at: i64) -> Result<Pass> {
    let d = &app.data;
    let body = d
        .pass_body()
        .map_err(|e| anyhow!("申请 {} 的身份证号无法脱敏：{e}", d.app_no))?;
    Ok(Pass {
        serial,
        issuer: issuer.to_string(),
        issued_at,
        not_before: valid_from(app, issued_at),
        expires_at: d.end_at,
        body,
    })
}

/// Checks a freshly signed pass the way a checkpoint will: it must verify under `key`, read
/// back as exactly `pass`, and get no red finding at its first checkpoint when it starts.
pub fn self_check(
    qr_text: &str,
    pass: &Pass,
    key: &SigningKey,
    scope: &KeyScope,
    checkpoints: &[Checkpoint],
    policy: &Policy,
) -> Result<()> {
    let bundle = TrustBundle {
        sequence: 0,
        issued_at: pass.not_before,
        issuer: pass.issuer.clone(),
        keys: vec![IssuerKey {
            public_key: key.public_key(),
            // The key as the bundle will show it while this pass lasts (see `commands::bundle`).
            valid_from: pass.issued_at,
            valid_to: pass.expires_at,
            compromised_since: None,
            scope: scope.clone(),
        }],
        checkpoints: checkpoints.to_vec(),
        revoked: RevocationList::default(),
        policy: *policy,
    };
    let first = pass
        .body
        .route
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let verdict = checkpass::rules::verify(qr_text, &bundle, first, pass.not_before);
    let red: Vec<String> = verdict
        .reasons
        .iter()
        .filter(|r| r.level() == Level::Red)
        .map(|r| r.message(checkpass::verdict::Lang::Zh))
        .collect();
    if !red.is_empty() {
        bail!(
            "通行证 {} 签名后自检未通过：{}",
            pass.serial,
            red.join("；")
        );
    }
    if verdict.pass.as_deref() != Some(pass) {
        bail!("通行证 {} 签名后读回的内容与原内容不一致", pass.serial);
    }
    Ok(())
}

/// The display strings of a pass sheet.
pub fn sheet_data(
    app: &Application,
    pass: &PassRecord,
    checkpoints: &[Checkpoint],
    issuer_name: &str,
) -> PassSheet {
    let d = &app.data;
    let name_of = |code: &str| {
        checkpoints
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let masked = MaskedId::from_full_id(&d.driver_id)
        .map(|m| m.to_string())
        .unwrap_or_default();
    let facts = render::PassFacts {
        number: checkpass::number::printed(d.district, pass.serial),
        plate: d.plate.clone(),
        trailer: d.trailer.clone(),
        driver_name: d.driver_name.clone(),
        driver_id_masked: masked,
        occupants: d.occupants,
        category_zh: d.category.label_zh().to_string(),
        category_en: d.category.label_en().to_string(),
        cargo: d.cargo.clone(),
        origin: d.origin.clone(),
        destination: d.destination.clone(),
        route: d
            .route
            .iter()
            .map(|c| render::RouteStop {
                code: c.clone(),
                name: name_of(c),
                here: false,
            })
            .collect(),
        valid_from: format_cst(valid_from(app, pass.issued_at)),
        valid_to: format_cst(d.end_at),
        test_sampled_at: format_cst(d.test_sampled_at),
        arrive_by: d.arrive_by.map(format_cst),
    };
    PassSheet {
        facts,
        issuer_name: issuer_name.to_string(),
        qr_text: pass.qr_text.clone(),
    }
}

/// The directory a pass's files live in.
pub fn pass_dir(passes: &Path, serial: Serial) -> PathBuf {
    passes.join(serial.to_string())
}

/// Writes a pass's files into `passes/<serial>/` through a temporary directory renamed into
/// place. If the directory already exists (a run killed after the rename, another process, or
/// an earlier run with fewer formats), only the requested files it lacks are rendered, each
/// renamed in on its own: a file, like the directory, only ever appears complete.
pub fn write_pass_dir(
    passes: &Path,
    sheet: &PassSheet,
    serial: Serial,
    formats: Formats,
) -> Result<PathBuf> {
    let target = pass_dir(passes, serial);
    if target.is_dir() {
        let missing = formats.missing_in(&target);
        let mut names = missing.file_names();
        names.extend(
            render::ALWAYS_WRITTEN
                .into_iter()
                .filter(|n| !target.join(n).is_file()),
        );
        if !names.is_empty() {
            add_files(passes, &target, sheet, serial, missing, &names)?;
        }
        return Ok(target);
    }
    let tmp = render_beside(passes, sheet, serial, formats)?;
    let tmp_path = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp_path, &target) {
        // Lost a race with another writer of the same (identical) pass: theirs is complete.
        let _ = std::fs::remove_dir_all(&tmp_path);
        if !target.is_dir() {
            return Err(e).with_context(|| format!("无法写入 {}", target.display()));
        }
    }
    Ok(target)
}

/// Renders a pass's files into a new temporary folder in `passes` (removed when dropped).
fn render_beside(
    passes: &Path,
    sheet: &PassSheet,
    serial: Serial,
    formats: Formats,
) -> Result<tempfile::TempDir> {
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".tmp-{serial}-"))
        .tempdir_in(passes)
        .with_context(|| format!("无法在 {} 中创建临时目录", passes.display()))?;
    render::render_all(sheet, tmp.path(), &formats)
        .with_context(|| format!("生成通行证 {serial} 的文件失败"))?;
    Ok(tmp)
}

/// Renders `formats` of an existing pass folder beside it and moves the files `names` in.
fn add_files(
    passes: &Path,
    target: &Path,
    sheet: &PassSheet,
    serial: Serial,
    formats: Formats,
    names: &[&str],
) -> Result<()> {
    let tmp = render_beside(passes, sheet, serial, formats)?;
    for name in names {
        let to = target.join(name);
        std::fs::rename(tmp.path().join(name), &to)
            .with_context(|| format!("无法写入 {}", to.display()))?;
    }
    Ok(())
}

/// Removes temporary directories left by a killed run: those not touched for `older_than`
/// (a running issuer, here or on another machine sharing the folder, renames its own within
/// seconds).
pub fn remove_stale_temps(passes: &Path, older_than: Duration) -> Result<()> {
    let entries = match std::fs::read_dir(passes) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("无法读取 {}", passes.display())),
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

/// Flushes everything written so far to stable storage before passes are recorded as issued.
pub fn sync_dir(dir: &Path) -> Result<()> {
    let file = std::fs::File::open(dir).with_context(|| format!("无法打开 {}", dir.display()))?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs only reads the descriptor, which `file` keeps open for the call.
        if unsafe { libc::syncfs(file.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error()).context("同步文件系统失败");
        }
    }
    #[cfg(not(target_os = "linux"))]
    file.sync_all().context("同步目录失败")?;
    Ok(())
}

/// Everything an issuing run needs besides the store.
pub struct Job<'a> {
    /// The active signing key, unlocked once for the whole run.
    pub key: &'a SigningKey,
    pub kid: &'a str,
    /// What the key may sign (from its record): an application outside it is refused.
    pub scope: &'a KeyScope,
    pub issuer: &'a str,
    pub issuer_name: &'a str,
    pub checkpoints: &'a [Checkpoint],
    /// The policy the checkpoints will judge the passes by (the self-check uses it).
    pub policy: &'a Policy,
    pub passes_dir: &'a Path,
    pub formats: Formats,
    pub actor: &'a str,
    /// Passes per reservation and per recording transaction.
    pub batch: usize,
    /// Rendering threads.
    pub workers: usize,
    /// This run's hold on the reservations it takes.
    pub lease: &'a Lease,
}

/// A pass this run issued.
#[derive(Debug)]
pub struct Done {
    pub app_no: String,
    pub serial: Serial,
    /// The national pass number printed on its sheet.
    pub number: String,
    pub dir: PathBuf,
}

/// Where the time of a run went (seconds), for the benchmark.
#[derive(Debug, Default, serde::Serialize)]
pub struct Timings {
    /// Reserving serials and signing (database transaction, main thread).
    pub reserve_secs: f64,
    /// The main thread waiting for the rendering threads.
    pub render_wait_secs: f64,
    /// Flushing the written files to disk.
    pub sync_secs: f64,
    /// Recording passes as issued (database transaction).
    pub record_secs: f64,
}

fn signer<'a>(job: &'a Job<'a>) -> impl FnMut(ToSign<'_>) -> Result<Signed, SignError> + 'a {
    move |s: ToSign<'_>| {
        let pass = build_pass(s.app, s.serial, job.issuer, s.issued_at)?;
        check_scope(job.kid, job.scope, &pass)?;
        let qr_text = checkpass::wire::issue_qr_text(&pass, job.key)?;
        self_check(
            &qr_text,
            &pass,
            job.key,
            job.scope,
            job.checkpoints,
            job.policy,
        )?;
        Ok(Signed {
            qr_text,
            kid: job.kid.to_string(),
        })
    }
}

/// An application the signing key may not sign: checkpoints would refuse the pass
/// (`KEY_OUT_OF_SCOPE`), so none is made.
#[derive(Debug, thiserror::Error)]
#[error(
    "签发密钥 {kid} 无权签发此申请（{what}）：该密钥限于 {scope}。请由范围覆盖此申请的签发密钥签发 (application outside the signing key's scope)"
)]
pub struct OutOfScopeError {
    pub kid: String,
    pub what: String,
    pub scope: String,
}

/// The scope rule ([`KeyScope::check`]) before signing.
pub fn check_scope(kid: &str, scope: &KeyScope, pass: &Pass) -> Result<(), OutOfScopeError> {
    scope.check(&pass.body).map_err(|out| {
        let mut what = Vec::new();
        if let Some(d) = out.district {
            what.push(format!("区划 {d:06}"));
        }
        if let Some(c) = out.category {
            what.push(format!("类别 {}", c.label_zh()));
        }
        OutOfScopeError {
            kid: kid.to_string(),
            what: what.join("，"),
            scope: scope.to_string(),
        }
    })
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn render_one(job: &Job<'_>, r: &Reservation) -> Result<PathBuf> {
    let sheet = sheet_data(&r.app, &r.pass, job.checkpoints, job.issuer_name);
    write_pass_dir(job.passes_dir, &sheet, r.pass.serial, job.formats)
}

/// Files on disk first, then recorded as issued.
fn record(
    store: &mut dyn Store,
    job: &Job<'_>,
    batch: &[Reservation],
    t: &mut Timings,
) -> Result<()> {
    let started = Instant::now();
    sync_dir(job.passes_dir)?;
    t.sync_secs += secs(started.elapsed());
    let started = Instant::now();
    let serials: Vec<Serial> = batch.iter().map(|r| r.pass.serial).collect();
    store.mark_issued(&serials, job.actor, crate::clock::now())?;
    t.record_secs += secs(started.elapsed());
    Ok(())
}

/// An application a run could not issue, and why (its reservation, if any, stays pending and
/// the next run tries it again; the city can withdraw it with `issuer reject`).
#[derive(Debug, serde::Serialize)]
pub struct Failed {
    pub app_no: String,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<Done>,
    pub failed: Vec<Failed>,
    pub timings: Timings,
}

fn unsigned_failures(unsigned: Vec<(Application, SignError)>) -> impl Iterator<Item = Failed> {
    unsigned.into_iter().map(|(app, e)| Failed {
        app_no: app.data.app_no,
        reason: checkpass::describe_error(e.as_ref()),
    })
}

/// Issues one approved application (or finishes its reservation left by a crash).
pub fn issue_one(store: &mut dyn Store, job: &Job<'_>, app_no: &str) -> Result<Outcome> {
    let mut out = Outcome::default();
    let reserved = store.reserve(
        &Ask {
            which: Which::One(app_no),
            limit: 1,
            skip: &HashSet::new(),
            lease: job.lease,
            actor: job.actor,
            now: crate::clock::now(),
        },
        &mut signer(job),
    )?;
    if let Some(f) = unsigned_failures(reserved.unsigned).next() {
        bail!("申请 {} 无法签发：{}", f.app_no, f.reason);
    }
    if reserved.passes.is_empty() {
        bail!(
            "申请 {app_no} 正由另一个签发进程处理：其租约到期（至多 {} 秒）前不会由本进程重复签发，请稍后再试",
            job.lease.secs
        );
    }
    for r in &reserved.passes {
        let dir = render_one(job, r)?;
        out.done.push(Done {
            app_no: r.app.data.app_no.clone(),
            serial: r.pass.serial,
            number: checkpass::number::printed(r.app.data.district, r.pass.serial),
            dir,
        });
    }
    record(store, job, &reserved.passes, &mut out.timings)?;
    Ok(out)
}

/// Issues every approved application: first the reservations an earlier run left pending,
/// then new ones. Rendering runs on `workers` threads while the main thread reserves the next
/// batch and records finished ones, at most two batches in flight. An application that cannot
/// be signed or rendered is reported in [`Outcome::failed`] and passed over; the rest of the
/// batch is issued.
pub fn issue_all(store: &mut dyn Store, job: &Job<'_>) -> Result<Outcome> {
    let mut out = Outcome::default();
    let t = &mut out.timings;
    // Applications that failed in this run: no reservation query returns them again.
    let mut skip: HashSet<String> = HashSet::new();
    let (job_tx, job_rx) = mpsc::channel::<(u64, usize, Reservation)>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, usize, Result<PathBuf>)>();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..job.workers.max(1) {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            scope.spawn(move || loop {
                let next = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((batch, index, r)) = next else { return };
                if done_tx.send((batch, index, render_one(job, &r))).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);

        struct InFlight {
            id: u64,
            reserved: Vec<Reservation>,
            /// The folder written, or why not.
            dirs: Vec<Option<Result<PathBuf>>>,
            left: usize,
        }
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut next_id = 0u64;
        let mut which = Which::Pending;
        let mut exhausted = false;
        loop {
            while in_flight.len() < 2 && !exhausted {
                let started = Instant::now();
                let reserved = store.reserve(
                    &Ask {
                        which,
                        limit: job.batch,
                        skip: &skip,
                        lease: job.lease,
                        actor: job.actor,
                        now: crate::clock::now(),
                    },
                    &mut signer(job),
                )?;
                t.reserve_secs += secs(started.elapsed());
                let refused = !reserved.unsigned.is_empty();
                for f in unsigned_failures(reserved.unsigned) {
                    skip.insert(f.app_no.clone());
                    out.failed.push(f);
                }
                let reserved = reserved.passes;
                if reserved.is_empty() {
                    // Refused ones are skipped from now on: ask again. Nothing reserved and
                    // nothing refused: this kind of work is done.
                    if !refused {
                        match which {
                            Which::Pending => which = Which::New,
                            _ => exhausted = true,
                        }
                    }
                    continue;
                }
                // Pending reservations are finished one batch at a time: the query would
                // return them again until they are recorded.
                for (index, r) in reserved.iter().enumerate() {
                    job_tx
                        .send((next_id, index, r.clone()))
                        .map_err(|_| anyhow!("生成通行证文件的线程已退出"))?;
                }
                let n = reserved.len();
                in_flight.push_back(InFlight {
                    id: next_id,
                    reserved,
                    dirs: (0..n).map(|_| None).collect(),
                    left: n,
                });
                next_id += 1;
                if which == Which::Pending {
                    break;
                }
            }
            let Some(front_id) = in_flight.front().map(|b| b.id) else {
                break;
            };
            let started = Instant::now();
            while in_flight.front().is_some_and(|b| b.left > 0) {
                let (batch, index, result) = done_rx
                    .recv()
                    .map_err(|_| anyhow!("生成通行证文件的线程异常退出"))?;
                if let Some(b) = in_flight.iter_mut().find(|b| b.id == batch) {
                    b.dirs[index] = Some(result);
                    b.left -= 1;
                }
            }
            t.render_wait_secs += secs(started.elapsed());
            let Some(front) = in_flight.pop_front() else {
                break;
            };
            debug_assert_eq!(front.id, front_id);
            // Only passes whose files are on disk are recorded; one that failed to render
            // stays pending and is reported.
            let mut written = Vec::with_capacity(front.reserved.len());
            let mut dirs = Vec::with_capacity(front.reserved.len());
            for (r, dir) in front.reserved.into_iter().zip(front.dirs) {
                match dir {
                    Some(Ok(dir)) => {
                        written.push(r);
                        dirs.push(dir);
                    }
                    Some(Err(e)) => {
                        skip.insert(r.app.data.app_no.clone());
                        out.failed.push(Failed {
                            app_no: r.app.data.app_no,
                            reason: format!("{e:#}"),
                        });
                    }
                    None => bail!("通行证 {} 的文件未生成", r.pass.serial),
                }
            }
            record(store, job, &written, t)?;
            for (r, dir) in written.into_iter().zip(dirs) {
                out.done.push(Done {
                    number: checkpass::number::printed(r.app.data.district, r.pass.serial),
                    app_no: r.app.data.app_no,
                    serial: r.pass.serial,
                    dir,
                });
            }
        }
        drop(job_tx);
        Ok(())
    })?;
    Ok(out)
}
