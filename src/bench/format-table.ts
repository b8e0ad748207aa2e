// The human-readable report: one table per scenario (a row per contender, a column per
// metric, each cell "value (ratio)"), then the targets.
import type { BenchReport, ContenderName, MetricReport, ScenarioReport, TargetReport } from './report.js';

export function formatValue(value: number, unit: string): string {
  switch (unit) {
    case '/s':
      return `${Math.round(value)}/s`;
    case 'ms':
      return `${value < 1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
    case 'us':
      return `${Math.round(value)} us`;
    case 'B':
      return `${Math.round(value)} B`;
    case 'kB':
      return `${value.toFixed(1)} kB`;
    case 'fd':
      return value.toFixed(2);
    case 'x':
      return `${value.toFixed(2)}x`;
    default:
      return `${value} ${unit}`;
  }
}

export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return '';
  return ratio >= 10 ? `${ratio.toFixed(0)}x` : `${ratio.toFixed(2)}x`;
}

export function formatReport(report: BenchReport): string {
  const { meta } = report;
  const lines = [
    `proclaunch bench${meta.quick ? ' --quick' : ''}: node ${meta.node}, kernel ${meta.kernel}, ${meta.cpus} x ${meta.cpuModel}, ` +
      `${Math.round(meta.totalMemoryMb / 1024)} GB, load ${meta.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    'cells: median (times better than the baseline, > 1 = better)',
    '',
  ];
  for (const scenario of report.scenarios) lines.push(...formatScenario(scenario), '');
  lines.push('targets', ...report.targets.map(formatTarget));
  return `${lines.join('\n')}\n`;
}

/** Tables wider than this are split into several, each repeating the contender column. */
const MAX_WIDTH = 110;

function formatScenario(scenario: ScenarioReport): string[] {
  const head = `${scenario.number}. ${scenario.title} [${scenario.status}, ${(scenario.durationMs / 1000).toFixed(1)} s]`;
  if (scenario.status !== 'ok') return [head, `   ${scenario.status}: ${scenario.reason ?? ''}`];
  const out = [head];
  for (const metrics of fitColumns(scenario)) out.push(...formatTable(scenario, metrics));
  for (const [name, why] of Object.entries(scenario.skipped)) out.push(`   skipped ${name}: ${why}`);
  for (const note of scenario.notes) out.push(`   - ${note}`);
  return out;
}

function formatTable(scenario: ScenarioReport, metrics: readonly MetricReport[]): string[] {
  const header = [`baseline: ${scenario.baseline}`, ...metrics.map((metric) => metric.label)];
  const rows = scenario.contenders.map((contender) => [contender, ...metrics.map((metric) => cell(metric, contender))]);
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  return table.map((row) =>
    `   ${row.map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('   ')}`.trimEnd(),
  );
}

function fitColumns(scenario: ScenarioReport): MetricReport[][] {
  const columnWidth = (metric: MetricReport): number =>
    Math.max(metric.label.length, ...scenario.contenders.map((contender) => cell(metric, contender).length)) + 3;
  const first = Math.max(`baseline: ${scenario.baseline}`.length, ...scenario.contenders.map((c) => c.length)) + 3;
  const groups: MetricReport[][] = [];
  let width = first;
  for (const metric of scenario.metrics) {
    const last = groups.at(-1);
    if (last === undefined || width + columnWidth(metric) > MAX_WIDTH) {
      groups.push([metric]);
      width = first + columnWidth(metric);
    } else {
      last.push(metric);
      width += columnWidth(metric);
    }
  }
  return groups;
}

function cell(metric: MetricReport, contender: ContenderName): string {
  const value = metric.values[contender];
  if (value === undefined || value === null) return '-';
  const ratio = formatRatio(metric.ratios[contender]);
  return ratio === '' ? formatValue(value, metric.unit) : `${formatValue(value, metric.unit)} (${ratio})`;
}

function formatTarget(target: TargetReport): string {
  const verdict = target.met === null ? 'n/a   ' : target.met ? 'MET   ' : 'MISSED';
  return `   ${target.id}. ${verdict} ${target.description}: ${target.measured}`;
}
