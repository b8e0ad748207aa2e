// Scenario 2: the synchronous time of the launch call, i.e. how long one launch keeps
// the event loop from doing anything else. Same rounds as scenario 1.
import { metric, type Scenario } from '../scenario.js';
import { pickFigure, SEQUENTIAL_CONTENDER_COUNT, SEQUENTIAL_SIZES, sequentialRun } from './sequential-run.js';

export const launchCallScenario: Scenario = {
  name: 'launch-call',
  number: 2,
  title: 'synchronous time of the launch call (event-loop blocking)',
  // Shares scenario 1's rounds: costs nothing more when both run.
  units: (quick) => SEQUENTIAL_CONTENDER_COUNT * (quick ? SEQUENTIAL_SIZES.quick : SEQUENTIAL_SIZES.full).rounds,
  async run(context) {
    const alreadyRun = context.memo.has('sequential');
    const run = await sequentialRun(context);
    if (alreadyRun) context.progress.advance(this.units(context.quick), 'launch-call: reusing the sequential rounds');
    return {
      status: 'ok',
      baseline: 'child_process',
      contenders: run.contenders,
      skipped: run.skipped,
      metrics: [
        metric({ name: 'callP50', label: 'launch call p50', unit: 'ms', better: 'lower' }, pickFigure(run, 'callP50'), 'child_process'),
        metric({ name: 'callP99', label: 'launch call p99', unit: 'ms', better: 'lower' }, pickFigure(run, 'callP99'), 'child_process'),
      ],
      notes: [
        ...run.notes,
        'launch call: wall time of launch()/spawn()/execa()/x() until it returns; c-limit: of the clone() call',
        'the same rounds as scenario 1 when both run',
      ],
    };
  },
};
