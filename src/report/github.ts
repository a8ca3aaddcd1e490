import * as path from 'node:path';
import type { Finding } from '../core/model';
import {
  renderBlockedLoopMarkdown,
  renderHangMarkdown,
  renderLeakMarkdown,
} from '../core/render-markdown';
import { formatPath } from '../core/render/location';
import { digestOf, waitForCycle, type WaitForEdge } from './digest';
import { countByKind, kindCount, renderFindingText, whereOf } from './render-summary';
import { plural } from '../core/format';

/**
 * GitHub Actions output: workflow-command annotations at the culprit lines, and a markdown job
 * summary. Escaping follows GitHub's documented rules (as in @actions/core): in the message,
 * `%`, `\r` and `\n`; in property values, those and also `:` and `,`.
 */

export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export type AnnotationLevel = 'error' | 'warning' | 'notice';

/** `::level key=value,...::message`, properties without a value left out. */
export function workflowCommand(
  level: AnnotationLevel,
  properties: Record<string, string | number | undefined>,
  message: string,
): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  return `::${level}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

export interface AnnotationOptions {
  /** Jest's rootDir, for paths in the message. */
  rootDir: string;
  /** Annotation paths are relative to the checkout (`GITHUB_WORKSPACE`). */
  workspace: string;
  /** Findings that fail the run or a test are errors; the rest are warnings. */
  levelOf: (finding: Finding) => AnnotationLevel;
}

/** One annotation per finding, at its culprit line (else at its test file). */
export function annotationsFor(findings: Finding[], options: AnnotationOptions): string[] {
  return findings.map((finding) => {
    const digest = digestOf(finding);
    const file = digest.location?.file ?? digest.testPath;
    const title = `hangwatch: ${kindCount(digest.kind, 1).replace(/^1 /, '')}${digest.testName ? ` in "${digest.testName}"` : ''}`;
    return workflowCommand(
      options.levelOf(finding),
      {
        file: file ? toPosix(path.relative(options.workspace, file)) : undefined,
        line: digest.location?.line,
        col: digest.location?.column,
        title,
      },
      renderFindingText(finding, options.rootDir),
    );
  });
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}

export interface JobSummaryOptions {
  rootDir: string;
  gate?: { failOn: readonly string[]; failing: Finding[] };
}

/** The markdown appended to `$GITHUB_STEP_SUMMARY`: a table, then each finding in full. */
export function renderJobSummary(findings: Finding[], options: JobSummaryOptions): string {
  if (findings.length === 0) return '';
  const out = [`## hangwatch: ${plural(findings.length, 'finding')}: ${countByKind(findings)}`, ''];
  if (options.gate && options.gate.failing.length > 0) {
    out.push(
      `**The run fails on ${countByKind(options.gate.failing)}** (failOn: ${options.gate.failOn.join(', ')}).`,
      '',
    );
  }
  out.push('| Kind | Test | Where | Why |', '| --- | --- | --- | --- |');
  for (const digest of findings.map(digestOf)) {
    out.push(
      `| ${cell(digest.kind)} | ${cell(digest.testName ?? '')} | \`${cell(whereOf(digest, options.rootDir))}\` | ${cell(digest.why)} |`,
    );
  }
  out.push('');
  for (const finding of findings) {
    const digest = digestOf(finding);
    out.push(
      '<details>',
      `<summary>${html(`${digest.kind}: ${digest.testName ?? whereOf(digest, options.rootDir)}`)}</summary>`,
      '',
      findingMarkdown(finding, options.rootDir),
    );
    const cycle = waitForCycle(finding);
    if (cycle) out.push('Wait-for cycle:', '', mermaidCycle(cycle), '');
    out.push('</details>', '');
  }
  return out.join('\n');
}

function findingMarkdown(finding: Finding, rootDir: string): string {
  // The text view's full report where it has one (./render-summary's renderFindingText).
  if (finding.kind === 'hang') return renderHangMarkdown(finding, { rootDir });
  if (finding.kind === 'leak') return renderLeakMarkdown(finding, { rootDir });
  if (finding.kind === 'blocked-loop') return renderBlockedLoopMarkdown(finding, { rootDir });
  const digest = digestOf(finding);
  const where = digest.location
    ? `\`${whereOf(digest, rootDir)}\``
    : digest.testPath
      ? `\`${formatPath(digest.testPath, rootDir)}\``
      : '';
  return `${digest.why}${where ? ` — ${where}` : ''}\n`;
}

/** A Mermaid flowchart of who waits for whom; labels are quoted, quotes spelled as entities. */
export function mermaidCycle(edges: WaitForEdge[]): string {
  const ids = new Map<string, string>();
  const node = (name: string) => {
    let id = ids.get(name);
    if (!id) {
      id = `p${ids.size}`;
      ids.set(name, id);
    }
    return `${id}["${mermaidText(name)}"]`;
  };
  const lines = edges.map((edge) => {
    const label = edge.label ? `|"${mermaidText(edge.label)}"|` : '';
    return `  ${node(edge.from)} -->${label} ${node(edge.to)}`;
  });
  return ['```mermaid', 'graph LR', ...lines, '```'].join('\n');
}

function mermaidText(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/\n/g, ' ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
