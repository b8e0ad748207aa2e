// Scenario 1: launch -> exit of /bin/true, one at a time: throughput and latency.
import { metric, type Scenario } from '../scenario.js';
import { pickFigure, SEQUENTIAL_CONTENDER_COUNT, SEQUENTIAL_SIZES, sequentialRun } from './sequential-run.js';

export const sequentialScenario: Scenario = {
  name: 'sequential',
  number: 1,
  title: 'sequential launch -> exit of /bin/true',
  units: (quick) => SEQUENTIAL_CONTENDER_COUNT * (quick ? SEQUENTIAL_SIZES.quick : SEQUENTIAL_SIZES.full).rounds,
  async run(context) {
    const run = await sequentialRun(context);
    return {
      status: 'ok',
      baseline: 'child_process',
      contenders: run.contenders,
      skipped: run.skipped,
      metrics: [
        metric({ name: 'throughput', label: 'launch+exit/s', unit: '/s', better: 'higher' }, pickFigure(run, 'throughput'), 'child_process'),
        metric({ name: 'latencyP50', label: 'latency p50', unit: 'ms', better: 'lower' }, pickFigure(run, 'latencyP50'), 'child_process'),
        metric({ name: 'latencyP99', label: 'latency p99', unit: 'ms', better: 'lower' }, pickFigure(run, 'latencyP99'), 'child_process'),
      ],
      notes: [...run.notes, 'latency: from the launch call to the exit observed by the caller'],
    };
  },
};
