/**
 * ONNX's backend node cases (Debian's libonnx-testdata) per operator we claim: how many cases
 * containing it pass, fail, or are refused at load (for another operator they contain, or an
 * option we refuse). Prints the Markdown table docs/ONNX.md carries.
 *
 *   npx tsx tools/onnx-conformance.ts [dir]   # default /usr/share/libonnx-testdata/data/node
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import '../src/index.js';
import { ONNX_OPS } from '../src/onnx/graph.js';
import { runBackendCase, type CaseResult } from '../src/onnx/testdata.js';

const root = process.argv[2] ?? '/usr/share/libonnx-testdata/data/node';
const results: CaseResult[] = [];
for (const d of readdirSync(root).sort()) results.push(await runBackendCase(join(root, d)));
const total = { pass: 0, fail: 0, unsupported: 0 };
for (const r of results) total[r.status]++;
console.log(`${results.length} cases: ${total.pass} pass, ${total.fail} fail, ${total.unsupported} refused at load\n`);
console.log('| operator | cases | pass | fail | refused |');
console.log('|---|---|---|---|---|');
for (const op of Object.keys(ONNX_OPS).sort()) {
  const mine = results.filter((r) => r.opTypes.includes(op));
  if (mine.length === 0) continue;
  const n = (s: CaseResult['status']): number => mine.filter((r) => r.status === s).length;
  console.log(`| ${op} | ${mine.length} | ${n('pass')} | ${n('fail')} | ${n('unsupported')} |`);
}
