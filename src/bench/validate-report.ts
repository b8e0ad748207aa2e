// What CI checks after `proclaunch bench --quick`: every scenario either ran and gave a
// number for every contender it ran, or says why it was skipped. Values are not judged.
import type { BenchReport } from './report.js';

export function reportProblems(report: BenchReport): string[] {
  const problems: string[] = [];
  for (const scenario of report.scenarios) {
    const where = `scenario ${scenario.number} (${scenario.name})`;
    if (scenario.status === 'failed') {
      problems.push(`${where} failed: ${scenario.reason ?? 'no reason given'}`);
      continue;
    }
    if (scenario.status === 'skipped') {
      if ((scenario.reason ?? '') === '') problems.push(`${where} was skipped without a reason`);
      continue;
    }
    if (scenario.metrics.length === 0) problems.push(`${where} produced no metrics`);
    for (const contender of scenario.contenders) {
      const numbers = scenario.metrics.map((metric) => metric.values[contender]).filter((v) => v !== undefined);
      if (numbers.length === 0) problems.push(`${where}: no figure for ${contender}`);
      if (numbers.some((v) => typeof v !== 'number' || !Number.isFinite(v))) problems.push(`${where}: a figure for ${contender} is not a finite number`);
    }
  }
  return problems;
}
