//! `issuer serve`: the web service on the data directory's store.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::ServeArgs;
use issuer::web::{self, AppState};

use super::DataDir;

pub(super) fn serve(data: &DataDir, args: ServeArgs) -> Result<ExitCode> {
    // Checks that the store is there and initialised, and names it if not.
    drop(data.open()?);
    let mut state = AppState::new(data.location(), args.connections)?;
    state.secure_cookies = args.behind_tls;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动网页服务的运行时")?;
    runtime
        .block_on(web::serve(args.listen, state))
        .with_context(|| format!("无法在 {} 上提供网页服务", args.listen))?;
    Ok(ExitCode::SUCCESS)
}
