#!/usr/bin/env node
// Writes data/fashion-mnist-subset/: the first 10,000 training and 2,000 test images and
// labels of Fashion-MNIST (Zalando, MIT/Expat licence) as gzip IDX files, cut from the full
// set in Debian's dataset-fashion-mnist package. The demo and CI train on this subset; the
// full 60k/10k set is used when that package is installed or --data DIR is given.
//   node tools/make-fashion-subset.mjs [/usr/share/datasets/fashion-mnist]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const out = 'data/fashion-mnist-subset';

function cut(file, count) {
  const buf = gunzipSync(readFileSync(join(src, file)));
  const rank = buf[3];
  const header = Buffer.from(buf.subarray(0, 4 + 4 * rank));
  let per = 1;
  for (let i = 1; i < rank; i++) per *= header.readUInt32BE(4 + 4 * i);
  header.writeUInt32BE(count, 4);
  const body = buf.subarray(4 + 4 * rank, 4 + 4 * rank + count * per);
  writeFileSync(join(out, file), gzipSync(Buffer.concat([header, body]), { level: 9 }));
  console.log(`${file}: ${count} samples`);
}

cut('train-images-idx3-ubyte.gz', 10000);
cut('train-labels-idx1-ubyte.gz', 10000);
cut('t10k-images-idx3-ubyte.gz', 2000);
cut('t10k-labels-idx1-ubyte.gz', 2000);
