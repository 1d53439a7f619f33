/**
 * What a sync reads: a source yields its rows in batches, in a stable order, each batch with the
 * watermark to resume after it. Sources never decide what flows: the runner takes only mapped
 * fields from each row (see sync/mapping).
 */

/** One source row: its reference in the source (an id or a row number: never a field value) and its values. */
export interface SourceRow {
  /** The source's own reference: a Salesforce Id, a primary key, `row 12` of a file. */
  ref: string;
  /** Field values by source field name (a source may give more fields than are mapped). */
  values: Record<string, unknown>;
  /** True when the source says the row was deleted (Salesforce IsDeleted). */
  deleted?: boolean;
  /** A row the source could not read (a malformed line): the problem, never its text. */
  unreadable?: string;
}

export interface SourceBatch {
  rows: SourceRow[];
  /** Where a later pass resumes: after this batch (JSON; opaque to the runner). */
  watermark: unknown;
  /** For progress: how far through the source this batch ends, and the whole, when known. */
  progress?: { done: number; total?: number | undefined };
}

/** A source field as the source describes it: for drift and the free-text rule. */
export interface SourceField {
  name: string;
  /** The source's type name (Salesforce `textarea`, PostgreSQL `text`, `unknown` for a file column). */
  type: string;
}

export interface Source {
  /** The source's fields, for drift checks; undefined when it cannot say (a file before it is read). */
  describe(): Promise<SourceField[] | undefined>;
  /** Rows after `watermark` (undefined: from the start), `batch` at a time. */
  read(watermark: unknown, batch: number): AsyncIterable<SourceBatch>;
  /** Which of these source references still exist (for orphan reports); absent when the source cannot say. */
  exists?(refs: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
