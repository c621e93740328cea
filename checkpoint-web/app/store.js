// The app's state in IndexedDB: settings (the pinned root file, the installed bundle's bytes,
// sequence and digest, checkpoint, officer, language) and the scan log. It survives closing
// the tab, restarting the phone and a new version of the app.
//
// The scan log is a hash chain, the desktop verifier's own (checkpass::scanlog, through the
// WebAssembly's chain_link): each entry's hash covers the one before it, so an entry changed,
// removed or inserted afterwards is found by verify_log.
//
// Entries are scans (no `kind`: written before kinds existed, or `kind: 'scan'`) and the
// officer's records of a newer test report (`kind: 'test_report'`, with its `note`,
// checkpass::scanlog::EntryKind::TestReport). The device key that signs the log's exports is a
// 32-byte seed in the settings (`device_seed`), made once on this device.

import { bilingual } from './i18n.js';

const DB = 'checkpoint';

/** The fields of a logged entry that the chain covers, as the native log stores them. A scan
 * stored before kinds existed hashes exactly as it did then. */
export function chainFields(s) {
  return {
    id: s.id,
    kind: s.kind ?? 'scan',
    at: s.at,
    checkpoint: s.checkpoint,
    officer: s.officer || null,
    serial: s.serial ?? null,
    plate: s.plate ?? null,
    verdict: s.level ?? null,
    reasons: (s.reasons ?? []).join(' '),
    bundle_sequence: s.bundle_sequence ?? null,
    simulated: Boolean(s.simulated),
    note: s.note ?? null,
  };
}

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Opens the app's database; `link(prevHex, fields)` is the chain's hash function. */
export async function open(link) {
  const r = indexedDB.open(DB, 2);
  r.onupgradeneeded = (event) => {
    const db = r.result;
    if (event.oldVersion < 1) {
      db.createObjectStore('settings');
      const scans = db.createObjectStore('scans', { keyPath: 'id', autoIncrement: true });
      scans.createIndex('pass_here', ['serial', 'checkpoint']);
      scans.createIndex('at', 'at');
    }
    if (event.oldVersion < 2) {
      // Version 2 chains the log: entries written before are chained in order, once.
      let prev = '';
      r.transaction.objectStore('scans').openCursor().onsuccess = (e) => {
        const cursor = e.target.result;
        if (!cursor) return;
        const s = cursor.value;
        if (!s.hash) {
          s.hash = link(prev, JSON.stringify(chainFields(s)));
          cursor.update(s);
        }
        prev = s.hash;
        cursor.continue();
      };
    }
  };
  const db = await req(r);
  return new Store(db, link);
}

class Store {
  constructor(db, link) {
    this.db = db;
    this.link = link;
  }

  async get(key) {
    return req(this.db.transaction('settings').objectStore('settings').get(key));
  }

  /** Sets several settings in one transaction. */
  async set(values) {
    const tx = this.db.transaction('settings', 'readwrite');
    for (const [k, v] of Object.entries(values)) tx.objectStore('settings').put(v, k);
    return new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }

  /** What the log says before a scan of `serial` at `checkpoint`: the facts the verifier
   * judges a repeat scan and a clock set back by (it decides; this only looks them up). */
  async facts(serial, checkpoint, simulated) {
    const all = await this.scans();
    let floor = null;
    let last = null;
    for (const s of all) {
      if (s.simulated !== simulated) continue;
      if (floor === null || s.at > floor) floor = s.at;
      // A recorded test report is not a scan of the pass: it does not make the next one a repeat.
      if ((s.kind ?? 'scan') !== 'scan') continue;
      if (serial && s.serial === serial && s.checkpoint === checkpoint && (last === null || s.at > last)) last = s.at;
    }
    return { clock_floor: floor, last_same_pass_here: last };
  }

  /** Appends a scan to the chain: its id and hash follow the last entry, in one transaction. */
  async add(scan) {
    const tx = this.db.transaction('scans', 'readwrite');
    const scans = tx.objectStore('scans');
    let record = null;
    scans.openCursor(null, 'prev').onsuccess = (e) => {
      const last = e.target.result?.value;
      record = { ...scan, id: (last?.id ?? 0) + 1 };
      record.hash = this.link(last?.hash ?? '', JSON.stringify(chainFields(record)));
      scans.add(record);
    };
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(record);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  /**
   * The device key's seed (32 bytes): made with the browser's random source the first time,
   * in the same transaction that finds none, so two tabs cannot make two keys.
   */
  async deviceSeed() {
    const tx = this.db.transaction('settings', 'readwrite');
    const settings = tx.objectStore('settings');
    let seed = null;
    settings.get('device_seed').onsuccess = (e) => {
      const stored = e.target.result;
      if (stored instanceof Uint8Array && stored.length === 32) {
        seed = stored;
      } else if (stored === undefined) {
        seed = crypto.getRandomValues(new Uint8Array(32));
        settings.put(seed, 'device_seed');
      }
      // Anything else is a damaged key: kept as it is (not replaced behind the officer's back).
    };
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => (seed ? resolve(seed) : reject(new Error(bilingual('deviceKeyDamaged'))));
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  async scans() {
    return req(this.db.transaction('scans').objectStore('scans').getAll());
  }
}
