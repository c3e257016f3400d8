/**
 * `axon-nn info [--json]`: what the native backend runs on (backend, SIMD level and the levels
 * available, threads, the CPU and its microarchitecture, the compiler), the machine's measured
 * roofs from machineInfo() (fp32 FMA peak per core and for the pool, L2 and DRAM read
 * bandwidth; about a second to measure) and which peers (OpenBLAS, oneDNN) were found.
 */
import { backendInfo, machineInfo } from '../index.js';
import { findPeer, peerEnvironmentNotes, peerJson } from './peers.js';

/** The `info` command's report as a JSON-serialisable object. */
export function infoReport(pkg: { name: string; version: string }): Record<string, unknown> {
  const backend = backendInfo();
  const machine = machineInfo();
  const openblas = findPeer('openblas');
  const onednn = findPeer('onednn');
  return {
    package: pkg,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend: backend.backend,
    isa: backend.isa,
    isaReason: backend.isaReason,
    isaAvailable: backend.isaAvailable,
    threads: backend.threads,
    availableCpus: backend.availableCpus,
    compiler: backend.compiler,
    buildFlags: backend.buildFlags,
    cpu: backend.cpu,
    roofs: {
      isa: machine.isa,
      lanes: machine.lanes,
      threads: machine.threads,
      fmaGflopsPerCore: machine.peakGflopsPerCore,
      fmaGflops: machine.peakGflops,
      l2GbpsPerCore: machine.l2GbpsPerCore,
      l2Gbps: machine.l2Gbps,
      dramGbps: machine.dramGbps,
      measuredSeconds: machine.measuredSeconds,
    },
    peers: { openblas: peerJson(openblas), onednn: peerJson(onednn) },
    notes: peerEnvironmentNotes(),
  };
}

const f0 = (x: number): string => x.toFixed(0);

/** The `info` command: prints the report as text, or as JSON with `json`. */
export function runInfo(pkg: { name: string; version: string }, json: boolean): void {
  const r = infoReport(pkg);
  if (json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  const b = backendInfo();
  const m = machineInfo(); // cached by infoReport
  const cpu = b.cpu;
  const lines = [
    `${pkg.name} ${pkg.version} (node ${process.version}, ${process.platform}-${process.arch})`,
    `backend:   ${b.backend}, SIMD ${b.isa} (${b.isaReason}); available: ${b.isaAvailable.join(', ')}`,
    `threads:   ${b.threads} (CPUs available to this process: ${b.availableCpus})`,
    `cpu:       ${cpu.brand || cpu.arch} - ${cpu.microarchitecture} (${cpu.arch}${cpu.vendor ? `, ${cpu.vendor}` : ''}, family ${cpu.family} model ${cpu.model} stepping ${cpu.stepping})`,
    `tuning:    ${cpu.config.name} (${cpu.config.reason}): GEMM kc ${cpu.config.gemm.kc} mc ${cpu.config.gemm.mc} nc ${cpu.config.gemm.nc}; Winograd from ${cpu.config.winograd.minIn3x3} (3x3) / ${cpu.config.winograd.minIn5x5} (5x5) input channels`,
    `compiler:  ${b.compiler}; ${b.buildFlags}`,
    `roofs:     measured in ${m.measuredSeconds.toFixed(1)} s at ${m.isa} (${m.lanes} fp32 lanes), ${m.threads} threads`,
    `  fp32 FMA peak   ${f0(m.peakGflopsPerCore)} GFLOP/s per core, ${f0(m.peakGflops)} GFLOP/s all threads`,
    `  L2 read         ${f0(m.l2GbpsPerCore)} GB/s per core, ${f0(m.l2Gbps)} GB/s all threads`,
    `  DRAM read       ${f0(m.dramGbps)} GB/s all threads`,
    'peers:',
    ...[findPeer('openblas'), findPeer('onednn')].map(
      (p) =>
        `  ${p.summary}${p.found && p.library?.threads != null ? `, ${p.library.threads} threads by default` : ''}`,
    ),
    ...(r.notes as string[]).map((n) => `note: ${n}`),
  ];
  console.log(lines.join('\n'));
}
