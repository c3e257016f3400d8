/**
 * Training curves as a self-contained SVG (and an HTML page around it): one panel per metric
 * (loss, accuracy, ...) with training and validation lines per epoch, so over- and
 * under-fitting show at a glance. No external scripts, fonts or styles.
 */

import { checkOptionKeys, numberOption, optionKeys } from '../options.js';

/**
 * What the plots read: a fit's {@link History}, or the same shape parsed from JSON.
 *
 * @example
 * ```ts
 * import { historyToSvg, type HistoryLike } from 'axon-nn';
 * const saved: HistoryLike = { epoch: [0, 1, 2], history: { loss: [0.9, 0.6, 0.5], val_loss: [1.0, 0.7, 0.65] } };
 * const svg = historyToSvg(saved);
 * ```
 */
export interface HistoryLike {
  /** The epochs (0-based; plotted from 1), or empty to number the values 1, 2, ... */
  epoch: number[];
  /** Each log key's value per epoch; a key's val_ twin is drawn in the same panel, and 'lr' is left out. */
  history: Record<string, number[]>;
}

/**
 * historyToSvg's and historyToHtml's options. Bad values throw a TypeError or RangeError.
 *
 * @example
 * ```ts
 * import { historyToHtml, type PlotOptions } from 'axon-nn';
 * const options: PlotOptions = { title: 'MLP on MNIST', panelWidth: 600, panelHeight: 360 };
 * const html = historyToHtml({ epoch: [0, 1], history: { loss: [0.8, 0.5] } }, options);
 * ```
 */
export interface PlotOptions {
  /** A title above the panels (none by default). */
  title?: string;
  /** Width of each panel in pixels, 100 to 20000 (default 460); two panels per row. */
  panelWidth?: number;
  /** Height of each panel in pixels, 100 to 20000 (default 300). */
  panelHeight?: number;
}
const PLOT_KEYS = optionKeys<PlotOptions>({ title: true, panelWidth: true, panelHeight: true });
/** Panel sizes in pixels: above the axis margins (74 x 92), below what a browser can draw. */
const MIN_PANEL = 100;
const MAX_PANEL = 20_000;

function checkPlotOptions(op: string, options: PlotOptions): { width: number; height: number } {
  checkOptionKeys(op, options, PLOT_KEYS);
  if (options.title !== undefined && typeof options.title !== 'string')
    throw new TypeError(`${op}: title must be a string, got ${typeof options.title}`);
  return {
    width: numberOption(op, 'panelWidth', options.panelWidth, 460, MIN_PANEL, MAX_PANEL),
    height: numberOption(op, 'panelHeight', options.panelHeight, 300, MIN_PANEL, MAX_PANEL),
  };
}

const TRAIN = '#1f77b4';
const VAL = '#d62728';

