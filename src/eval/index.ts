export { brierScore, expectedCalibrationError, type ReliabilityBin } from './calibration.js';
export { evaluate, type EvalReport, type ItemResult, type MetricReport, type TaskReport, type Variant } from './harness.js';
export { argmaxNormalised, exactMatch, normalizeAnswer, softmax as softmaxOf, tokenF1 } from './metrics.js';
export { chartJsSource, formatValue, primaryMetric, reportHtml, summaryText, writeReport } from './report.js';
export { lmScorer, type Scorer } from './scorer.js';
export { bootstrapInterval, clusteredMean, mcnemarExact, meanWithError, normalQuantile, pairedDelta, sampleSizeForDelta, type MeanWithError, type PairedDelta } from './stats.js';
export { bundledEvalTask, loadTaskSpec, readTaskSpec, resolveTask, type EvalItem, type EvalTask, type OutputType, type TaskSpec } from './tasks.js';
