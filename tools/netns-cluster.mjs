#!/usr/bin/env node
/**
 * Simulated cluster nodes on one machine, for measuring data parallelism over a real TCP link
 * (issue 19): N network namespaces (axon-n0 ...), each one "node" with address 10.77.0.(i+1),
 * joined by a veth pair (2 nodes) or a bridge (3+), every node's egress shaped with `tc tbf`
 * to --rate; the command runs under mpirun started inside node 0, one rank per node, ranks
 * launched through an rsh agent that runs `ip netns exec` (each node with its own TMPDIR, as
 * Open MPI's session directories would otherwise collide), processes not bound to cores (the
 * "nodes" share this machine's CPUs: binding put every rank on core 0). Everything created is
 * deleted afterwards, also on failure or a signal. Needs root (CI runs as root) and iproute2.
 *
 *   node tools/netns-cluster.mjs --nodes 2 --rate 10gbit [--timeout 300] -- node --import tsx bench/allreduce.bench.ts
 *   node tools/netns-cluster.mjs --nodes 2 --rate 1gbit --c-peer      (the plain C MPI peer, bench/peers/allreduce.c)
 *
 * Traffic stays between addresses that exist only inside those namespaces.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dash = process.argv.indexOf('--');
const { values: args } = parseArgs({
  args: process.argv.slice(2, dash < 0 ? undefined : dash),
  options: {
    nodes: { type: 'string', default: '2' },
    rate: { type: 'string', default: '10gbit' },
    timeout: { type: 'string', default: '300' },
    'c-peer': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const nodes = Number(args.nodes);
if (!Number.isInteger(nodes) || nodes < 2 || nodes > 8) throw new RangeError(`--nodes must be 2..8, got ${args.nodes}`);
const rate = /^(\d+(?:\.\d+)?)(gbit|mbit)$/.exec(args.rate);
if (!rate) throw new RangeError(`--rate must look like 10gbit or 500mbit, got ${args.rate}`);
const bytesPerSecond = (Number(rate[1]) * (rate[2] === 'gbit' ? 1e9 : 1e6)) / 8;
let command = dash < 0 ? [] : process.argv.slice(dash + 1);
const work = mkdtempSync(join(tmpdir(), 'axon-netns-'));
if (args['c-peer']) {
  const bin = join(work, 'allreduce');
  const cc = spawnSync('mpicc', ['-O2', '-o', bin, join(root, 'bench', 'peers', 'allreduce.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`mpicc failed: ${cc.stderr || cc.error}`);
  command = [bin];
}
if (command.length === 0) throw new Error('give the command after --, or --c-peer');

const names = Array.from({ length: nodes }, (_, i) => `axon-n${i}`);
const ip = (i) => `10.77.0.${i + 1}`;
function sh(cmd, argv, allowFail = false) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr || r.error}`);
  return r;
}
function deleteNamespaces() {
  for (const n of [...names, 'axon-sw']) sh('ip', ['netns', 'del', n], true);
}
function down() {
  deleteNamespaces();
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    down();
    process.exit(130);
  });

let status = 1;
try {
  deleteNamespaces(); // leftovers of an interrupted run
  for (const n of names) sh('ip', ['netns', 'add', n]);
  if (nodes === 2) {
    sh('ip', ['link', 'add', 'eth0', 'netns', names[0], 'type', 'veth', 'peer', 'name', 'eth0', 'netns', names[1]]);
  } else {
    sh('ip', ['netns', 'add', 'axon-sw']);
    sh('ip', ['-n', 'axon-sw', 'link', 'add', 'br0', 'type', 'bridge']);
    sh('ip', ['-n', 'axon-sw', 'link', 'set', 'br0', 'up']);
    names.forEach((n, i) => {
      sh('ip', ['link', 'add', 'eth0', 'netns', n, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', 'axon-sw']);
      sh('ip', ['-n', 'axon-sw', 'link', 'set', `p${i}`, 'master', 'br0']);
      sh('ip', ['-n', 'axon-sw', 'link', 'set', `p${i}`, 'up']);
    });
  }
  // tbf: a bucket of two timer ticks' worth of bytes (at least one MTU), 20 ms of queue.
  const burst = Math.max(3000, Math.ceil((2 * bytesPerSecond) / 1000));
  names.forEach((n, i) => {
    sh('ip', ['-n', n, 'addr', 'add', `${ip(i)}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', n, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    sh('ip', [
      'netns',
      'exec',
      n,
      'tc',
      'qdisc',
      'add',
      'dev',
      'eth0',
      'root',
      'tbf',
      'rate',
      args.rate,
      'burst',
      String(burst),
      'latency',
      '20ms',
    ]);
  });
  const agent = join(work, 'agent.sh');
  writeFileSync(
    agent,
    [
      '#!/bin/sh',
      '# rsh agent for mpirun: $1 is a node address 10.77.0.K, the rest the command for node K-1',
      'host="$1"; shift',
      'idx=$(echo "$host" | awk -F. \'{print $4 - 1}\')',
      `mkdir -p ${work}/tmp$idx`,
      `exec ip netns exec axon-n$idx env TMPDIR=${work}/tmp$idx sh -c "$*"`,
      '',
    ].join('\n'),
  );
  chmodSync(agent, 0o755);
  sh('mkdir', ['-p', `${work}/tmp0`]);
  const mpirun = [
    'netns',
    'exec',
    names[0],
    'env',
    `TMPDIR=${work}/tmp0`,
    'AXON_NUM_THREADS=1',
    ...args.env,
    'mpirun',
    '--allow-run-as-root',
    '--bind-to',
    'none',
    '-np',
    String(nodes),
    '--host',
    names.map((_, i) => `${ip(i)}:1`).join(','),
    '--mca',
    'plm_rsh_agent',
    agent,
    '--mca',
    'btl',
    'tcp,self',
    '--mca',
    'btl_tcp_if_include',
    '10.77.0.0/24',
    '--mca',
    'oob_tcp_if_include',
    '10.77.0.0/24',
    ...command,
  ];
  console.error(`# ${nodes} simulated nodes, links ${args.rate} (tbf burst ${burst} B), mpirun in ${names[0]}`);
  const r = spawnSync('ip', mpirun, {
    stdio: 'inherit',
    cwd: root,
    timeout: Number(args.timeout) * 1000,
    killSignal: 'SIGKILL',
  });
  status = r.status ?? 124;
  if (r.status === null) console.error(`netns-cluster: the command ran past ${args.timeout} s and was killed`);
} finally {
  down();
}
process.exit(status);
