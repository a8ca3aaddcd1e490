export { withHangwatch, type EnvironmentClass } from './jest/environment';
export { HangError } from './core/hang-error';
export { HangwatchConfigError, DEFAULT_OPTIONS, type HangwatchOptions } from './jest/options';
export { renderHangText } from './core/render-text';
export { renderHangMarkdown } from './core/render-markdown';
export type * from './core/model';
export { describePending } from './core/render/pending';
export { adviceText } from './core/render/advice';
