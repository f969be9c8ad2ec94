/**
 * A stand-in EngineApi for the gateway tests: it records every call and answers with a default (or
 * what the test sets in `behave`). The gateway tests prove the protocol translation only; the engine
 * itself is tested end to end elsewhere.
 */
import type { ActivatedJob, EngineApi, EngineClockControl } from '../../../engine/src/api.js';

export interface RecordedCall {
  method: string;
  args: unknown[];
}

type Behaviour = { [K in keyof EngineApi]?: EngineApi[K] };

/** A key above 2^53: a JS number would round it, so it proves keys travel as strings. */
export const BIG_KEY = '9007199254740993123';

export function sampleJob(overrides: Partial<ActivatedJob> = {}): ActivatedJob {
  return {
    key: BIG_KEY,
    type: 'reportDropoutToTown',
    processInstanceKey: '2251799813685249',
    bpmnProcessId: 'dropout-report',
    processDefinitionVersion: 3,
    processDefinitionKey: '2251799813685100',
    elementId: 'Task_report',
    elementInstanceKey: '2251799813685260',
    customHeaders: { channel: 'town' },
    worker: 'test-worker',
    retries: 3,
    deadline: 1_700_000_060_000,
    variables: { childId: 'c-1', count: 2 },
    tenantId: '<default>',
    ...overrides,
  };
}

export class TestClock implements EngineClockControl {
  private offset = 0;
  private pinned: number | undefined;
  constructor(readonly controlled: boolean) {}
  now() {
    return this.pinned ?? Date.now() + this.offset;
  }
  pin(epochMilli: number) {
    this.pinned = epochMilli;
  }
  add(offsetMilli: number) {
    if (this.pinned !== undefined) this.pinned += offsetMilli;
    else this.offset += offsetMilli;
  }
  reset() {
    this.pinned = undefined;
    this.offset = 0;
  }
}

export function recordingEngine(opts: { clockControlled?: boolean } = {}) {
  const calls: RecordedCall[] = [];
  const behave: Behaviour = {};
  const clock = new TestClock(opts.clockControlled ?? true);

  function call<K extends keyof EngineApi>(method: K, fallback: (...args: never[]) => unknown) {
    return (...args: unknown[]) => {
      calls.push({ method, args });
      const override = behave[method] as ((...a: unknown[]) => unknown) | undefined;
      return (override ?? fallback)(...(args as never[]));
    };
  }
  const emptyPage = async () => ({ items: [], totalItems: 0 });

  const api = {
    deployResources: call('deployResources', async () => ({ key: '1', tenantId: '<default>', deployments: [] })),
    createProcessInstance: call('createProcessInstance', async () => ({
      processDefinitionKey: '2251799813685100',
      bpmnProcessId: 'dropout-report',
      version: 1,
      processInstanceKey: BIG_KEY,
      tenantId: '<default>',
    })),
    createProcessInstanceWithResult: call('createProcessInstanceWithResult', async () => ({
      processDefinitionKey: '2251799813685100',
      bpmnProcessId: 'dropout-report',
      version: 1,
      processInstanceKey: BIG_KEY,
      tenantId: '<default>',
      variables: { outcome: 'returned' },
    })),
    cancelProcessInstance: call('cancelProcessInstance', async () => {}),
    activateJobs: call('activateJobs', async () => []),
    streamJobs: call('streamJobs', () => () => {}),
    completeJob: call('completeJob', async () => {}),
    failJob: call('failJob', async () => {}),
    throwError: call('throwError', async () => {}),
    updateJobRetries: call('updateJobRetries', async () => {}),
    updateJobTimeout: call('updateJobTimeout', async () => {}),
    publishMessage: call('publishMessage', async () => ({ key: BIG_KEY, tenantId: '<default>' })),
    broadcastSignal: call('broadcastSignal', async () => ({ key: BIG_KEY, tenantId: '<default>' })),
    modifyProcessInstance: call('modifyProcessInstance', async () => {}),
    migrateProcessInstance: call('migrateProcessInstance', async () => {}),
    setVariables: call('setVariables', async () => ({ key: BIG_KEY })),
    resolveIncident: call('resolveIncident', async () => {}),
    evaluateDecision: call('evaluateDecision', async () => {
      throw new Error('evaluateDecision: set behave.evaluateDecision in the test');
    }),
    completeUserTask: call('completeUserTask', async () => {}),
    assignUserTask: call('assignUserTask', async () => {}),
    unassignUserTask: call('unassignUserTask', async () => {}),
    searchUserTasks: call('searchUserTasks', emptyPage),
    searchProcessInstances: call('searchProcessInstances', emptyPage),
    searchElementInstances: call('searchElementInstances', emptyPage),
    searchIncidents: call('searchIncidents', emptyPage),
    elementStatistics: call('elementStatistics', async () => []),
    health: call('health', async () => ({ ready: true })),
    metrics: call('metrics', async () => '# TYPE engine_up gauge\nengine_up 1\n'),
    clock,
  } as unknown as EngineApi;

  /** The arguments of every recorded call of `method`, oldest first. */
  const argsOf = (method: keyof EngineApi) => calls.filter((c) => c.method === method).map((c) => c.args);
  return { api, calls, behave, clock, argsOf };
}

/** A log sink that keeps what the gateway logged, so a test can assert the real error was logged. */
export function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string, msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { log, lines };
}
