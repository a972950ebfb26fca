export { runJsonChild } from './child.ts'
export {
  BenchConfigError,
  type BenchConfigErrorCode,
  envChoice,
  envInteger,
  envList,
  type IntegerRange,
  parseInteger,
  readConfig
} from './config.ts'
export {
  type BenchRun,
  type LoadAverage,
  loadAverage,
  type RunConditions,
  type StartOptions,
  startBench
} from './run.ts'
export { readSchedStat } from './sched.ts'
export {
  bootstrapMedian,
  type Interval,
  MIN_ROUNDS_TO_JUDGE,
  mean,
  median,
  pairedRatios,
  round,
  roundInterval,
  significant,
  verdict
} from './stats.ts'
