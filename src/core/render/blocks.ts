import type { CreationSite, Frame } from '../model';

/**
 * A finding's report as a list of blocks, each view-neutral: the text view (./../render-text) and
 * the markdown view (./../render-markdown) draw the same blocks, so they show the same sections.
 */
export type Block =
  /** The one-line summary of the finding. */
  | { kind: 'headline'; text: string }
  /** The source line the headline points at. */
  | { kind: 'source'; code: string }
  /** A titled list: what is pending, fake timers, promises, leaked resources. */
  | { kind: 'list'; title: string; numbered: boolean; entries: Entry[] }
  /** Lines laid out by their own renderer (await stacks, locks, a stack): kept as they are. */
  | { kind: 'lines'; title?: string; label: string; lines: string[] }
  /** "...and 3 more not shown." under the lists. */
  | { kind: 'omitted'; text: string }
  /** A sentence, with the place it is about. */
  | { kind: 'paragraph'; text: string; site?: CreationSite; showSite?: boolean }
  /** Advice and remarks, last. */
  | { kind: 'note'; text: string };

export interface Entry {
  text: string;
  /** Shown after the text, in parentheses in text and in italics in markdown. */
  flags: string[];
  /** Where it was created; `showSite` says whether an unknown place is said so. */
  site?: CreationSite;
  showSite: boolean;
  /** The library frame that really made it, when `site` is inherited. */
  madeBy?: Frame;
}
