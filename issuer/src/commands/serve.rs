//! `issuer serve`: the web service on the data directory's store.

use std::process::ExitCode;

use anyhow::{Context, Result};
use checkpass::keys::KeyRole;

use crate::cli::ServeArgs;
use issuer::web::{self, AppState, WebSigner};
use issuer::{keyring, keys};

use super::DataDir;

pub(super) fn serve(data: &DataDir, args: ServeArgs) -> Result<ExitCode> {
    // Checks that the store is there and initialised, and names it if not.
    let store = data.open()?;
    let signer = if args.sign {
        let passphrase = keyring::passphrase(false)?;
        let (record, key) =
            keys::unlock_active(&*store, &data.keys(), KeyRole::Signing, &passphrase)?;
        eprintln!("签发密钥 {} 已解锁：市级审核可在网页签发", record.kid);
        // Kept to unlock a key rotated later on the command line or in another process.
        Some((
            WebSigner {
                key,
                kid: record.kid,
            },
            passphrase,
        ))
    } else {
        None
    };
    drop(store);
    if let Some(dir) = &args.checkpoint_app {
        if !dir.join("index.html").is_file() {
            anyhow::bail!(
                "检查站网页应用目录 {} 中没有 index.html (no index.html in the checkpoint app's directory: scripts/build-checkpoint-web.sh builds checkpoint-web/dist)",
                dir.display()
            );
        }
    }
    let mut state = AppState::new(data.location(), args.connections)?;
    state.secure_cookies = args.behind_tls;
    state.passes_dir = data.passes();
    state.keys_dir = data.keys();
    match signer {
        Some((signer, passphrase)) => state.set_following_signer(signer, passphrase),
        None => state.set_signer(None),
    }
    state.checkpoint_app = args.checkpoint_app.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动网页服务的运行时")?;
    // The pool's last handle is dropped after the runtime, on this thread: closing a
    // PostgreSQL connection blocks, which a runtime's own threads may not do.
    let keep = state.clone();
    let served = runtime.block_on(web::serve(args.listen, state));
    drop(runtime);
    drop(keep);
    served.with_context(|| format!("无法在 {} 上提供网页服务", args.listen))?;
    eprintln!("网页服务已停止 / web service stopped");
    Ok(ExitCode::SUCCESS)
}
