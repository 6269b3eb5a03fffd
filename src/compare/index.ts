export { INTERVAL_METHOD, leaderboards, repeatRow, seedItemMean, tableDifference, type CompareResults, type LeaderboardRow, type SeedItemMean, type TaskLeaderboard } from './analysis.js';
export { compare, type CompareOptions } from './compare.js';
export { jobKey, planJobs, type CompareSettings, type ItemRecord, type Job, type JobKind, type JobResult } from './jobs.js';
export { runJobInChild, runPool } from './pool.js';
export { redisConnection, runOnQueue, runQueueWorker } from './queue.js';
export { compareHtml, leaderboardText, writeCompareReport } from './report.js';
export { iclContexts, runJob, trainingItems } from './run-job.js';
export { ResultStore } from './store.js';
