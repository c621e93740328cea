//! Secret key files in the data directory: created once (never overwritten) with mode 0600 by
//! writing a temporary file and linking it into place, refused when other users could read
//! them, unlocked with the passphrase (one Argon2 derivation per key opened). Public key files
//! for the checkpoints are written here too. Sealing and the formats are `checkpass::keys`.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use checkpass::keys::{self, KeyRole, SigningKey};
use zeroize::Zeroizing;

/// The environment variable scripts use instead of the passphrase prompt.
pub const PASSPHRASE_ENV: &str = "ISSUER_PASSPHRASE";
/// The root key's own passphrase, if it has one (see [`root_passphrase`]).
pub const ROOT_PASSPHRASE_ENV: &str = "ISSUER_ROOT_PASSPHRASE";
/// A new account password for `issuer user add` / `user password`, in scripts.
pub const USER_PASSWORD_ENV: &str = "ISSUER_USER_PASSWORD";

/// A passphrase, zeroed when dropped.
pub type Passphrase = Zeroizing<String>;

/// A passphrase from the environment variable `var`, or asked on the terminal with `prompt`
/// (twice when `confirm`). A new passphrase (`confirm`) must pass the format's minimum.
fn read_passphrase(var: &str, prompt: &str, confirm: bool) -> Result<Passphrase> {
    let passphrase = match std::env::var(var) {
        Ok(p) => {
            if p.is_empty() {
                bail!("环境变量 {var} 为空：口令不能为空");
            }
            Zeroizing::new(p)
        }
        Err(_) => {
            let first =
                Zeroizing::new(rpassword::prompt_password(prompt).with_context(|| {
                    format!("无法从终端读取口令；在脚本中请设置环境变量 {var}")
                })?);
            if first.is_empty() {
                bail!("口令不能为空");
            }
            if confirm {
                let again = Zeroizing::new(
                    rpassword::prompt_password("再次输入口令 (again): ")
                        .context("无法从终端读取口令")?,
                );
                if again != first {
                    bail!("两次输入的口令不一致");
                }
            }
            first
        }
    };
    if confirm {
        keys::check_new_passphrase(&passphrase).with_context(|| format!("口令不可用（{var}）"))?;
    }
    Ok(passphrase)
}

/// The passphrase of the signing keys, from `ISSUER_PASSPHRASE` or asked on the terminal.
/// `new` when it will seal a new key (`init`): asked twice, and it must be at least
/// [`keys::MIN_PASSPHRASE_CHARS`] characters.
pub fn passphrase(new: bool) -> Result<Passphrase> {
    read_passphrase(PASSPHRASE_ENV, "私钥口令 (passphrase): ", new)
}

/// A new account password: `ISSUER_USER_PASSWORD`, or asked twice on the terminal; at least
/// as long as a key's passphrase.
pub fn new_user_password() -> Result<Passphrase> {
    read_passphrase(USER_PASSWORD_ENV, "账号口令 (account password): ", true)
}

/// The root key's passphrase when unlocking it (bundle signing): `ISSUER_ROOT_PASSPHRASE`,
/// else `ISSUER_PASSPHRASE` (a root key sealed under the same passphrase, the default), else
/// asked on the terminal.
pub fn root_passphrase() -> Result<Passphrase> {
    if std::env::var_os(ROOT_PASSPHRASE_ENV).is_some() {
        return read_passphrase(
            ROOT_PASSPHRASE_ENV,
            "根密钥口令 (root key passphrase): ",
            false,
        );
    }
    read_passphrase(PASSPHRASE_ENV, "根密钥口令 (root key passphrase): ", false)
}

/// The passphrase to seal a new root key under at `init`: `ISSUER_ROOT_PASSPHRASE` if set,
/// asked separately (twice) when `separate`, else the signing keys' `passphrase`.
pub fn new_root_passphrase(separate: bool, passphrase: &Passphrase) -> Result<Passphrase> {
    if separate || std::env::var_os(ROOT_PASSPHRASE_ENV).is_some() {
        return read_passphrase(
            ROOT_PASSPHRASE_ENV,
            "根密钥口令 (root key passphrase): ",
            true,
        );
    }
    Ok(passphrase.clone())
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
        let pw = "a passphrase of some length";
        let name = store_secret(dir.path(), &key, KeyRole::Signing, pw).unwrap();
        let path = dir.path().join(&name);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(store_secret(dir.path(), &key, KeyRole::Signing, pw).is_err());
        let back = unlock(&path, KeyRole::Signing, pw).unwrap();
        assert_eq!(back.kid(), key.kid());
        let wrong = unlock(&path, KeyRole::Signing, "nope").unwrap_err();
        assert!(format!("{wrong:#}").contains("口令错误"), "{wrong:#}");
        assert!(unlock(&path, KeyRole::Root, pw).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let open = unlock(&path, KeyRole::Signing, pw).unwrap_err();
            assert!(format!("{open:#}").contains("权限"), "{open:#}");
        }
    }
}
