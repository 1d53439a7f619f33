/**
 * File sources: CSV (csv-parse, a header row naming the fields) and NDJSON (one JSON object per
 * line), streamed, so a file of any size is read in constant memory. A row's reference is its
 * row (CSV) or line (NDJSON) number; a row that cannot be read is reported by that number, never
 * by its text. A pass reads the whole file; the watermark (the rows done, and the file's size and
 * modification time) lets a pass interrupted mid-file resume after the last batch it finished,
 * while the file is unchanged.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { WardError } from '../errors.js';
import type { Source, SourceBatch, SourceField, SourceRow } from './source.js';

interface FileWatermark {
  size: number;
  mtimeMs: number;
  /** Data rows (CSV) or lines (NDJSON) done. */
  rows: number;
}

function identity(file: string): { size: number; mtimeMs: number } {
  try {
    const s = statSync(file);
    return { size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    throw new WardError('source_unavailable', `${file}: cannot read the source file named by the mapping`);
  }
}

/** Where to resume: after the rows a watermark says were done, when the file is the one it describes. */
function resumeAt(file: string, watermark: unknown): number {
  const id = identity(file);
  const w = watermark as Partial<FileWatermark> | null | undefined;
  return w && w.size === id.size && w.mtimeMs === id.mtimeMs && typeof w.rows === 'number' ? w.rows : 0;
}

/** A field name as a header row may give it (the same as a mapping's source field names). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

export function csvSource(file: string): Source {
  return {
    async describe(): Promise<SourceField[]> {
      const parser = createReadStream(file).pipe(parse({ to_line: 1, bom: true }));
      for await (const header of parser as AsyncIterable<string[]>) {
        const bad = header.findIndex((h) => !FIELD_NAME.test(h));
        if (bad >= 0)
          throw new WardError(
            'source_unavailable',
            `${file}: the header row's column ${bad + 1} is not a field name: the first row must name the fields`,
          );
        return header.map((name) => ({ name, type: 'unknown' }));
      }
      return [];
    },
    read: (watermark, batch) => readCsv(file, watermark, batch),
    close: async () => {},
  };
}

async function* readCsv(file: string, watermark: unknown, batch: number): AsyncGenerator<SourceBatch> {
  const id = identity(file);
  const skip = resumeAt(file, watermark);
  let header: string[] | undefined;
  let rowNo = 0;
  let rows: SourceRow[] = [];
  const stream = createReadStream(file);
  const parser = stream.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  const flush = (): SourceBatch => {
    const out = { rows, watermark: { ...id, rows: rowNo }, progress: { done: stream.bytesRead, total: id.size } };
    rows = [];
    return out;
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        // The first row names the fields; one that does not (data, no header) is refused, never quoted.
        const bad = record.findIndex((h) => !FIELD_NAME.test(h));
        if (bad >= 0)
          throw new WardError(
            'source_unavailable',
            `${file}: the header row's column ${bad + 1} is not a field name: the first row must name the fields`,
          );
        header = record;
        continue;
      }
      rowNo++;
      if (rowNo <= skip) continue;
      const ref = `row ${rowNo} (line ${info.lines})`;
      if (record.length !== header.length)
        rows.push({ ref, values: {}, unreadable: `has ${record.length} columns where the header names ${header.length}` });
      else rows.push({ ref, values: Object.fromEntries(header.map((h, i) => [h, record[i] === '' ? null : record[i]])) });
      if (rows.length >= batch) yield flush();
    }
  } catch (e) {
    // csv-parse names the line; its message may quote the data, so only the position is kept.
    const line = (e as { lines?: number }).lines;
    throw new WardError('source_unavailable', `${file}: not valid CSV${line ? ` at line ${line}` : ''} (after row ${rowNo})`);
  }
  if (rows.length || rowNo === 0) yield flush();
}

export function ndjsonSource(file: string): Source {
  return {
    describe: async () => undefined,
    read: (watermark, batch) => readNdjson(file, watermark, batch),
    close: async () => {},
  };
}

async function* readNdjson(file: string, watermark: unknown, batch: number): AsyncGenerator<SourceBatch> {
  const id = identity(file);
  const skip = resumeAt(file, watermark);
  const stream = createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let rows: SourceRow[] = [];
  const flush = (): SourceBatch => {
    const out = { rows, watermark: { ...id, rows: lineNo }, progress: { done: stream.bytesRead, total: id.size } };
    rows = [];
    return out;
  };
  for await (const line of lines) {
    lineNo++;
    if (lineNo <= skip || line.trim() === '') continue;
    const ref = `line ${lineNo}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      rows.push({ ref, values: {}, unreadable: 'is not valid JSON' });
      value = undefined;
    }
    if (value !== undefined) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        rows.push({ ref, values: {}, unreadable: 'is not a JSON object' });
      else rows.push({ ref, values: value as Record<string, unknown> });
    }
    if (rows.length >= batch) yield flush();
  }
  if (rows.length || lineNo === 0) yield flush();
}
