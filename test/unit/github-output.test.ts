import {
  annotationsFor,
  escapeData,
  escapeProperty,
  renderJobSummary,
  workflowCommand,
} from '../../src/report/github';
import { waitForCycle } from '../../src/report/digest';
import { ROOT, sampleDeadlockFinding, sampleHang } from '../helpers/findings';

/** GitHub's documented form: `::command key=value,key=value::message`, one line. */
const WORKFLOW_COMMAND =
  /^::(error|warning|notice)( [a-zA-Z]+=[^,:\n\r]*(,[a-zA-Z]+=[^,:\n\r]*)*)?::[^\n\r]*$/;

describe('workflow-command escaping', () => {
  test('message data: %, CR and LF', () => {
    expect(escapeData('100% done\r\nnext: a, b')).toBe('100%25 done%0D%0Anext: a, b');
  });

  test('property values: also : and ,', () => {
    expect(escapeProperty('hang: a, b\n%')).toBe('hang%3A a%2C b%0A%25');
  });

  test('a command with hostile text stays one well-formed line', () => {
    const line = workflowCommand(
      'error',
      { file: 'src/a,b:c.js', line: 3, col: undefined, title: 'x: y, z' },
      'first line\nsecond: 50%, done',
    );
    expect(line).toBe(
      '::error file=src/a%2Cb%3Ac.js,line=3,title=x%3A y%2C z::first line%0Asecond: 50%25, done',
    );
    expect(line).toMatch(WORKFLOW_COMMAND);
  });
});

describe('annotations', () => {
  const [hang, deadlock] = annotationsFor([sampleHang(), sampleDeadlockFinding()], {
    rootDir: ROOT,
    workspace: ROOT,
    levelOf: (finding) => (finding.kind === 'hang' ? 'error' : 'warning'),
  });

  test('point at the culprit line, relative to the workspace', () => {
    expect(hang).toMatch(WORKFLOW_COMMAND);
    expect(hang).toMatch(
      /^::error file=src\/orders\.test\.js,line=12,col=5,title=hangwatch%3A hang in "orders › refunds a payment"::test "orders › refunds a payment" hung/,
    );
    expect(hang).toContain('%0A');
  });

  test('a kind without a case of its own still gets its line and its one-line why', () => {
    expect(deadlock).toMatch(WORKFLOW_COMMAND);
    expect(deadlock).toMatch(
      /^::warning file=src\/bank\.js,line=30,col=9,title=hangwatch%3A deadlock in "transfers › moves money both ways"::deadlock in test "transfers › moves money both ways": Deadlock: 2 flows wait for each other's locks/,
    );
  });
});

describe('job summary', () => {
  test('a table of findings, each in full, and a Mermaid diagram of a wait-for cycle', () => {
    const markdown = renderJobSummary([sampleHang(), sampleDeadlockFinding()], {
      rootDir: ROOT,
      gate: { failOn: ['hang'], failing: [sampleHang()] },
    });
    expect(markdown).toContain('## hangwatch: 2 findings: 1 hang, 1 deadlock');
    expect(markdown).toContain('**The run fails on 1 hang** (failOn: hang).');
    expect(markdown).toContain(
      '| hang | orders › refunds a payment | `src/orders.test.js:12:5` | test "orders › refunds a payment" hung',
    );
    expect(markdown).toContain('### ⏳ test "orders › refunds a payment" hung');
    expect(markdown).toContain(
      [
        '```mermaid',
        'graph LR',
        '  p0["task #quot;transfer A→B#quot;"] -->|"accounts:B"| p1["task #quot;transfer B→A#quot;"]',
        '  p1["task #quot;transfer B→A#quot;"] -->|"accounts:A"| p0["task #quot;transfer A→B#quot;"]',
        '```',
      ].join('\n'),
    );
  });

  test('nothing at all when there is nothing to say', () => {
    expect(renderJobSummary([], { rootDir: ROOT })).toBe('');
  });

  test('a lock held by a flow that is not waiting itself points at that holder', () => {
    const finding = sampleDeadlockFinding();
    finding.deadlock = {
      kind: 'abandoned',
      steps: [finding.deadlock.steps[0]],
      holders: [
        {
          lock: 'accounts:B',
          hold: { flow: { id: 9, name: 'test "setup"' }, weight: 1, heldMs: 10 },
        },
      ],
    };
    expect(waitForCycle(finding)).toEqual([
      { from: 'task "transfer A→B"', to: 'test "setup"', label: 'accounts:B' },
    ]);
    expect(waitForCycle(sampleHang())).toBeUndefined();
  });
});
