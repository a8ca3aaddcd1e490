import type { BlockedLoopFinding, CreationSite, HangFinding, LeakFinding } from './model';
import type { Block } from './render/blocks';
import { formatLocation, formatPath } from './render/location';
import { blockedLoopBlocks, hangBlocks, leakBlocks } from './render/sections';
import { madeByText } from './wording';

/** Markdown view of a finding, for CI job summaries and issue comments: the text view's sections. */

export function renderHangMarkdown(finding: HangFinding, options: { rootDir: string }): string {
  return blocksToMarkdown(hangBlocks(finding, options.rootDir), '⏳', finding.testPath, options);
}

export function renderLeakMarkdown(finding: LeakFinding, options: { rootDir: string }): string {
  return blocksToMarkdown(leakBlocks(finding, options.rootDir), '', finding.testPath, options);
}

export function renderBlockedLoopMarkdown(
  finding: BlockedLoopFinding,
  options: { rootDir: string },
): string {
  const blocks = blockedLoopBlocks(finding, options.rootDir);
  return blocksToMarkdown(blocks, '🧊', finding.testPath, options);
}

function blocksToMarkdown(
  blocks: Block[],
  icon: string,
  testPath: string,
  options: { rootDir: string },
): string {
  const { rootDir } = options;
  const out: string[] = [];
  const file = () => out.push(`File: \`${formatPath(testPath, rootDir)}\``, '');
  if (blocks[0]?.kind !== 'headline') file();
  for (const [index, block] of blocks.entries()) {
    switch (block.kind) {
      case 'headline':
        out.push(`### ${icon ? `${icon} ` : ''}${escape(block.text)}`, '');
        if (index === 0) file();
        break;
      case 'source':
        out.push('```', block.code, '```', '');
        break;
      case 'lines':
        out.push(`**${escape(block.title ?? block.label)}**`, '', '```', ...block.lines, '```', '');
        break;
      case 'omitted':
        out.push(escape(block.text), '');
        break;
      case 'paragraph':
        out.push(`${escape(block.text)}${block.showSite ? siteText(block.site, rootDir) : ''}`, '');
        break;
      case 'note':
        out.push(`> ${escape(block.text)}`);
        break;
      case 'list':
        out.push(`**${escape(block.title)}**`, '');
        for (const entry of block.entries) {
          const flags = entry.flags.length > 0 ? ` _(${escape(entry.flags.join('; '))})_` : '';
          out.push(
            `${block.numbered ? '1.' : '-'} ${escape(entry.text)}${flags}${siteText(entry.site, rootDir)}`,
          );
          if (entry.madeBy) {
            const where = `\`${formatLocation(entry.madeBy, rootDir)}\``;
            out.push(`   ${madeByText(entry.madeBy, where)}`);
          }
        }
        out.push('');
        break;
    }
  }
  return out.join('\n').trimEnd() + '\n';
}

function siteText(site: CreationSite | undefined, rootDir: string): string {
  const top = site?.top;
  if (!top) return '';
  const code = site.sourceLine ? `\n   \`${site.sourceLine.replace(/`/g, "'")}\`` : '';
  return ` — \`${formatLocation(top, rootDir)}\`${code}`;
}

function escape(text: string): string {
  return text.replace(/([<>*_|])/g, '\\$1');
}
