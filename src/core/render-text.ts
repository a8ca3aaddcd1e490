import type { BlockedLoopFinding, CreationSite, HangFinding, LeakFinding, LeftBy } from './model';
import type { Block, Entry } from './render/blocks';
import { formatLocation, formatPath } from './render/location';
import { blockedLoopBlocks, hangBlocks, leakBlocks } from './render/sections';
import { leftOverErrorNote, madeByText } from './wording';

export interface TextOptions {
  /** Paths are shown relative to this directory. */
  rootDir: string;
}

/**
 * Plain text (no colours): it becomes the failure message, which other reporters (jest-junit,
 * CI logs) carry verbatim.
 */
export function renderHangText(finding: HangFinding, options: TextOptions): string {
  return blocksToText(hangBlocks(finding, options.rootDir), options.rootDir);
}

/** What an error thrown by work an earlier file left running says of it, in this file's failure. */
export function renderLeftOverErrorNote(leftBy: LeftBy, options: TextOptions): string {
  return leftOverErrorNote(leftBy, formatPath(leftBy.testPath, options.rootDir));
}

/** The warning (or failure) for resources a test or file left open. */
export function renderLeakText(finding: LeakFinding, options: TextOptions): string {
  return blocksToText(leakBlocks(finding, options.rootDir), options.rootDir);
}

/** Plain text, like the hang report: headline, the loop's source line, the stack, notes. */
export function renderBlockedLoopText(finding: BlockedLoopFinding, rootDir: string): string {
  return blocksToText(blockedLoopBlocks(finding, rootDir), rootDir);
}

function blocksToText(blocks: Block[], rootDir: string): string {
  const lines: string[] = [];
  let number = 0;
  for (const block of blocks) {
    switch (block.kind) {
      case 'headline':
      case 'note':
        lines.push(block.text);
        break;
      case 'source':
        lines.push(`    ${block.code}`);
        break;
      case 'lines':
        if (block.title) lines.push(block.title);
        lines.push(...block.lines);
        break;
      case 'omitted':
        lines.push(`  ${block.text}`);
        break;
      case 'paragraph':
        lines.push(block.text);
        if (block.showSite) lines.push(siteLine(block.site, rootDir, '  '));
        break;
      case 'list':
        lines.push(block.title);
        for (const entry of block.entries) {
          // Numbering runs on across a report's lists of pending resources.
          const bullet = block.numbered ? `${++number}.` : '-';
          lines.push(...entryLines(entry, bullet, rootDir));
        }
        break;
    }
  }
  return lines.join('\n');
}

function entryLines(entry: Entry, bullet: string, rootDir: string): string[] {
  const indent = bullet === '-' ? '    ' : '     ';
  const flags = entry.flags.length > 0 ? ` (${entry.flags.join('; ')})` : '';
  const lines = [`  ${bullet} ${entry.text}${flags}`];
  if (entry.showSite) lines.push(siteLine(entry.site, rootDir, indent));
  if (entry.madeBy) {
    lines.push(`${indent}${madeByText(entry.madeBy, formatLocation(entry.madeBy, rootDir))}`);
  }
  return lines;
}

function siteLine(site: CreationSite | undefined, rootDir: string, indent: string): string {
  const top = site?.top;
  if (!top) return `${indent}created at an unknown place (no user code on its stack)`;
  const via = top.origin === 'dependency' && top.packageName ? ` (inside ${top.packageName})` : '';
  const code = site.sourceLine ? `   ${site.sourceLine}` : '';
  return `${indent}created at ${formatLocation(top, rootDir)}${via}${code}`;
}
