/** Ward as a library: load a configuration, open the vault, call its PHI operations. */
export { configPath, loadConfig, parseConfig, type WardConfig } from './config/load.js';
export { ERROR_CODES, type ErrorCode, type FieldIssue, isWardError, WardError } from './errors.js';
export { type OpenOptions, openVault } from './vault/open.js';
export type { ReadOptions, RecordView, SearchOptions, Vault } from './vault/vault.js';
