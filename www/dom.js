// The elements of index.html that the page's modules use, found once: the one place that lists
// their ids. Radio groups are found by name.

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no element #${id}`);
  return element;
};

export const el = {
  // the first screen
  tryExample: $('try-example'),
  exampleChoice: $('example-choice'),
  ownCohort: $('own-cohort'),
  resultsFile: $('results-file'),
  resultsUrlForm: $('results-url-form'),
  resultsUrl: $('results-url'),
  startProgress: $('start-progress'),
  startStatus: $('start-status'),
  startError: $('start-error'),
  // 1 network
  deviceStatus: $('device-status'),
  deviceWarning: $('device-warning'),
  deviceChoice: $('device-choice'),
  urlField: $('url-field'),
  modelUrl: $('model-url'),
  fileField: $('file-field'),
  modelFile: $('model-file'),
  loadModel: $('load-model'),
  cancelDownload: $('cancel-download'),
  download: $('download'),
  downloadProgress: $('download-progress'),
  downloadText: $('download-text'),
  modelStatus: $('model-status'),
  modelError: $('model-error'),
  storage: $('storage'),
  storageList: $('storage-list'),
  clearStorage: $('clear-storage'),
  confirm: $('confirm'),
  confirmText: $('confirm-text'),
  confirmYes: $('confirm-yes'),
  confirmNo: $('confirm-no'),
  // 2 cohort
  dropZone: $('drop-zone'),
  imageFiles: $('image-files'),
  imageFolder: $('image-folder'),
  clearImages: $('clear-images'),
  imageStatus: $('image-status'),
  imageErrors: $('image-errors'),
  matrixFile: $('matrix-file'),
  keyField: $('key-field'),
  matrixKey: $('matrix-key'),
  namesFile: $('names-file'),
  matrixStatus: $('matrix-status'),
  matrixError: $('matrix-error'),
  checks: $('checks'),
  matchingDetails: $('matching-details'),
  matchingTable: $('matching-table'),
  judgeSection: $('judge-section'),
  // 3 analyse
  runSection: $('run-section'),
  analyze: $('analyze'),
  cancel: $('cancel'),
  workers: $('workers'),
  stages: $('stages'),
  runStatus: $('run-status'),
  runMemory: $('run-memory'),
  runError: $('run-error'),
  runRecover: $('run-recover'),
  runAgainCpu: $('run-again-cpu'),
  runAgainSmaller: $('run-again-smaller'),
  // 4 results
  results: $('results'),
  resultsLive: $('results-live'),
  viewAbout: $('view-about'),
  summary: $('summary'),
  colormap: $('colormap'),
  opacity: $('opacity'),
  opacityValue: $('opacity-value'),
  legend: $('legend'),
  categoryLegend: $('category-legend'),
  gallery: $('gallery'),
  hist: $('hist'),
  spread: $('spread'),
  topDataset: $('top-dataset'),
  saliencySource: $('saliency-source'),
  saliencyFiles: $('saliency-files'),
  saliencyRun: $('saliency-run'),
  saliencyStatus: $('saliency-status'),
  saliencyResults: $('saliency-results'),
  cvFolds: $('cv-folds'),
  cvSeeds: $('cv-seeds'),
  cvRun: $('cv-run'),
  cvCancel: $('cv-cancel'),
  cvProgress: $('cv-progress'),
  cvText: $('cv-text'),
  cvStatus: $('cv-status'),
  cvResults: $('cv-results'),
  cvSummary: $('cv-summary'),
  cvChart: $('cv-chart'),
  exportImages: $('export-images'),
  export: $('export'),
  exportStatus: $('export-status'),
  // 5 compare two networks
  compareSection: $('compare-section'),
  compareSides: $('compare-sides'),
  compareChoice: $('compare-choice'),
  compareUrlField: $('compare-url-field'),
  compareUrl: $('compare-url'),
  compareFileField: $('compare-file-field'),
  compareFile: $('compare-file'),
  compareZipField: $('compare-zip-field'),
  compareZip: $('compare-zip'),
  compareRun: $('compare-run'),
  compareNote: $('compare-note'),
  compareProgress: $('compare-progress'),
  compareText: $('compare-text'),
  compareStatus: $('compare-status'),
  compareError: $('compare-error'),
  compareResults: $('compare-results'),
  compareSummary: $('compare-summary'),
  compareHist: $('compare-hist'),
  compareScatter: $('compare-scatter'),
  compareScatterFigure: $('compare-scatter-figure'),
  compareOrder: $('compare-order'),
  compareGallery: $('compare-gallery'),
  compareViewer: $('compare-viewer'),
  compareViewerTitle: $('compare-viewer-title'),
  compareViewerClose: $('compare-viewer-close'),
  compareViewerNumbers: $('compare-viewer-numbers'),
  compareViewerA: $('compare-viewer-a'),
  compareViewerB: $('compare-viewer-b'),
  compareViewerALabel: $('compare-viewer-a-label'),
  compareViewerBLabel: $('compare-viewer-b-label'),
  compareViewerPrev: $('compare-viewer-prev'),
  compareViewerNext: $('compare-viewer-next'),
  // the enlarged view
  viewer: $('viewer'),
  viewerTitle: $('viewer-title'),
  viewerClose: $('viewer-close'),
  viewerCanvas: $('viewer-canvas'),
  viewerNote: $('viewer-note'),
  viewerPrev: $('viewer-prev'),
  viewerNext: $('viewer-next'),
  viewerSaliency: $('viewer-saliency'),
  viewerBaseline: $('viewer-baseline'),
  viewerBars: $('viewer-bars'),
  viewerRr: $('viewer-rr'),
};

const GROUPS = ['model', 'direction', 'show'];

/** The radio buttons of each group: radios.model, radios.direction, radios.show. */
export const radios = Object.fromEntries(GROUPS.map((name) => [name, Array.from(document.querySelectorAll(`input[name="${name}"]`))]));

/** The value of the checked radio button of a group. */
export function checkedValue(group) {
  return radios[group].find((r) => r.checked).value;
}

/** Checks the radio button of a group that has this value. */
export function checkValue(group, value) {
  radios[group].find((r) => r.value === value).checked = true;
}