function niceTicks(lo: number, hi: number, count = 5): number[] {
  // A range below the values' float resolution is one value: a tick step smaller than an ulp
  // would never advance the loop below.
  if (!(hi - lo > Math.max(Math.abs(lo), Math.abs(hi)) * 1e-12)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  // Extend outward to whole steps so the first and last ticks bracket every value.
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtTick(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(4));
}

/**
 * The SVG markup of the training curves of `history` (a fit's History or its JSON): one panel
 * per metric with training and validation lines. Throws an Error when the history has no metrics.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { Model, Sequential, Linear, historyToSvg, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
 * const history = await model.fit(randn([40, 4]), randn([40, 1]), { epochs: 5, validationSplit: 0.2, verbose: 0 });
 * writeFileSync('curves.svg', historyToSvg(history, { title: 'Linear regression' })); // panels: loss, mae
 * ```
 */
export function historyToSvg(h: HistoryLike, options: PlotOptions = {}): string {
  const { width: W, height: H } = checkPlotOptions('historyToSvg', options);
  const metrics = Object.keys(h.history).filter((k) => !k.startsWith('val_') && k !== 'lr');
  if (metrics.length === 0) throw new Error('historyToSvg: the history has no metrics');
  const titleH = options.title ? 34 : 0;
  const cols = Math.min(metrics.length, 2);
  const rows = Math.ceil(metrics.length / cols);
  const width = cols * W;
  const height = rows * H + titleH;
  const m = { left: 58, right: 16, top: 48, bottom: 44 };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title)
    parts.push(
      `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(options.title)}</text>`,
    );
  const epochs = h.epoch.length ? h.epoch.map((e) => e + 1) : h.history[metrics[0]].map((_, i) => i + 1);
  metrics.forEach((name, idx) => {
    const ox = (idx % cols) * W;
    const oy = titleH + Math.floor(idx / cols) * H;
    const series: [string, number[], string][] = [[name, h.history[name], TRAIN]];
    if (h.history[`val_${name}`]) series.push([`val_${name}`, h.history[`val_${name}`], VAL]);
    const values = series.flatMap(([, v]) => v).filter((v) => Number.isFinite(v));
    const yTicks = niceTicks(Math.min(...values), Math.max(...values));
    const y0 = yTicks[0];
    const y1 = yTicks[yTicks.length - 1];
    const xMin = epochs[0];
    const xMax = Math.max(epochs[epochs.length - 1], xMin + 1);
    const pw = W - m.left - m.right;
    const ph = H - m.top - m.bottom;
    const sx = (e: number): number => ox + m.left + ((e - xMin) / (xMax - xMin)) * pw;
    const sy = (v: number): number => oy + m.top + (1 - (v - y0) / (y1 - y0 || 1)) * ph;
    parts.push(
      `<text x="${ox + m.left + pw / 2}" y="${oy + 20}" text-anchor="middle" font-size="14" font-weight="bold">${esc(name)}</text>`,
    );
    for (const t of yTicks) {
      const y = sy(t).toFixed(1);
      parts.push(`<line x1="${ox + m.left}" x2="${ox + m.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
      parts.push(
        `<text x="${ox + m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${fmtTick(t)}</text>`,
      );
    }
    const xTicks = niceTicks(xMin, xMax, Math.min(8, epochs.length)).filter(
      (t) => Number.isInteger(t) && t >= xMin && t <= xMax,
    );
    for (const t of xTicks)
      parts.push(
        `<text x="${sx(t).toFixed(1)}" y="${oy + m.top + ph + 16}" text-anchor="middle" fill="#444">${t}</text>`,
      );
    parts.push(`<text x="${ox + m.left + pw / 2}" y="${oy + H - 8}" text-anchor="middle" fill="#444">epoch</text>`);
    parts.push(`<rect x="${ox + m.left}" y="${oy + m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
    series.forEach(([label, vals, color], si) => {
      const pts = vals
        .map((v, i) => (Number.isFinite(v) ? `${sx(epochs[i]).toFixed(1)},${sy(v).toFixed(1)}` : null))
        .filter(Boolean);
      if (pts.length > 1)
        parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const p of pts) {
        const [x, y] = (p as string).split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
      }
      // Legend in the band between the panel title and the frame, so it never hides data.
      const lx = ox + m.left + pw - 200 + si * 100;
      const ly = oy + m.top - 10;
      parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
      parts.push(
        `<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${esc(si === 0 ? 'training' : 'validation')}</text>`,
      );
      void label;
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * A standalone HTML page showing the curves (historyToSvg) and a table of every log's final
 * value; it loads nothing external.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { Model, Sequential, Linear, historyToHtml, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer: 'adam', loss: 'mse' });
 * const history = await model.fit(randn([40, 4]), randn([40, 1]), { epochs: 5, validationSplit: 0.2, verbose: 0 });
 * writeFileSync('training.html', historyToHtml(history, { title: 'Linear regression' }));
 * ```
 */
export function historyToHtml(h: HistoryLike, options: PlotOptions = {}): string {
  checkPlotOptions('historyToHtml', options);
  const last = Object.entries(h.history)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v.length ? v[v.length - 1].toPrecision(5) : ''}</td></tr>`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(options.title ?? 'Training history')}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px}table{border-collapse:collapse;margin-top:16px}td{border:1px solid #ccc;padding:4px 10px}</style>
</head><body>
${historyToSvg(h, options)}
<table><tr><td><b>metric</b></td><td><b>final</b></td></tr>${last}</table>
</body></html>
`;
}
