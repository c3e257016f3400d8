/**
 * Loads Fashion-MNIST for the examples: the full 60k/10k set from --data DIR or Debian's
 * dataset-fashion-mnist package when installed, otherwise the 10k/2k subset shipped in
 * data/fashion-mnist-subset. Images become float32 (N, 784) in [0, 1]; labels int32.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIdx, type Tensor } from 'axon-nn';

export const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SUBSET_DIR = join(root, 'data', 'fashion-mnist-subset');
export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

export interface FashionData {
  dir: string;
  full: boolean;
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
}

/** dir: an explicit directory, 'subset', or undefined (the full set when installed). */
export async function loadFashionMnist(dir?: string): Promise<FashionData> {
  const chosen =
    dir === 'subset'
      ? SUBSET_DIR
      : (dir ?? (existsSync(join(DEBIAN_DIR, 'train-images-idx3-ubyte.gz')) ? DEBIAN_DIR : SUBSET_DIR));
  const file = (name: string): string => {
    for (const candidate of [name, name.replace(/\.gz$/, '')])
      if (existsSync(join(chosen, candidate))) return join(chosen, candidate);
    throw new Error(`Fashion-MNIST: ${name} not found in ${chosen}`);
  };
  const [xTrain, yTrain, xTest, yTest] = await Promise.all([
    readIdx(file('train-images-idx3-ubyte.gz'), { scale: 1 / 255 }),
    readIdx(file('train-labels-idx1-ubyte.gz')),
    readIdx(file('t10k-images-idx3-ubyte.gz'), { scale: 1 / 255 }),
    readIdx(file('t10k-labels-idx1-ubyte.gz')),
  ]);
  return {
    dir: chosen,
    full: xTrain.shape[0] === 60000,
    xTrain: xTrain.reshape([-1, 784]),
    yTrain,
    xTest: xTest.reshape([-1, 784]),
    yTest,
  };
}
