import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';

export const REPORT_SCHEMA_FILE = path.resolve(
  __dirname,
  '..',
  '..',
  'schema',
  'hangwatch-report.schema.json',
);

export const reportSchema = JSON.parse(fs.readFileSync(REPORT_SCHEMA_FILE, 'utf8')) as {
  properties: { schemaVersion: { const: number } };
};

// Strict mode stays on (it catches schema mistakes); union types are standard JSON Schema.
const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(reportSchema);

/** The schema's complaints about a report, as `path message` lines; empty when it is valid. */
export function schemaErrors(report: unknown): string[] {
  if (validate(report)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}
