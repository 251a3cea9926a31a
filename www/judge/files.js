// Downloads of the judgments: the matrix as CSV (what `alignmap analyze --similarity` reads) and
// the raw trials as JSON.

export const FORMAT = 'alignmap-judgments/1';

export function download(name, data, type) {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return blob;
}

/**
 * The raw trials: { format, exported, cohort: { fingerprint, images, sizes }, images,
 * participants: [{ id, task, created, updated, trials }] }. `images` at the top level is what
 * the crate's summary and tests/golden/judgments/judgments.py read.
 */
export function trialsJson(cohort, participants) {
  return JSON.stringify({
    format: FORMAT,
    exported: new Date().toISOString(),
    cohort: { fingerprint: cohort.fingerprint, images: cohort.names, sizes: cohort.sizes },
    images: cohort.names,
    participants: participants.map((p) => ({
      id: p.id, task: p.task, created: p.created, updated: p.updated, trials: p.trials,
    })),
  }, null, 1) + '\n';
}

/** The command that analyses a downloaded matrix. */
export function analyzeCommand(orientation, file = 'judgments-matrix.csv') {
  return `alignmap analyze --images DIR --similarity ${file}${orientation === 'dissimilarity' ? ' --dissimilarity' : ''} --out OUT`;
}
