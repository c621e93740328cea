//! Size of real-looking passes: builds a pass from every good row of the sample applications,
//! signs it, and reports COSE bytes, QR text length and QR version at ECC M and Q — without
//! and with a planned arrival at the last checkpoint (`arrive_by`, two hours before the
//! window's end), to show what the look-ahead costs.
//!
//! `cargo run -p checkpass --example pass_size`

use checkpass::pass::{Category, MaskedId, Pass, PassBody, Serial};
use checkpass::sample;
use checkpass::time::parse_cst;
use checkpass::wire;
use qrcode::{EcLevel, QrCode, Version};

fn version_number(v: Version) -> i16 {
    match v {
        Version::Normal(n) | Version::Micro(n) => n,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = sample::vector_signing_key();
    let csv = include_str!("../../samples/weihai/applications.csv");
    let bad = include_str!("../../samples/weihai/bad-rows.csv");
    for with_arrival in [false, true] {
        table(&key, csv, bad, with_arrival)?;
    }
    Ok(())
}

fn table(
    key: &checkpass::keys::SigningKey,
    csv: &str,
    bad: &str,
    with_arrival: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    for (i, line) in csv.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 18 || bad.contains(f[0]) {
            continue;
        }
        let pass = Pass {
            // A realistic serial: the hundred-thousandth pass of the campaign.
            serial: Serial(100_000 + i as u64),
            issuer: sample::ISSUER.into(),
            issued_at: sample::ISSUED_AT,
            not_before: parse_cst(f[13]).ok_or("start")?,
            expires_at: parse_cst(f[14]).ok_or("end")?,
            body: PassBody {
                district: f[2].parse()?,
                plate: f[3].into(),
                trailer: (!f[4].is_empty()).then(|| f[4].to_string()),
                driver_name: f[5].into(),
                driver_id: MaskedId::from_full_id(f[6])?,
                occupants: f[8].parse()?,
                category: Category::from_label(f[9]).ok_or("category")?,
                cargo: f[10].into(),
                origin: f[11].into(),
                destination: f[12].into(),
                route: f[15].split('→').map(str::to_string).collect(),
                test_sampled_at: parse_cst(f[16]).ok_or("sample time")?,
                arrive_by: with_arrival
                    .then(|| parse_cst(f[14]).map(|end| end - 2 * 3600))
                    .flatten(),
            },
        };
        let cose = wire::sign_pass(&pass, key)?;
        let text = wire::qr_text(&cose);
        let m = QrCode::with_error_correction_level(&text, EcLevel::M)?.version();
        let q = QrCode::with_error_correction_level(&text, EcLevel::Q)?.version();
        rows.push((
            cose.len(),
            text.len(),
            version_number(m),
            version_number(q),
            f[0].to_string(),
        ));
    }
    rows.sort();
    let n = rows.len();
    let pick = |i: usize| &rows[i];
    println!(
        "{n} passes from the good sample applications, {}",
        if with_arrival {
            "with a planned arrival"
        } else {
            "without a planned arrival"
        }
    );
    println!(
        "| | COSE bytes | QR text chars | QR version ECC M | QR version ECC Q | application |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, r) in [
        ("smallest", pick(0)),
        ("median", pick(n / 2)),
        ("largest", pick(n - 1)),
    ] {
        println!(
            "| {label} | {} | {} | {} | {} | {} |",
            r.0, r.1, r.2, r.3, r.4
        );
    }
    Ok(())
}
