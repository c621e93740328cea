//! The checkpoint network's tables on PostgreSQL: places, devices and imported scans. A file's
//! new entries go in with one statement (arrays unnested), not one round trip each.

use std::collections::HashMap;

use checkpass::logfile::{LogRecord, ScanLogFile};
use checkpass::scanlog::EntryKind;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Row;

use super::{corrupt, Tx};
use crate::domain::Place;
use crate::scans::{
    gaps, hash_from_text, hash_text, new_entries, Device, DeviceSummary, Scan, ScanFilter,
    ScansImported,
};
use crate::store::{Result, StoreError};

const SCAN_COLUMNS: &str = "device, id, kind, at, checkpoint, officer, serial, plate, verdict, \
    reasons, bundle_sequence, simulated, note, hash, imported_at";

fn scan_from_row(r: &Row) -> Result<Scan> {
    let kind: String = r.try_get(2)?;
    let hash: String = r.try_get(13)?;
    Ok(Scan {
        device: r.try_get(0)?,
        record: LogRecord {
            id: r.try_get(1)?,
            kind: EntryKind::parse(&kind).ok_or_else(|| corrupt("scans.kind", &kind))?,
            at: r.try_get(3)?,
            checkpoint: r.try_get(4)?,
            officer: r.try_get(5)?,
            serial: r.try_get(6)?,
            plate: r.try_get(7)?,
            verdict: r.try_get(8)?,
            reasons: r.try_get(9)?,
            bundle_sequence: r.try_get(10)?,
            simulated: r.try_get(11)?,
            note: r.try_get(12)?,
            hash: hash_from_text(&hash).ok_or_else(|| corrupt("scans.hash", &hash))?,
        },
        imported_at: r.try_get(14)?,
    })
}

fn device_from_row(r: &Row) -> Result<Device> {
    Ok(Device {
        kid: r.try_get(0)?,
        public_key: r.try_get(1)?,
        label: r.try_get(2)?,
        added_at: r.try_get(3)?,
        added_by: r.try_get(4)?,
    })
}

impl Tx<'_, '_> {
    pub(super) fn set_places(&mut self, places: &[Place], actor: &str, now: i64) -> Result<()> {
        self.execute("DELETE FROM places", &[])?;
        self.insert_places(places)?;
        self.audit_detail(
            now,
            actor,
            "registry.places",
            &format!("{} 个检查站坐标", places.len()),
        )
    }

    fn insert_places(&mut self, places: &[Place]) -> Result<()> {
        for p in places {
            self.execute(
                "INSERT INTO places (code, lat, lon) VALUES ($1, $2, $3)",
                &[&p.code, &p.lat, &p.lon],
            )?;
        }
        Ok(())
    }

