//! `verifier init`: pins the root key and names this checkpoint.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::keys::{self, KeyRole};
use checkpass::verdict::Lang;

use super::flags::InitArgs;
use super::{read_file, t, write_fields};
use crate::engine::{Engine, InitOptions};

pub fn run(dir: &Path, args: InitArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let bytes = read_file(&args.root_key, 64 * 1024, "根公钥文件")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "根公钥文件 {} 不是文本 (not a text file)",
            args.root_key.display()
        )
    })?;
    let (key, role) = keys::parse_public_key_file(&text)
        .with_context(|| format!("根公钥文件 {} 无效", args.root_key.display()))?;
    if role != KeyRole::Root {
        bail!(
            "{} 是 {role} 公钥，不是根公钥 (not a root key)",
            args.root_key.display()
        );
    }
    let options = InitOptions {
        allow_dev_keys: args.allow_dev_keys,
    };
    let engine = Engine::init_with(dir, key, &args.checkpoint, args.officer.as_deref(), options)?;
    let lang = lang.unwrap_or(engine.settings().lang);
    let s = engine.settings();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} {}",
        t(lang, "已初始化数据目录", "Initialised data directory"),
        engine.dir().display()
    )?;
    let mut fields = vec![
        ("根公钥", "Root key", s.root_key.kid().to_string()),
        ("检查站", "Checkpoint", s.checkpoint.clone()),
    ];
    if let Some(o) = &s.officer {
        fields.push(("执勤人员", "Officer", o.clone()));
    }
    fields.push((
        "本机记录密钥",
        "Device log key",
        format!(
            "{} (verifier log device --out FILE)",
            engine.device_public_key()?.kid()
        ),
    ));
    write_fields(&mut out, lang, &fields)?;
    if engine.bundle().is_err() {
        writeln!(
            out,
            "{}",
            t(
                lang,
                "下一步：verifier bundle install FILE 安装信任包",
                "Next: verifier bundle install FILE"
            )
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
