export { LevelDbMendError, type LevelDbMendErrorCode } from './errors.ts'
export { lockHeld } from './lock.ts'
export { checkLogFile, checkLogs, type LogFileCheck } from './log-file.ts'
export { mendTableFile, type TableMend } from './mend-table.ts'
export { checkTables, type MendedTable, type MendTablesResult, mendTables } from './table-directory.ts'
export {
  type BlockHandle,
  checkTableFile,
  inspectTableFile,
  type TableFileCheck,
  type TableInspection
} from './table-file.ts'
