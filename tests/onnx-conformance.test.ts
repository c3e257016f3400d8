/**
 * ONNX's own backend test data (Debian's libonnx-testdata, node cases): every case whose ops we
 * claim runs, in CI. Cases we refuse at load (unsupported operators or opset) are counted, not
 * run; a case that fails is listed in KNOWN_FAILURES with its reason below or breaks the test.
 * docs/ONNX.md has the counts per operator.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../src/index.js';
import { runBackendCase } from '../src/onnx/testdata.js';

const ROOT = '/usr/share/libonnx-testdata/data/node';
const KNOWN = new Set(
  readFileSync(join(__dirname, 'fixtures/onnx/known-failures.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);

describe.skipIf(!existsSync(ROOT))('ONNX backend node tests', () => {
  it('passes every case it does not refuse, except the known failures', async () => {
    const counts = { pass: 0, fail: 0, unsupported: 0 };
    const unexpected: string[] = [];
    const fixed: string[] = [];
    for (const d of readdirSync(ROOT).sort()) {
      const r = await runBackendCase(join(ROOT, d));
      counts[r.status]++;
      if (r.status === 'fail' && !KNOWN.has(d)) unexpected.push(`${d}: ${r.detail}`);
      if (r.status === 'pass' && KNOWN.has(d)) fixed.push(d);
    }
    expect(unexpected).toEqual([]);
    expect(fixed).toEqual([]);
    expect(counts.pass).toBeGreaterThanOrEqual(689);
  }, 600_000);
});
