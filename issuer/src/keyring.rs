//! Secret key files in the data directory: created once (never overwritten) with mode 0600 by
//! writing a temporary file and linking it into place, refused when other users could read
//! them, unlocked with the passphrase (one Argon2 derivation per key opened). Public key files
//! for the checkpoints are written here too. Sealing and the formats are `checkpass::keys`.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use checkpass::keys::{self, KeyRole, SigningKey};

/// The environment variable scripts use instead of the passphrase prompt.
pub const PASSPHRASE_ENV: &str = "ISSUER_PASSPHRASE";

/// The passphrase from `ISSUER_PASSPHRASE`, or asked on the terminal (twice when `confirm`).
pub fn passphrase(confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        if p.is_empty() {
            bail!("环境变量 {PASSPHRASE_ENV} 为空：口令不能为空");
        }
        return Ok(p);
    }
    let first = rpassword::prompt_password("私钥口令 (passphrase): ")
        .with_context(|| format!("无法从终端读取口令；在脚本中请设置环境变量 {PASSPHRASE_ENV}"))?;
    if first.is_empty() {
        bail!("口令不能为空");
    }
    if confirm {
        let again =
            rpassword::prompt_password("再次输入口令 (again): ").context("无法从终端读取口令")?;
        if again != first {
            bail!("两次输入的口令不一致");
        }
    }
    Ok(first)
}

/// File name of a sealed key in the keys directory.
pub fn secret_file_name(role: KeyRole, kid: &str) -> String {
    format!("{}-{kid}.key", role.as_str())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory with `mode`,
/// synced, then moved into place. With `overwrite = false` an existing file is never replaced.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, overwrite: bool) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("无法在 {} 中创建文件", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("写入 {} 失败", path.display()))?;
    if overwrite {
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("无法写入 {}", path.display()))?;
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| e.error)
            .with_context(|| format!("{} 已存在或无法写入，未覆盖", path.display()))?;
    }
    Ok(())
}

/// Seals `key` and stores it as a new 0600 file in `dir`; returns the file name.
pub fn store_secret(
    dir: &Path,
    key: &SigningKey,
    role: KeyRole,
    passphrase: &str,
) -> Result<String> {
    let text = keys::seal(key, role, passphrase).context("无法加密私钥")?;
    let name = secret_file_name(role, &key.kid().to_hex());
    write_atomic(&dir.join(&name), text.as_bytes(), 0o600, false)?;
    Ok(name)
}

/// Reads a sealed key file, refusing one that group or other users may read or write.
pub fn read_secret(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("无法读取私钥文件 {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        keys::check_secret_file_mode(meta.permissions().mode())
            .with_context(|| format!("拒绝使用私钥文件 {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path).with_context(|| format!("无法读取私钥文件 {}", path.display()))
}

/// Opens the sealed key at `path`, which must hold a key of `role`.
pub fn unlock(path: &Path, role: KeyRole, passphrase: &str) -> Result<SigningKey> {
    let text = read_secret(path)?;
    let (key, found) = keys::open_sealed(&text, passphrase)
        .with_context(|| format!("无法打开私钥 {}", path.display()))?;
    if found != role {
        bail!("{} 是{}密钥，这里需要{}密钥", path.display(), found, role);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_seed(&[7; 32]);
        let name = store_secret(dir.path(), &key, KeyRole::Signing, "pw").unwrap();
        let path = dir.path().join(&name);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(store_secret(dir.path(), &key, KeyRole::Signing, "pw").is_err());
        let back = unlock(&path, KeyRole::Signing, "pw").unwrap();
        assert_eq!(back.kid(), key.kid());
        let wrong = unlock(&path, KeyRole::Signing, "nope").unwrap_err();
        assert!(format!("{wrong:#}").contains("口令错误"), "{wrong:#}");
        assert!(unlock(&path, KeyRole::Root, "pw").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let open = unlock(&path, KeyRole::Signing, "pw").unwrap_err();
            assert!(format!("{open:#}").contains("权限"), "{open:#}");
        }
    }
}