    pub(super) fn places(&mut self) -> Result<Vec<Place>> {
        self.query(
            "SELECT code, lat, lon FROM places ORDER BY code COLLATE \"C\"",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(Place {
                code: r.try_get(0)?,
                lat: r.try_get(1)?,
                lon: r.try_get(2)?,
            })
        })
        .collect()
    }

    fn insert_device(&mut self, d: &Device) -> Result<bool> {
        let added = self.execute(
            "INSERT INTO devices (kid, public_key, label, added_at, added_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO NOTHING",
            &[&d.kid, &d.public_key, &d.label, &d.added_at, &d.added_by],
        )?;
        Ok(added == 1)
    }

    pub(super) fn add_device(&mut self, d: &Device, actor: &str, now: i64) -> Result<bool> {
        let added = self.insert_device(d)?;
        if added {
            self.audit_detail(now, actor, "devices.add", &format!("{} {}", d.kid, d.label))?;
        }
        Ok(added)
    }

    fn ids(&mut self, device: &str) -> Result<Vec<i64>> {
        self.query(
            "SELECT id FROM scans WHERE device = $1 ORDER BY id",
            &[&device],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    pub(super) fn devices(&mut self) -> Result<Vec<DeviceSummary>> {
        let rows = self.query(
            "SELECT d.kid, d.public_key, d.label, d.added_at, d.added_by, \
             (SELECT COUNT(*) FROM scans s WHERE s.device = d.kid), \
             (SELECT MAX(id) FROM scans s WHERE s.device = d.kid), \
             (SELECT at FROM scans s WHERE s.device = d.kid ORDER BY id DESC LIMIT 1) \
             FROM devices d ORDER BY d.label COLLATE \"C\", d.kid COLLATE \"C\"",
            &[],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let device = device_from_row(r)?;
            let missing = gaps(self.ids(&device.kid)?);
            out.push(DeviceSummary {
                device,
                entries: r.try_get::<_, i64>(5)? as u64,
                last_id: r.try_get(6)?,
                last_at: r.try_get(7)?,
                missing,
            });
        }
        Ok(out)
    }

    pub(super) fn import_scans(
        &mut self,
        log: &ScanLogFile,
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<ScansImported> {
        let kid = log.device.kid().to_hex();
        let registered: Option<String> = self
            .query_opt(
                "SELECT public_key FROM devices WHERE kid = $1 FOR SHARE",
                &[&kid],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if registered.as_deref() != Some(log.device.to_hex().as_str()) {
            return Err(StoreError::NoSuchDevice(kid));
        }
        let mut known = HashMap::new();
        if let (Some(first), Some(last)) = (log.entries.first(), log.entries.last()) {
            for r in self.query(
                "SELECT id, hash FROM scans WHERE device = $1 AND id BETWEEN $2 AND $3",
                &[&kid, &(first.id - 1), &last.id],
            )? {
                let id: i64 = r.try_get(0)?;
                let hash: String = r.try_get(1)?;
                let hash = hash_from_text(&hash).ok_or_else(|| corrupt("scans.hash", &hash))?;
                known.insert(id, hash);
            }
        }
        let (fresh, already) = new_entries(&kid, log, &known)?;
        let scans: Vec<Scan> = fresh
            .iter()
            .map(|e| Scan {
                device: kid.clone(),
                record: (*e).clone(),
                imported_at: now,
            })
            .collect();
        self.insert_scans(&scans)?;
        let detail = format!(
            "{source}: 设备 {kid}，新增 {} 条，已有 {already} 条",
            fresh.len()
        );
        self.audit_detail(now, actor, "scans.import", &detail)?;
        let missing = gaps(self.ids(&kid)?);
        Ok(ScansImported {
            device: kid,
            added: fresh.len(),
            already,
            missing,
        })
    }

    /// Inserts `scans` with one statement per 10,000 (arrays unnested).
    fn insert_scans(&mut self, scans: &[Scan]) -> Result<()> {
        for chunk in scans.chunks(10_000) {
            let col = |f: &dyn Fn(&Scan) -> Option<String>| -> Vec<Option<String>> {
                chunk.iter().map(f).collect()
            };
            let device = col(&|s| Some(s.device.clone()));
            let kind = col(&|s| Some(s.record.kind.as_str().to_string()));
            let checkpoint = col(&|s| Some(s.record.checkpoint.clone()));
            let officer = col(&|s| s.record.officer.clone());
            let serial = col(&|s| s.record.serial.clone());
            let plate = col(&|s| s.record.plate.clone());
            let verdict = col(&|s| s.record.verdict.clone());
            let reasons = col(&|s| Some(s.record.reasons.clone()));
            let note = col(&|s| s.record.note.clone());
            let hash = col(&|s| Some(hash_text(&s.record.hash)));
            let id: Vec<i64> = chunk.iter().map(|s| s.record.id).collect();
            let at: Vec<i64> = chunk.iter().map(|s| s.record.at).collect();
            let sequence: Vec<Option<i64>> =
                chunk.iter().map(|s| s.record.bundle_sequence).collect();
            let simulated: Vec<bool> = chunk.iter().map(|s| s.record.simulated).collect();
            let imported_at: Vec<i64> = chunk.iter().map(|s| s.imported_at).collect();
            self.execute(
                &format!(
                    "INSERT INTO scans ({SCAN_COLUMNS}) SELECT * FROM UNNEST($1::text[], \
                     $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], \
                     $8::text[], $9::text[], $10::text[], $11::bigint[], $12::boolean[], \
                     $13::text[], $14::text[], $15::bigint[])"
                ),
                &[
                    &device,
                    &id,
                    &kind,
                    &at,
                    &checkpoint,
                    &officer,
                    &serial,
                    &plate,
                    &verdict,
                    &reasons,
                    &sequence,
                    &simulated,
                    &note,
                    &hash,
                    &imported_at,
                ],
            )?;
        }
        Ok(())
    }

    pub(super) fn for_each_scan(
        &mut self,
        filter: &ScanFilter,
        visit: &mut dyn FnMut(Scan),
    ) -> Result<()> {
        let stmt = self.stmt(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE serial IS NOT NULL AND at >= $1 \
             AND ($2 OR NOT simulated) ORDER BY serial COLLATE \"C\", at, device COLLATE \"C\", id"
        ))?;
        let since = filter.since.unwrap_or(i64::MIN);
        let params: [&(dyn postgres::types::ToSql + Sync); 2] = [&since, &filter.include_simulated];
        let mut rows = self.tx.query_raw(&stmt, params)?;
        while let Some(row) = rows.next()? {
            visit(scan_from_row(&row)?);
        }
        Ok(())
    }

    pub(super) fn all_scans(&mut self) -> Result<Vec<Scan>> {
        self.query(
            &format!("SELECT {SCAN_COLUMNS} FROM scans ORDER BY device COLLATE \"C\", id"),
            &[],
        )?
        .iter()
        .map(scan_from_row)
        .collect()
    }

    pub(super) fn pass_facts(&mut self) -> Result<Vec<crate::findings::PassFacts>> {
        self.query(crate::store::PASS_FACTS_SQL, &[])?
            .iter()
            .map(|r| {
                let route: String = r.try_get(4)?;
                crate::store::pass_facts_of(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    &route,
                    r.try_get(5)?,
                    r.try_get(6)?,
                    r.try_get(7)?,
                )
            })
            .collect()
    }

    pub(super) fn all_devices(&mut self) -> Result<Vec<Device>> {
        self.query(
            "SELECT kid, public_key, label, added_at, added_by FROM devices \
             ORDER BY kid COLLATE \"C\"",
            &[],
        )?
        .iter()
        .map(device_from_row)
        .collect()
    }

    /// Restores the network's tables from a dump, inside the caller's transaction.
    pub(super) fn restore_network(
        &mut self,
        places: &[Place],
        devices: &[Device],
        scans: &[Scan],
    ) -> Result<()> {
        self.insert_places(places)?;
        for d in devices {
            self.insert_device(d)?;
        }
        self.insert_scans(scans)
    }
}
