/**
 * Runs one case of ONNX's backend test data (a folder with model.onnx and
 * test_data_set_N/{input,output}_K.pb), as Debian's libonnx-testdata ships them, and compares
 * with the expected outputs. The conformance test and tools/onnx-conformance.ts use it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_READ_LIMITS, readModel, readTensorFile } from './proto.js';
import type { OnnxFeeds } from './feeds.js';
import { loadOnnx } from './session.js';

export interface CaseResult {
  name: string;
  /** 'pass', 'fail' (wrong numbers or an error), or 'unsupported' (refused at load). */
  status: 'pass' | 'fail' | 'unsupported';
  detail: string;
  opTypes: string[];
}

/** Runs the case in `dir`; tolerances as ONNX's runner (rtol 1e-3, atol 1e-7) unless given. */
export async function runBackendCase(dir: string, rtol = 1e-3, atol = 1e-7): Promise<CaseResult> {
  const name = dir.split('/').pop() as string;
  let opTypes: string[] = [];
  try {
    const model = readModel(readFileSync(join(dir, 'model.onnx')), dir, DEFAULT_READ_LIMITS);
    opTypes = [...new Set(model.graph.nodes.map((n) => n.opType))].sort();
  } catch {
    // reported by loadOnnx below
  }
  const result = (status: CaseResult['status'], detail = ''): CaseResult => ({ name, status, detail, opTypes });
  let session;
  try {
    session = await loadOnnx(join(dir, 'model.onnx'));
  } catch (e) {
    const msg = (e as Error).message;
    const refused = ['unsupported operators', 'unsupported type', 'opset'].some((m) => msg.includes(m));
    return result(refused ? 'unsupported' : 'fail', msg);
  }
  const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_'));
  try {
    for (const set of sets) {
      const feeds: OnnxFeeds = {};
      for (let k = 0; existsSync(join(dir, set, `input_${k}.pb`)); k++) {
        const t = readTensorFile(join(dir, set, `input_${k}.pb`));
        const name = t.name || session.inputs[k]?.name;
        feeds[name] = t.f32
          ? { data: t.f32, dims: t.dims }
          : { data: Int32Array.from(t.ints as Float64Array), dims: t.dims };
      }
      const out = await session.run(feeds);
      for (let k = 0; existsSync(join(dir, set, `output_${k}.pb`)); k++) {
        const want = readTensorFile(join(dir, set, `output_${k}.pb`));
        const oname = want.name || session.outputs[k].name;
        const got = out[oname];
        if (!got) return result('fail', `no output '${oname}'`);
        const w = want.f32 ?? want.ints ?? new Float64Array(0);
        if (got.shape.join(',') !== want.dims.join(',') || got.size !== w.length)
          return result('fail', `${oname}: shape [${got.shape}] vs expected [${want.dims}]`);
        for (let i = 0; i < w.length; i++) {
          const a = got.data[i];
          const b = w[i];
          const ok = Number.isNaN(b) ? Number.isNaN(a) : a === b || Math.abs(a - b) <= atol + rtol * Math.abs(b);
          if (!ok) return result('fail', `${oname}[${i}] = ${a}, expected ${b}`);
        }
      }
    }
  } catch (e) {
    return result('fail', (e as Error).message);
  } finally {
    session.release();
  }
  return result('pass');
}
