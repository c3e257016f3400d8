/** onnxruntime-node from tests/peers (tools/test-peers.mjs installs it before `npm test`). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const ort = require('./node_modules/onnxruntime-node') as typeof import('onnxruntime-node');
