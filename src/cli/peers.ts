/**
 * The bench CLI's peers: OpenBLAS and oneDNN, found at run time. Each is looked for under the
 * names its packages install on this platform (or only at the path in AXON_OPENBLAS / AXON_DNNL
 * when set) and loaded with dlopen / LoadLibrary by the addon (native/binding/peers.cpp); neither
 * is needed to build or install axon-nn. A peer that is absent is reported as not found with the
 * names tried, never as an error.
 */
import { realpathSync } from 'node:fs';

import { native, type PeerLibrary } from '../native/binding.js';

export type PeerName = 'openblas' | 'onednn';

/** What looking for one peer found. */
export interface PeerStatus {
  name: PeerName;
  /** Display name: 'OpenBLAS' or 'oneDNN'. */
  label: string;
  /** Loaded and usable by the bench. */
  found: boolean;
  /** The library, when one loaded (also when found is false because it is unsupported). */
  library: PeerLibrary | null;
  /** The real file behind library.file (symbolic links resolved), when known. */
  realFile: string | null;
  /** The environment variable that overrides the search, and its value when set. */
  envVar: string;
  envValue: string | null;
  /** The names and paths tried, in order. */
  tried: string[];
  /** Why each path that failed did not load. */
  errors: string[];
  /** One line for humans: "OpenBLAS 0.3.21 (…)" or "OpenBLAS: not found (tried …)". */
  summary: string;
}

const LABELS: Record<PeerName, string> = { openblas: 'OpenBLAS', onednn: 'oneDNN' };
const ENV_VARS: Record<PeerName, string> = { openblas: 'AXON_OPENBLAS', onednn: 'AXON_DNNL' };

/** The library names and paths tried for a peer on this platform, in order (without the env override). */
export function peerCandidates(
  name: PeerName,
  platform: NodeJS.Platform = process.platform,
  arch = process.arch,
): string[] {
  if (platform === 'win32') return name === 'openblas' ? ['libopenblas.dll', 'openblas.dll'] : ['dnnl.dll'];
  if (platform === 'darwin') {
    const brew = ['/opt/homebrew/opt', '/usr/local/opt'];
    return name === 'openblas'
      ? ['libopenblas.0.dylib', 'libopenblas.dylib', ...brew.map((p) => `${p}/openblas/lib/libopenblas.dylib`)]
      : ['libdnnl.2.dylib', 'libdnnl.3.dylib', 'libdnnl.dylib', ...brew.map((p) => `${p}/onednn/lib/libdnnl.dylib`)];
  }
  // Linux: the loader's search path first (Debian's libopenblas0 / libdnnl2 register these
  // names through alternatives and ldconfig), then Debian's per-variant directories.
  const multiarch = arch === 'arm64' ? 'aarch64-linux-gnu' : arch === 'x64' ? 'x86_64-linux-gnu' : null;
  const lib = multiarch ? `/usr/lib/${multiarch}` : null;
  if (name === 'openblas')
    return [
      'libopenblas.so.0',
      'libopenblas.so',
      ...(lib ? ['pthread', 'openmp', 'serial'].map((v) => `${lib}/openblas-${v}/libopenblas.so.0`) : []),
      '/usr/lib64/libopenblas.so.0',
      '/opt/OpenBLAS/lib/libopenblas.so',
      // 64-bit-integer builds last: Debian's libopenblas64.so.0, Fedora's suffixed libopenblas64_.so.0.
      'libopenblas64.so.0',
      'libopenblas64_.so.0',
      ...(lib ? [`${lib}/openblas64-pthread/libopenblas64.so.0`] : []),
    ];
  return ['libdnnl.so.2', 'libdnnl.so.3', 'libdnnl.so'];
}

const cache = new Map<PeerName, PeerStatus>();

/** Looks for a peer once per process (loading it when found) and says what was found. */
export function findPeer(name: PeerName): PeerStatus {
  const known = cache.get(name);
  if (known) return known;
  const envVar = ENV_VARS[name];
  const envValue = process.env[envVar] || null;
  const tried = envValue ? [envValue] : peerCandidates(name);
  const errors: string[] = [];
  // An addon built before the peers existed (an old prebuilt binary) has no peerLoad.
  const canLoad = typeof native.peerLoad === 'function';
  if (!canLoad) errors.push('this build of the native addon cannot load peers (rebuild it: npm rebuild axon-nn)');
  const library = canLoad ? native.peerLoad(name, tried, errors) : null;
  const label = LABELS[name];
  let realFile: string | null = null;
  if (library?.file) {
    try {
      realFile = realpathSync(library.file);
    } catch {
      realFile = library.file;
    }
  }
  const found = library !== null && library.supported;
  let summary: string;
  if (!canLoad) summary = `${label}: not looked for: ${errors[0]}`;
  else if (library === null)
    summary = `${label}: not found (tried ${envValue ? `${envVar}=${envValue}` : tried.join(', ')})${errors.length && envValue ? `: ${errors.join('; ')}` : ''}`;
  else if (!library.supported)
    summary = `${library.reason ?? `${label} ${library.version} found but not supported by this bench`} (${realFile ?? library.path})`;
  else {
    const details = [
      realFile ?? library.path,
      library.corename ? `core ${library.corename}` : null,
      library.ilp64 ? 'ILP64' : null,
      library.threading,
    ].filter((d) => d !== null);
    summary = `${label} ${library.version} (${details.join(', ')})`;
  }
  const status: PeerStatus = { name, label, found, library, realFile, envVar, envValue, tried, errors, summary };
  cache.set(name, status);
  return status;
}

/**
 * Environment settings that change how a peer runs here (../shared/BENCH-NOTES.md: the two
 * OPENBLAS_ variables force OpenBLAS's AVX2 kernel and halve its speed). Reported, not changed.
 */
export function peerEnvironmentNotes(): string[] {
  const notes: string[] = [];
  for (const v of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'])
    if (process.env[v] !== undefined)
      notes.push(`${v}=${process.env[v]} is set: OpenBLAS runs the kernel it forces (unset it for a fair comparison)`);
  if (process.env.OMP_NUM_THREADS !== undefined)
    notes.push(`OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS} is set (--threads overrides it for oneDNN)`);
  return notes;
}

/** Sets every loaded peer's thread count; returns the counts now in force (null: not loaded or not settable). */
export function setPeerThreads(n: number): { openblas: number | null; onednn: number | null } {
  if (typeof native.peerSetThreads !== 'function') return { openblas: null, onednn: null };
  return native.peerSetThreads(n);
}

/** JSON form of a peer status (the summary and what the bench needs to reproduce it). */
export function peerJson(s: PeerStatus): Record<string, unknown> {
  return {
    found: s.found,
    summary: s.summary,
    ...(s.library ? { ...s.library, realFile: s.realFile } : {}),
    envVar: s.envVar,
    envValue: s.envValue,
    tried: s.tried,
    errors: s.errors,
  };
}
