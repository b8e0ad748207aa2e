// NUMA topology from sysfs, to turn `cpunodebind` into CPUs and to check `membind`.
import { readFileSync, readdirSync } from 'node:fs';

import { ProcLauncherError } from '../contract.js';
import { parseIndexList } from '../common/cpu-list.js';

const NODE_DIR = '/sys/devices/system/node';

function hostNodes(): number[] {
  try {
    return readdirSync(NODE_DIR)
      .filter((name) => /^node\d+$/.test(name))
      .map((name) => Number(name.slice(4)))
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function unavailable(option: string, nodes: readonly number[], known: readonly number[]): ProcLauncherError {
  return new ProcLauncherError(
    'launch',
    `${option}: NUMA node(s) ${nodes.join(',')} not present on this host (nodes: ${known.length > 0 ? known.join(',') : 'none exposed in ' + NODE_DIR})`,
    { code: 'EINVAL', errno: 22, stage: 'numa', path: NODE_DIR },
  );
}

/** The CPUs of the given nodes; a clear error when a node does not exist here. */
export function cpusOfNodes(nodes: readonly number[]): number[] {
  const known = hostNodes();
  const missing = nodes.filter((node) => !known.includes(node));
  if (missing.length > 0) throw unavailable('opts.procBind.cpunodebind', missing, known);
  const cpus = new Set<number>();
  for (const node of nodes) {
    const list = readFileSync(`${NODE_DIR}/node${node}/cpulist`, 'utf8').trim();
    if (list.length > 0) for (const cpu of parseIndexList(list, `node${node}/cpulist`)) cpus.add(cpu);
  }
  if (cpus.size === 0) throw unavailable('opts.procBind.cpunodebind (nodes without CPUs)', nodes, known);
  return [...cpus].sort((a, b) => a - b);
}

export function checkMemNodes(nodes: readonly number[]): void {
  const known = hostNodes();
  const missing = nodes.filter((node) => !known.includes(node));
  if (missing.length > 0) throw unavailable('opts.procBind.membind', missing, known);
}
