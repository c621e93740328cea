//! The checkpoint network's tables on SQLite: places, devices and imported scans.

use std::collections::HashMap;

use checkpass::logfile::{LogRecord, ScanLogFile};
use checkpass::scanlog::EntryKind;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::audit_detail;
use crate::domain::Place;
use crate::scans::{
    gaps, hash_from_text, hash_text, new_entries, Device, DeviceSummary, Scan, ScanFilter,
    ScansImported,
};
use crate::store::{Result, StoreError};

pub(super) fn set_places(conn: &Connection, places: &[Place], actor: &str, now: i64) -> Result<()> {
    conn.execute("DELETE FROM places", [])?;
    for p in places {
        conn.prepare_cached("INSERT INTO places (code, lat, lon) VALUES (?1, ?2, ?3)")?
            .execute(params![p.code, p.lat, p.lon])?;
    }
    audit_detail(
        conn,
        now,
        actor,
        "registry.places",
        &format!("{} 个检查站坐标", places.len()),
    )?;
    Ok(())
}

pub(super) fn places(conn: &Connection) -> Result<Vec<Place>> {
    let mut stmt = conn.prepare("SELECT code, lat, lon FROM places ORDER BY code")?;
    let rows = stmt.query_map([], |r| {
        Ok(Place {
            code: r.get(0)?,
            lat: r.get(1)?,
            lon: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn insert_device(conn: &Connection, d: &Device) -> Result<bool> {
    let added = conn.execute(
        "INSERT INTO devices (kid, public_key, label, added_at, added_by) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kid) DO NOTHING",
        params![d.kid, d.public_key, d.label, d.added_at, d.added_by],
    )?;
    Ok(added == 1)
}

pub(super) fn add_device(conn: &Connection, d: &Device, actor: &str, now: i64) -> Result<bool> {
    let added = insert_device(conn, d)?;
    if added {
        let detail = format!("{} {}", d.kid, d.label);
        audit_detail(conn, now, actor, "devices.add", &detail)?;
    }
    Ok(added)
}

pub(super) fn devices(conn: &Connection) -> Result<Vec<DeviceSummary>> {
    let mut stmt = conn.prepare(
        "SELECT d.kid, d.public_key, d.label, d.added_at, d.added_by, \
         (SELECT COUNT(*) FROM scans s WHERE s.device = d.kid), \
         (SELECT MAX(id) FROM scans s WHERE s.device = d.kid), \
         (SELECT at FROM scans s WHERE s.device = d.kid ORDER BY id DESC LIMIT 1) \
         FROM devices d ORDER BY d.label, d.kid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            Device {
                kid: r.get(0)?,
                public_key: r.get(1)?,
                label: r.get(2)?,
                added_at: r.get(3)?,
                added_by: r.get(4)?,
            },
            r.get::<_, i64>(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (device, entries, last_id, last_at) = row?;
        let missing = gaps(ids(conn, &device.kid)?);
        out.push(DeviceSummary {
            device,
            entries: entries as u64,
            last_id,
            last_at,
            missing,
        });
    }
    Ok(out)
}

fn ids(conn: &Connection, device: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM scans WHERE device = ?1 ORDER BY id")?;
    let rows = stmt.query_map([device], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn import_scans(
    conn: &Connection,
    log: &ScanLogFile,
    source: &str,
    actor: &str,
    now: i64,
) -> Result<ScansImported> {
    let kid = log.device.kid().to_hex();
    let registered: Option<String> = conn
        .query_row(
            "SELECT public_key FROM devices WHERE kid = ?1",
            [&kid],
            |r| r.get(0),
        )
        .optional()?;
    if registered.as_deref() != Some(log.device.to_hex().as_str()) {
        return Err(StoreError::NoSuchDevice(kid));
    }
    let mut known = HashMap::new();
    if let (Some(first), Some(last)) = (log.entries.first(), log.entries.last()) {
        let mut stmt = conn.prepare_cached(
            "SELECT id, hash FROM scans WHERE device = ?1 AND id BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![kid, first.id - 1, last.id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, hash) = row?;
            let hash = hash_from_text(&hash)
                .ok_or_else(|| StoreError::Corrupt(format!("scans {kid}/{id}: hash")))?;
            known.insert(id, hash);
        }
    }
    let (fresh, already) = new_entries(&kid, log, &known)?;
    for e in &fresh {
        insert_scan(conn, &kid, e, now)?;
    }
    let detail = format!(
        "{source}: 设备 {kid}，新增 {} 条，已有 {already} 条",
        fresh.len()
    );
    audit_detail(conn, now, actor, "scans.import", &detail)?;
    Ok(ScansImported {
        device: kid.clone(),
        added: fresh.len(),
        already,
        missing: gaps(ids(conn, &kid)?),
    })
}

fn insert_scan(conn: &Connection, device: &str, e: &LogRecord, imported_at: i64) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO scans ({SCAN_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?
    .execute(params![
        device,
        e.id,
        e.kind.as_str(),
        e.at,
        e.checkpoint,
        e.officer,
        e.serial,
        e.plate,
        e.verdict,
        e.reasons,
        e.bundle_sequence,
        e.simulated,
        e.note,
        hash_text(&e.hash),
        imported_at,
    ])?;
    Ok(())
}

pub(super) const SCAN_COLUMNS: &str = "device, id, kind, at, checkpoint, officer, serial, plate, \
    verdict, reasons, bundle_sequence, simulated, note, hash, imported_at";

pub(super) fn scan_from_row(r: &Row<'_>) -> rusqlite::Result<Scan> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("scans.{what}").into(),
        )
    };
    let kind: String = r.get(2)?;
    let hash: String = r.get(13)?;
    Ok(Scan {
        device: r.get(0)?,
        record: LogRecord {
            id: r.get(1)?,
            kind: EntryKind::parse(&kind).ok_or_else(|| bad(2, "kind"))?,
            at: r.get(3)?,
            checkpoint: r.get(4)?,
            officer: r.get(5)?,
            serial: r.get(6)?,
            plate: r.get(7)?,
            verdict: r.get(8)?,
            reasons: r.get(9)?,
            bundle_sequence: r.get(10)?,
            simulated: r.get(11)?,
            note: r.get(12)?,
            hash: hash_from_text(&hash).ok_or_else(|| bad(13, "hash"))?,
        },
        imported_at: r.get(14)?,
    })
}

pub(super) fn for_each_scan(
    conn: &Connection,
    filter: &ScanFilter,
    visit: &mut dyn FnMut(Scan),
) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SCAN_COLUMNS} FROM scans WHERE serial IS NOT NULL AND at >= ?1 \
         AND (?2 OR NOT simulated) ORDER BY serial, at, device, id"
    ))?;
    let mut rows = stmt.query(params![
        filter.since.unwrap_or(i64::MIN),
        filter.include_simulated
    ])?;
    while let Some(row) = rows.next()? {
        visit(scan_from_row(row)?);
    }
    Ok(())
}

pub(super) fn all_scans(conn: &Connection) -> Result<Vec<Scan>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SCAN_COLUMNS} FROM scans ORDER BY device, id"
    ))?;
    let rows = stmt.query_map([], scan_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn pass_facts(conn: &Connection) -> Result<Vec<crate::findings::PassFacts>> {
    let mut stmt = conn.prepare(crate::store::PASS_FACTS_SQL)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let route: String = r.get(4)?;
        out.push(crate::store::pass_facts_of(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            &route,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        )?);
    }
    Ok(out)
}

pub(super) fn all_devices(conn: &Connection) -> Result<Vec<Device>> {
    let mut stmt = conn
        .prepare("SELECT kid, public_key, label, added_at, added_by FROM devices ORDER BY kid")?;
    let rows = stmt.query_map([], |r| {
        Ok(Device {
            kid: r.get(0)?,
            public_key: r.get(1)?,
            label: r.get(2)?,
            added_at: r.get(3)?,
            added_by: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Restores the network's tables from a dump, inside the caller's transaction.
pub(super) fn restore(
    conn: &Connection,
    places: &[Place],
    devices: &[Device],
    scans: &[Scan],
) -> Result<()> {
    for p in places {
        conn.prepare_cached("INSERT INTO places (code, lat, lon) VALUES (?1, ?2, ?3)")?
            .execute(params![p.code, p.lat, p.lon])?;
    }
    for d in devices {
        insert_device(conn, d)?;
    }
    for s in scans {
        insert_scan(conn, &s.device, &s.record, s.imported_at)?;
    }
    Ok(())
}
