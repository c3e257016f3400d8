/**
 * What reduced-precision inference costs a trained model: Model.prepareInference with the
 * held-out set as validation, for bf16 and int8, printed as test accuracy and its change, then
 * back to float32. A preparation that loses more than a point is refused (and says so).
 */
import type { Model, Tensor } from 'axon-nn';

export async function reportPrecisions(model: Model, x: Tensor, y: Tensor): Promise<void> {
  console.log('\nreduced-precision inference (prepareInference, the test set as validation):');
  for (const precision of ['bf16', 'int8'] as const) {
    try {
      const r = await model.prepareInference({ precision, validation: { x, y } });
      const before = r.before?.accuracy ?? NaN;
      const after = r.after?.accuracy ?? NaN;
      const change = (100 * (after - before)).toFixed(2);
      console.log(
        `  ${precision}: test accuracy ${(100 * after).toFixed(2)}% (${Number(change) >= 0 ? '+' : ''}${change} points), ${r.weights} weight matrices, ${r.native ? 'native instructions' : 'float fallback (no AVX512-BF16/VNNI here)'}`,
      );
    } catch (e) {
      console.log(`  ${precision}: refused: ${(e as Error).message}`);
    }
  }
  await model.prepareInference({ precision: 'float32' });
}
