import type { Context } from '../context.js';
import type { CheckResult } from '../core/doctor/check.js';
import { tally, type NodeReport } from '../core/doctor/checks.js';
import type { PlannedFix } from '../core/doctor/fixes.js';
import { ExitCode, PiswarmError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { applyFixes, diagnose, fixesFor, type Diagnosis } from '../services/doctor.js';
import { pinFirstSeen } from '../services/swarm/cluster.js';
import { createNodeProgress } from '../ui/node-progress.js';
import { createPrompter } from '../ui/prompter.js';
import { clusterPorts } from './cluster-access.js';

export interface DoctorFlags {
  fix: boolean;
  only?: string[];
}

const MARK: Record<CheckResult['status'], string> = { ok: '✓', warn: '!', fail: '✗', skipped: '-' };

export async function doctorAction(context: Context, flags: DoctorFlags): Promise<number> {
  const inventory = await context.loadInventory();
  const nodes = (flags.only?.length ? flags.only.map((ref) => inventory.requireNode(ref)) : inventory.nodes()).filter((n) => n.ip);
  if (nodes.length === 0) throw new PiswarmError(`${inventory.file} lists no nodes with an address.`, { hint: 'Run `piswarm discover --save` and `piswarm bootstrap` first.' });
  const ports = await clusterPorts(context, inventory);
  const examine = async () => {
    const progress = createNodeProgress(context.io, nodes.map((n) => n.hostname));
    return diagnose(inventory, nodes, ports, { node: (node, step) => (step === 'done' ? progress.done(node, 'checked') : progress.step(node, step)) }).finally(() => progress.close());
  };
  let current = await examine();
  try {
    if (pinFirstSeen(current.sessions, inventory, context.reporter).length > 0 || current.moved.length > 0) await context.saveInventory(inventory);
    let applied: Awaited<ReturnType<typeof applyFixes>> = [];
    if (flags.fix) {
      applied = await fix(context, current);
      if (applied.some((a) => a.changed)) {
        current.close();
        current = await examine();
      }
    }
    const counts = tally(current.reports);
    if (context.io.json) printJson(context.io, { nodes: current.reports.map(jsonReport), summary: counts, ...(flags.fix ? { fixes: applied.map(jsonFix) } : {}) });
    else printLines(context.io, [...current.reports.map((r) => formatReport(r, context.io.verbose)), formatSummary(current.reports, fixesFor(current).length, flags.fix)].join('\n'));
    return counts.fail > 0 ? ExitCode.failed : counts.warn > 0 ? ExitCode.warnings : ExitCode.ok;
  } finally {
    current.close();
  }
}

/** Plan → show → confirm → apply; says what each fix needs before it takes effect. */
async function fix(context: Context, diagnosis: Diagnosis) {
  const planned = fixesFor(diagnosis);
  if (planned.length === 0) {
    context.reporter.step('Nothing doctor can fix by itself was found');
    return [];
  }
  context.io.stderr.write(`Fixes to apply:\n${planned.map((f) => `  ${f.node}: ${f.what}${f.then === 'nothing' ? '' : ` (takes effect after ${f.then})`}`).join('\n')}\n`);
  if (!(await createPrompter(context.io).confirm(`Apply these ${planned.length} fix(es)?`))) {
    context.reporter.warn('No fix applied (run with --yes to apply without asking).');
    return [];
  }
  const applied = await applyFixes(diagnosis, planned);
  for (const a of applied) {
    if (a.error) context.reporter.warn(`${a.fix.node}: could not ${a.fix.what}: ${a.error.replace(`${a.fix.node}: can't ${a.fix.what}: `, '')}`);
    else context.reporter.step(`${a.fix.node}: ${a.changed ? a.fix.what : `${a.fix.what}: already so`}${a.changed && a.fix.then !== 'nothing' ? `; needs ${a.fix.then} (\`piswarm upgrade --only ${a.fix.node} --run true --reboot\` does it without stopping service)` : ''}`);
  }
  return applied;
}

function summary(report: NodeReport): string {
  const c = tally([report]);
  return `${c.ok} ok, ${c.warn} warning(s), ${c.fail} failure(s), ${c.skipped} skipped`;
}

function formatReport(report: NodeReport, verbose: boolean): string {
  const shown = report.checks.filter((c) => verbose || c.status === 'warn' || c.status === 'fail');
  const lines = shown.map((c) => {
    const line = `  ${MARK[c.status]} ${c.id.padEnd(15)} ${c.found}`;
    return c.fix && (c.status === 'warn' || c.status === 'fail') ? `${line}\n    ${' '.repeat(15)} why: ${c.why}\n    ${' '.repeat(15)} fix: ${c.fix}` : line;
  });
  return [`${report.node}: ${summary(report)}`, ...lines].join('\n');
}

function formatSummary(reports: readonly NodeReport[], fixable: number, fixed: boolean): string {
  const c = tally(reports);
  const verdict = c.fail > 0 ? `${c.fail} failure(s) and ${c.warn} warning(s)` : c.warn > 0 ? `${c.warn} warning(s), no failures` : 'all checks ok';
  const hint = fixable > 0 && !fixed ? `\n\`piswarm doctor --fix\` can fix ${fixable} of them by itself.` : '';
  return `\n${reports.length} node(s): ${verdict} (${c.ok} ok, ${c.skipped} skipped; --verbose lists every check).${hint}`;
}

function jsonReport(report: NodeReport) {
  return { node: report.node, checks: report.checks.map(({ id, title, status, found, why, fix, autoFix }) => ({ id, title, status, found, why, fix, fixable: autoFix !== undefined })) };
}

function jsonFix(a: { fix: PlannedFix; changed?: boolean; error?: string }) {
  return { node: a.fix.node, fix: a.fix.fix, what: a.fix.what, then: a.fix.then, changed: a.changed ?? false, ...(a.error ? { error: a.error } : {}) };
}
