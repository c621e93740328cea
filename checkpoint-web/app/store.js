// The app's state in IndexedDB: settings (the pinned root file, the installed bundle's bytes,
// sequence and digest, checkpoint, officer, language) and the scan log. It survives closing
// the tab, restarting the phone and a new version of the app.
const DB = 'checkpoint';

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export async function open() {
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => {
    const db = r.result;
    db.createObjectStore('settings');
    const scans = db.createObjectStore('scans', { keyPath: 'id', autoIncrement: true });
    scans.createIndex('pass_here', ['serial', 'checkpoint']);
    scans.createIndex('at', 'at');
  };
  const db = await req(r);
  return new Store(db);
}

class Store {
  constructor(db) {
    this.db = db;
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
      if (serial && s.serial === serial && s.checkpoint === checkpoint && (last === null || s.at > last)) last = s.at;
    }
    return { clock_floor: floor, last_same_pass_here: last };
  }

  async add(scan) {
    return req(this.db.transaction('scans', 'readwrite').objectStore('scans').add(scan));
  }

  async scans() {
    return req(this.db.transaction('scans').objectStore('scans').getAll());
  }
}
