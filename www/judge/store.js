// Judgments kept in this browser (IndexedDB), so that a reload, a closed tab or a crash resumes
// where it stopped. Two object stores:
//   participants: { key: `${fingerprint}/${id}`, fingerprint, id, task, created, updated,
//                   trials: [...], schedule?: [{ a, b, repeat }], seed?, thumbSide? }
//   cohorts:      { fingerprint, images: [names], sizes: [bytes], thumbs: { name: Blob }, updated }
// Every call opens its own short transaction; each judgment is one put() of its participant.

const DB_NAME = 'alignmap-judgments';
const DB_VERSION = 1;

let opening = null;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error || new Error('IndexedDB request failed'));
  });
}

/** The database, or a rejection saying why this browser keeps nothing (private mode, file://). */
export function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('this browser offers no IndexedDB'));
      return;
    }
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('participants')) {
        const s = db.createObjectStore('participants', { keyPath: 'key' });
        s.createIndex('fingerprint', 'fingerprint');
      }
      if (!db.objectStoreNames.contains('cohorts')) db.createObjectStore('cohorts', { keyPath: 'fingerprint' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error || new Error('IndexedDB did not open'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this page; close it and reload'));
  });
  opening.catch(() => { opening = null; });
  return opening;
}

async function tx(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    let result;
    Promise.resolve(fn(t.objectStore(store))).then((r) => { result = r; }, reject);
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error || new Error('IndexedDB transaction failed'));
    t.onabort = () => reject(t.error || new Error('IndexedDB transaction aborted (is the disk full?)'));
  });
}

export function participantKey(fingerprint, id) {
  return `${fingerprint}/${id}`;
}

/** Saves one participant (all their trials); resolves when it is on disk. */
export function saveParticipant(p) {
  const record = { ...p, key: participantKey(p.fingerprint, p.id), updated: Date.now() };
  return tx('participants', 'readwrite', (s) => request(s.put(record)));
}

export function deleteParticipant(fingerprint, id) {
  return tx('participants', 'readwrite', (s) => request(s.delete(participantKey(fingerprint, id))));
}

/** The participants of one cohort, oldest first. */
export async function participants(fingerprint) {
  const all = await tx('participants', 'readonly', (s) => request(s.index('fingerprint').getAll(fingerprint)));
  return all.sort((a, b) => a.created - b.created);
}

export function saveCohort(cohort) {
  return tx('cohorts', 'readwrite', (s) => request(s.put({ ...cohort, updated: Date.now() })));
}

export function cohort(fingerprint) {
  return tx('cohorts', 'readonly', (s) => request(s.get(fingerprint)));
}

/** Every stored cohort with its number of participants, most recently used first. */
export async function cohorts() {
  const list = await tx('cohorts', 'readonly', (s) => request(s.getAll()));
  const people = await tx('participants', 'readonly', (s) => request(s.getAll()));
  for (const c of list) {
    const mine = people.filter((p) => p.fingerprint === c.fingerprint);
    c.participantCount = mine.length;
    c.lastUsed = Math.max(c.updated || 0, ...mine.map((p) => p.updated || 0));
  }
  return list.sort((a, b) => b.lastUsed - a.lastUsed);
}

/** Deletes a cohort's thumbnails and every participant's judgments for it. */
export async function deleteCohort(fingerprint) {
  const people = await participants(fingerprint);
  await tx('participants', 'readwrite', (s) => Promise.all(people.map((p) => request(s.delete(p.key)))));
  await tx('cohorts', 'readwrite', (s) => request(s.delete(fingerprint)));
}
