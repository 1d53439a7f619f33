import { describe, expect, it } from 'vitest';
import { redactLine, scanLine } from './lines.js';

describe('scanLine', () => {
  it('reports type and 1-based column in text lines', () => {
    expect(scanLine('SSN 219-09-9999').map(({ type, at }) => [type, at])).toEqual([['SSN', 5]]);
  });

  it('scans the strings of a JSON line one by one and reports their path', () => {
    const line = JSON.stringify({ level: 30, msg: 'called "(617) 555-0142"', req: { url: '/v1/x?name=Ada%20Example' } });
    expect(scanLine(line).map(({ type, at }) => [type, at])).toEqual([
      ['PHONE', 'msg'],
      ['NAME', 'req.url'],
    ]);
  });

  it('a JSON escape does not hide a value', () => {
    expect(scanLine('{"note":"Pt \\"John Whitaker\\"\\nSSN 219-09-9999"}').map((f) => f.type)).toEqual(['NAME', 'SSN']);
  });
});

describe('redactLine', () => {
  it('keeps a JSON line valid JSON and a clean line byte for byte', () => {
    const out = redactLine('{"msg":"SSN 219-09-9999","n":1}');
    expect(JSON.parse(out)).toEqual({ msg: 'SSN [SSN]', n: 1 });
    const clean = '{ "msg" : "ok",  "n": 1 }';
    expect(redactLine(clean)).toBe(clean);
  });

  it('treats a line that only looks like JSON as text', () => {
    expect(redactLine('{not json} SSN 219-09-9999')).toBe('{not json} SSN [SSN]');
  });
});
