export { brierScore, expectedCalibrationError, type ReliabilityBin } from './calibration.js';
export { evaluate, type EvalDoc, type EvalProgress, type EvalReport, type ItemResult, type MetricReport, type TaskReport, type Variant } from './harness.js';
export { argmaxNormalised, exactMatch, normalizeAnswer, softmax as softmaxOf, tokenF1 } from './metrics.js';
export { changeDirection, chartJsSource, formatValue, primaryMetric, reportHtml, sampleLog, summaryText, writeReport } from './report.js';
export { describeAdapter, describeRun, type AdapterRun, type RunInfo } from './run-info.js';
export { lmScorer, type Scorer } from './scorer.js';
export {
  bootstrapInterval,
  clusteredMean,
  INTERVAL_METHODS,
  mcnemarExact,
  meanWithError,
  newcombePairedInterval,
  normalQuantile,
  pairedDelta,
  pairedTable,
  sampleSizeForDelta,
  wilsonInterval,
  type IntervalMethod,
  type MeanWithError,
  type PairedDelta,
} from './stats.js';
export { bundledEvalTask, loadTaskSpec, readTaskSpec, resolveTask, type EvalItem, type EvalTask, type OutputType, type TaskSpec } from './tasks.js';
