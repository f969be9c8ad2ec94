/**
 * BPMN document (Zeebe's dialect) → executable ProcessModels, with deploy-time validation: anything this
 * engine would not execute as Zeebe does is a DeployProblem naming the element, never silently ignored.
 * Parsed with bpmn-moddle and the zeebe-bpmn-moddle schema (MIT). Element semantics follow
 * https://docs.camunda.io/docs/components/modeler/bpmn/bpmn-coverage/ and the element pages it links.
 */
import { createRequire } from 'node:module';
import { BpmnModdle, type ModdleElement } from 'bpmn-moddle';
import { isFeel, parseExpression } from '../feel.js';
import { checkStaticTimerValue } from '../timers.js';
import type {
  BpmnElementType,
  DeployProblem,
  Element,
  EventDefinition,
  Expression,
  ExecutionListeners,
  JobDefinition,
  ListenerDefinition,
  Mapping,
  ProcessModel,
  SequenceFlow,
} from './types.js';

/** Documents above this size are refused before parsing. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Zeebe's job type and header names for a user task without `zeebe:userTask` (a job-worker user task). */
export const JOB_WORKER_USER_TASK_TYPE = 'io.camunda.zeebe:userTask';
export const USER_TASK_HEADERS = {
  formKey: 'io.camunda.zeebe:formKey',
  assignee: 'io.camunda.zeebe:assignee',
  candidateGroups: 'io.camunda.zeebe:candidateGroups',
  candidateUsers: 'io.camunda.zeebe:candidateUsers',
  dueDate: 'io.camunda.zeebe:dueDate',
  followUpDate: 'io.camunda.zeebe:followUpDate',
} as const;

/** Zeebe's default job retries (zeebe:taskDefinition without `retries`). */
const DEFAULT_JOB_RETRIES = '3';
/** Zeebe creates job-worker user task jobs with one retry. */
const USER_TASK_JOB_RETRIES = '1';

// zeebe-bpmn-moddle publishes its schema as a JSON resource only (no JavaScript entry point).
const require = createRequire(import.meta.url);
const zeebeSchema = require('zeebe-bpmn-moddle/resources/zeebe.json') as Record<string, unknown>;

/**
 * Refusals before any parsing: size, and DTDs (entity expansion and external entities are the classic
 * XML attacks; BPMN never needs a DTD). Shared with dmn.ts.
 */
export function unsafeXmlProblem(xml: string): DeployProblem | undefined {
  const bytes = xml.length > MAX_DOCUMENT_BYTES ? xml.length : Buffer.byteLength(xml, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    const mb = (bytes / (1024 * 1024)).toFixed(1);
    return { elementId: '', message: `the document is ${mb} MB; documents over 4 MB are refused` };
  }
  if (/<!DOCTYPE/i.test(xml)) {
    return { elementId: '', message: 'the document contains a <!DOCTYPE> declaration; DTDs are refused' };
  }
  if (/<!ENTITY/i.test(xml)) {
    return { elementId: '', message: 'the document declares an <!ENTITY>; entity declarations are refused' };
  }
  return undefined;
}

/** moddle's messages span lines ("\n\tline: 0\n\tcolumn: 6…"); one line reads better in a problem list. */
export function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}

type Node = ModdleElement;

function prop<T = unknown>(el: Node | undefined, name: string): T | undefined {
  return el?.[name] as T | undefined;
}
function str(el: Node | undefined, name: string): string | undefined {
  const v = prop(el, name);
  return typeof v === 'string' ? v : undefined;
}
function list(el: Node | undefined, name: string): Node[] {
  const v = prop<Node[]>(el, name);
  return Array.isArray(v) ? v : [];
}
function isA(el: Node | undefined, type: string): boolean {
  const instance = el as unknown as { $instanceOf?: (t: string) => boolean } | undefined;
  return Boolean(instance?.$instanceOf?.(type));
}
function extension(el: Node | undefined, type: string): Node | undefined {
  return list(prop<Node>(el, 'extensionElements'), 'values').find((v) => v.$type === type);
}
/** `bpmn:InclusiveGateway` → `bpmn:inclusiveGateway`, as the XML element is written. */
function xmlName(el: Node): string {
  const [ns, local] = el.$type.split(':');
  return local === undefined ? el.$type : `${ns}:${local.charAt(0).toLowerCase()}${local.slice(1)}`;
}
/** A FormalExpression's text (conditions, timer values, completion conditions). */
function body(expr: Node | undefined): string | undefined {
  const b = str(expr, 'body');
  return b === undefined ? undefined : b.trim();
}

const ELEMENT_TYPES: Record<string, BpmnElementType> = {
  'bpmn:StartEvent': 'START_EVENT',
  'bpmn:EndEvent': 'END_EVENT',
  'bpmn:ServiceTask': 'SERVICE_TASK',
  'bpmn:UserTask': 'USER_TASK',
  'bpmn:BusinessRuleTask': 'BUSINESS_RULE_TASK',
  'bpmn:ScriptTask': 'SCRIPT_TASK',
  'bpmn:SendTask': 'SEND_TASK',
  'bpmn:ReceiveTask': 'RECEIVE_TASK',
  'bpmn:ManualTask': 'MANUAL_TASK',
  'bpmn:Task': 'TASK',
  'bpmn:CallActivity': 'CALL_ACTIVITY',
  'bpmn:SubProcess': 'SUB_PROCESS',
  'bpmn:ExclusiveGateway': 'EXCLUSIVE_GATEWAY',
  'bpmn:ParallelGateway': 'PARALLEL_GATEWAY',
  'bpmn:InclusiveGateway': 'INCLUSIVE_GATEWAY',
  'bpmn:EventBasedGateway': 'EVENT_BASED_GATEWAY',
  'bpmn:IntermediateCatchEvent': 'INTERMEDIATE_CATCH_EVENT',
  'bpmn:IntermediateThrowEvent': 'INTERMEDIATE_THROW_EVENT',
  'bpmn:BoundaryEvent': 'BOUNDARY_EVENT',
};

/** Flow nodes this engine refuses outright, with the reason a modeller reads. */
const UNSUPPORTED_NODES: Record<string, string> = {
  'bpmn:ComplexGateway': 'complex gateways are not supported by this engine',
  'bpmn:Transaction': 'transaction sub-processes are not supported by this engine',
  'bpmn:AdHocSubProcess': 'ad-hoc sub-processes are not supported by this engine',
  'bpmn:ImplicitThrowEvent': 'implicit throw events are not supported by this engine',
};

const UNSUPPORTED_EVENT_DEFINITIONS: Record<string, string> = {
  'bpmn:CompensateEventDefinition': 'compensation events are not supported by this engine',
  'bpmn:ConditionalEventDefinition': 'conditional events are not supported by this engine',
  'bpmn:LinkEventDefinition': 'link events are not supported by this engine',
  'bpmn:CancelEventDefinition': 'cancel events are not supported by this engine',
};

const ACTIVITY_TYPES = new Set<BpmnElementType>([
  'SERVICE_TASK',
  'USER_TASK',
  'BUSINESS_RULE_TASK',
  'SEND_TASK',
  'SCRIPT_TASK',
  'RECEIVE_TASK',
  'MANUAL_TASK',
  'TASK',
  'CALL_ACTIVITY',
  'SUB_PROCESS',
]);

interface PendingExpression {
  elementId: string;
  what: string;
  expr: Expression;
  /** Zeebe requires FEEL here ("=…"), not a static value. */
  feelOnly: boolean;
}

/** Translates one executable bpmn:process; collects problems instead of stopping at the first. */
class ProcessTranslator {
  readonly elements = new Map<string, Element>();
  readonly flows = new Map<string, SequenceFlow>();
  readonly problems: DeployProblem[] = [];
  private readonly sources = new Map<string, Node>();
  private readonly flowOrder: string[] = [];
  private readonly expressions: PendingExpression[] = [];

  constructor(private readonly process: Node) {}

  translate(): ProcessModel {
    const processId = this.process.id ?? '';
    const children = this.translateContainer(this.process, processId);
    this.linkFlows();
    this.linkBoundaryEvents();
    this.checkFlows();
    const model: ProcessModel = {
      bpmnProcessId: processId,
      elements: this.elements,
      flows: this.flows,
      messageStartEvents: [],
      timerStartEvents: [],
      signalStartEvents: [],
      children,
      eventSubProcesses: children.filter((c) => this.elements.get(c)?.type === 'EVENT_SUB_PROCESS'),
    };
    const name = str(this.process, 'name');
    if (name !== undefined) model.name = name;
    const versionTag = str(extension(this.process, 'zeebe:VersionTag'), 'value');
    if (versionTag !== undefined && versionTag.trim() !== '') model.versionTag = versionTag.trim();
    const listeners = this.executionListeners(this.process, 'PROCESS');
    if (listeners) model.listeners = listeners;
    this.collectStartEvents(model);
    this.checkExpressions();
    return model;
  }

  private problem(el: Node | string, message: string): void {
    if (typeof el === 'string') {
      this.problems.push({ elementId: el, message });
    } else {
      this.problems.push({ elementId: el.id ?? '', message: `element '${el.id ?? ''}' (${xmlName(el)}): ${message}` });
    }
  }

  private expression(elementId: string, what: string, expr: Expression, feelOnly = false): Expression {
    this.expressions.push({ elementId, what, expr, feelOnly });
    return expr;
  }

  /** The elements directly in a process or sub-process; returns their ids. */
  private translateContainer(container: Node, scopeId: string): string[] {
    const children: string[] = [];
    for (const fe of list(container, 'flowElements')) {
      if (isA(fe, 'bpmn:SequenceFlow')) {
        this.translateFlow(fe);
      } else if (isA(fe, 'bpmn:FlowNode')) {
        const element = this.translateNode(fe, scopeId);
        if (element) children.push(element.id);
      }
      // Data objects and data store references carry no behaviour: nothing to execute.
    }
    return children;
  }

  private translateFlow(fe: Node): void {
    const id = fe.id ?? '';
    const sourceId = prop<Node>(fe, 'sourceRef')?.id;
    const targetId = prop<Node>(fe, 'targetRef')?.id;
    if (sourceId === undefined || targetId === undefined) {
      this.problem(fe, 'a sequence flow needs a sourceRef and a targetRef');
      return;
    }
    const flow: SequenceFlow = { id, sourceId, targetId };
    const condition = body(prop<Node>(fe, 'conditionExpression'));
    if (condition !== undefined && condition !== '') {
      flow.condition = this.expression(id, 'condition', condition, true);
    }
    this.flows.set(id, flow);
    this.flowOrder.push(id);
  }

  private translateNode(node: Node, scopeId: string): Element | undefined {
    const unsupported = UNSUPPORTED_NODES[node.$type];
    if (unsupported) {
      this.problem(node, unsupported);
      return undefined;
    }
    const type = ELEMENT_TYPES[node.$type];
    if (type === undefined) {
      this.problem(node, `${xmlName(node)} elements are not supported by this engine`);
      return undefined;
    }
    const id = node.id ?? '';
    const element: Element = {
      id,
      type,
      flowScopeId: scopeId,
      incoming: [],
      outgoing: [],
      inputs: this.mappings(node, 'inputParameters'),
      outputs: this.mappings(node, 'outputParameters'),
      boundaryEvents: [],
      children: [],
      eventSubProcesses: [],
    };
    const name = str(node, 'name');
    if (name !== undefined) element.name = name;
    this.sources.set(id, node);
    this.elements.set(id, element);

    const listeners = this.executionListeners(node, type);
    if (listeners) element.listeners = listeners;
    if (extension(node, 'zeebe:TaskListeners')) this.translateTaskListeners(node, element);
    if (prop(node, 'isForCompensation') === true) {
      this.problem(node, 'compensation activities are not supported by this engine');
    }
    this.translateLoop(node, element);

    switch (type) {
      case 'START_EVENT':
      case 'END_EVENT':
      case 'INTERMEDIATE_CATCH_EVENT':
      case 'INTERMEDIATE_THROW_EVENT':
      case 'BOUNDARY_EVENT':
        this.translateEvent(node, element);
        break;
      case 'SCRIPT_TASK':
        this.translateScriptTask(node, element);
        break;
      case 'RECEIVE_TASK':
        this.translateReceiveTask(node, element);
        break;
      case 'SERVICE_TASK':
      case 'SEND_TASK':
        this.requireJob(node, element, type === 'SERVICE_TASK' ? 'a service task' : 'a send task');
        break;
      case 'USER_TASK':
        this.translateUserTask(node, element);
        break;
      case 'BUSINESS_RULE_TASK':
        this.translateBusinessRuleTask(node, element);
        break;
      case 'CALL_ACTIVITY':
        this.translateCallActivity(node, element);
        break;
      case 'SUB_PROCESS':
        this.translateSubProcess(node, element);
        break;
      case 'EXCLUSIVE_GATEWAY':
      case 'INCLUSIVE_GATEWAY': {
        const defaultFlow = prop<Node>(node, 'default')?.id;
        if (defaultFlow !== undefined) element.defaultFlow = defaultFlow;
        break;
      }
      default:
        // Parallel and event-based gateways, manual tasks and undefined tasks need nothing more here.
        break;
    }
    return element;
  }

  /** One listener's job: type (FEEL allowed), retries (default 3), headers. */
  private listener(node: Node, l: Node, what: string): ListenerDefinition | undefined {
    const id = node.id ?? '';
    const type = str(l, 'type');
    if (type === undefined || type.trim() === '') {
      this.problem(node, `a ${what} has no job type`);
      return undefined;
    }
    const retries = str(l, 'retries');
    const headers: Record<string, string> = {};
    for (const h of list(prop<Node>(l, 'headers'), 'values')) {
      const key = str(h, 'key');
      if (key !== undefined) headers[key] = str(h, 'value') ?? '';
    }
    return {
      type: this.expression(id, `${what} job type`, type),
      retries: this.expression(
        id,
        `${what} retries`,
        retries === undefined || retries === '' ? DEFAULT_JOB_RETRIES : retries,
      ),
      headers,
    };
  }

  /**
   * https://docs.camunda.io/docs/components/concepts/execution-listeners/ — start and end listeners, in
   * document order; refused where Zeebe does not run them (start: start and boundary events; end:
   * gateways and error end events) and for a duplicate event type + job type.
   */
  private executionListeners(node: Node, type: BpmnElementType): ExecutionListeners | undefined {
    const ext = extension(node, 'zeebe:ExecutionListeners');
    if (!ext) return undefined;
    const out: ExecutionListeners = { start: [], end: [] };
    const seen = new Set<string>();
    for (const l of list(ext, 'listeners')) {
      const eventType = str(l, 'eventType') ?? '';
      if (eventType !== 'start' && eventType !== 'end') {
        this.problem(node, `execution listener event type '${eventType}' is not supported (start or end)`);
        continue;
      }
      const key = `${eventType}\u001f${str(l, 'type') ?? ''}`;
      if (seen.has(key)) {
        this.problem(node, `two ${eventType} execution listeners have the job type '${str(l, 'type') ?? ''}'`);
        continue;
      }
      seen.add(key);
      if (eventType === 'start' && (type === 'START_EVENT' || type === 'BOUNDARY_EVENT')) {
        this.problem(node, 'start execution listeners are not supported on start and boundary events');
        continue;
      }
      const isGateway = type.endsWith('_GATEWAY');
      const isErrorEnd =
        type === 'END_EVENT' && list(node, 'eventDefinitions').some((d) => isA(d, 'bpmn:ErrorEventDefinition'));
      if (eventType === 'end' && (isGateway || isErrorEnd)) {
        this.problem(node, 'end execution listeners are not supported on gateways and error end events');
        continue;
      }
      const def = this.listener(node, l, `${eventType} execution listener`);
      if (def) out[eventType].push(def);
    }
    return out.start.length + out.end.length > 0 ? out : undefined;
  }

  /** https://docs.camunda.io/docs/components/concepts/user-task-listeners/ — assigning and completing. */
  private translateTaskListeners(node: Node, element: Element): void {
    if (element.type !== 'USER_TASK' || !extension(node, 'zeebe:UserTask')) {
      this.problem(node, 'task listeners are supported only on Camunda user tasks (zeebe:userTask)');
      return;
    }
    const out = { assigning: [] as ListenerDefinition[], completing: [] as ListenerDefinition[] };
    const names: Record<string, 'assigning' | 'completing'> = {
      assigning: 'assigning',
      assignment: 'assigning',
      completing: 'completing',
      complete: 'completing',
    };
    for (const l of list(extension(node, 'zeebe:TaskListeners'), 'listeners')) {
      const eventType = str(l, 'eventType') ?? '';
      const event = names[eventType];
      if (!event) {
        this.problem(
          node,
          `task listener event type '${eventType}' is not supported by this engine (assigning or completing)`,
        );
        continue;
      }
      const def = this.listener(node, l, `${event} task listener`);
      if (def) out[event].push(def);
    }
    element.taskListeners = out;
  }

  private mappings(node: Node, kind: 'inputParameters' | 'outputParameters'): Mapping[] {
    const io = extension(node, 'zeebe:IoMapping');
    return list(io, kind).map((p) => {
      const source = str(p, 'source');
      const target = str(p, 'target');
      const what = kind === 'inputParameters' ? 'input mapping' : 'output mapping';
      if (target === undefined || target.trim() === '') this.problem(node, `an ${what} has no target`);
      // Zeebe: a mapping without source assigns null.
      const src = source === undefined || source.trim() === '' ? '=null' : source;
      return { source: this.expression(node.id ?? '', `${what} source`, src), target: target ?? '' };
    });
  }

  /** zeebe:taskDefinition (+ zeebe:taskHeaders) → job; undefined when the element has none. */
  private job(node: Node): JobDefinition | undefined {
    const def = extension(node, 'zeebe:TaskDefinition');
    if (!def) return undefined;
    const type = str(def, 'type');
    if (type === undefined || type.trim() === '') {
      this.problem(node, 'zeebe:taskDefinition has no job type');
      return undefined;
    }
    const retries = str(def, 'retries');
    return {
      type: this.expression(node.id ?? '', 'job type', type),
      retries: this.expression(
        node.id ?? '',
        'job retries',
        retries === undefined || retries === '' ? DEFAULT_JOB_RETRIES : retries,
      ),
      headers: this.headers(node),
    };
  }

  private headers(node: Node): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const h of list(extension(node, 'zeebe:TaskHeaders'), 'values')) {
      const key = str(h, 'key');
      if (key !== undefined) headers[key] = str(h, 'value') ?? '';
    }
    return headers;
  }

  private requireJob(node: Node, element: Element, what: string): void {
    const job = this.job(node);
    if (job) {
      element.job = job;
    } else if (!extension(node, 'zeebe:TaskDefinition')) {
      this.problem(node, `${what} needs a job type (zeebe:taskDefinition type="…")`);
    }
  }

  /**
   * Camunda user tasks (zeebe:userTask) and job-worker user tasks (none): the latter get a job of
   * type io.camunda.zeebe:userTask whose headers carry the form key; the executor adds the evaluated
   * assignment and schedule headers (USER_TASK_HEADERS) from `userTask` when it creates the job.
   * https://docs.camunda.io/docs/components/modeler/bpmn/user-tasks/#job-worker-implementation
   */
  private translateUserTask(node: Node, element: Element): void {
    const id = node.id ?? '';
    const assignment = extension(node, 'zeebe:AssignmentDefinition');
    const schedule = extension(node, 'zeebe:TaskSchedule');
    const form = extension(node, 'zeebe:FormDefinition');
    const userTask: NonNullable<Element['userTask']> = {};
    for (const key of ['assignee', 'candidateGroups', 'candidateUsers'] as const) {
      const v = str(assignment, key);
      if (v !== undefined && v.trim() !== '') userTask[key] = this.expression(id, key, v);
    }
    for (const key of ['dueDate', 'followUpDate'] as const) {
      const v = str(schedule, key);
      if (v !== undefined && v.trim() !== '') userTask[key] = this.expression(id, key, v);
    }
    const formKey = str(form, 'formKey') ?? str(form, 'externalReference');
    if (formKey !== undefined && formKey !== '') userTask.formKey = formKey;
    const formId = str(form, 'formId');
    if (formId !== undefined && formId !== '') userTask.formId = formId;
    const binding = str(form, 'bindingType');
    if (binding !== undefined && binding !== 'latest') {
      this.problem(node, `form binding type '${binding}' is not supported by this engine (only 'latest')`);
    }
    element.userTask = userTask;

    if (!extension(node, 'zeebe:UserTask')) {
      const headers = this.headers(node);
      if (userTask.formKey !== undefined) headers[USER_TASK_HEADERS.formKey] = userTask.formKey;
      element.job = { type: JOB_WORKER_USER_TASK_TYPE, retries: USER_TASK_JOB_RETRIES, headers };
    }
  }

  private translateBusinessRuleTask(node: Node, element: Element): void {
    const called = extension(node, 'zeebe:CalledDecision');
    const hasJob = Boolean(extension(node, 'zeebe:TaskDefinition'));
    if (called && hasJob) {
      this.problem(node, 'a business rule task has either zeebe:calledDecision or zeebe:taskDefinition, not both');
      return;
    }
    if (hasJob) {
      const job = this.job(node);
      if (job) element.job = job;
      return;
    }
    if (!called) {
      this.problem(node, 'a business rule task needs zeebe:calledDecision or zeebe:taskDefinition');
      return;
    }
    const decisionId = str(called, 'decisionId');
    const resultVariable = str(called, 'resultVariable');
    if (decisionId === undefined || decisionId.trim() === '') {
      this.problem(node, 'zeebe:calledDecision has no decisionId');
    }
    if (resultVariable === undefined || resultVariable.trim() === '') {
      this.problem(node, 'zeebe:calledDecision has no resultVariable');
    }
    this.refuseBinding(node, called, 'zeebe:calledDecision');
    element.decision = {
      decisionId: this.expression(node.id ?? '', 'decisionId', decisionId ?? ''),
      resultVariable: resultVariable ?? '',
    };
  }

  private refuseBinding(node: Node, ext: Node, what: string): void {
    const binding = str(ext, 'bindingType');
    if (binding !== undefined && binding !== 'latest') {
      this.problem(node, `${what} binding type '${binding}' is not supported by this engine (only 'latest')`);
    }
  }

  /** https://docs.camunda.io/docs/components/modeler/bpmn/call-activities/#variable-mappings */
  private translateCallActivity(node: Node, element: Element): void {
    const called = extension(node, 'zeebe:CalledElement');
    const processId = str(called, 'processId');
    if (!called || processId === undefined || processId.trim() === '') {
      this.problem(node, 'a call activity needs zeebe:calledElement processId="…"');
      return;
    }
    const binding = str(called, 'bindingType') ?? 'latest';
    if (binding !== 'latest' && binding !== 'deployment' && binding !== 'versionTag') {
      this.problem(
        node,
        `zeebe:calledElement binding type '${binding}' is not supported (latest, deployment or versionTag)`,
      );
      return;
    }
    const versionTag = str(called, 'versionTag');
    if (binding === 'versionTag' && (versionTag === undefined || versionTag.trim() === '')) {
      this.problem(node, "zeebe:calledElement with binding type 'versionTag' needs a versionTag");
      return;
    }
    if (binding === 'deployment' && isFeel(processId)) {
      this.problem(node, "zeebe:calledElement with binding type 'deployment' needs a static process id");
    }
    element.calledElement = {
      processId: this.expression(node.id ?? '', 'called process id', processId),
      propagateAllChildVariables: prop(called, 'propagateAllChildVariables') !== false,
      propagateAllParentVariables: prop(called, 'propagateAllParentVariables') !== false,
      bindingType: binding,
    };
    if (binding === 'versionTag') element.calledElement.versionTag = versionTag!.trim();
  }

  private translateSubProcess(node: Node, element: Element): void {
    if (prop(node, 'triggeredByEvent') === true) return this.translateEventSubProcess(node, element);
    element.children = this.translateContainer(node, element.id);
    element.eventSubProcesses = element.children.filter((c) => this.elements.get(c)?.type === 'EVENT_SUB_PROCESS');
    const starts = element.children.map((id) => this.elements.get(id)!).filter((e) => e.type === 'START_EVENT');
    if (starts.length !== 1 || starts[0]!.event?.type !== 'none') {
      this.problem(node, `a sub-process needs exactly one none start event (it has ${starts.length} start events)`);
      return;
    }
    element.startEventId = starts[0]!.id;
  }

  /**
   * https://docs.camunda.io/docs/components/modeler/bpmn/event-subprocesses/ — one start event with a
   * timer, message, signal, error or escalation definition; no flows in or out; not multi-instance.
   */
  private translateEventSubProcess(node: Node, element: Element): void {
    element.type = 'EVENT_SUB_PROCESS';
    element.children = this.translateContainer(node, element.id);
    element.eventSubProcesses = element.children.filter((c) => this.elements.get(c)?.type === 'EVENT_SUB_PROCESS');
    const starts = element.children.map((id) => this.elements.get(id)!).filter((e) => e.type === 'START_EVENT');
    if (starts.length !== 1) {
      this.problem(node, `an event sub-process needs exactly one start event (it has ${starts.length})`);
      return;
    }
    const start = starts[0]!;
    if (start.event !== undefined && start.event.type === 'none') {
      this.problem(node, 'the start event of an event sub-process needs an event definition');
      return;
    }
    element.startEventId = start.id;
    element.interruptingStart = start.interrupting !== false;
    if (prop(node, 'loopCharacteristics')) this.problem(node, 'an event sub-process cannot be multi-instance');
  }

  /** https://docs.camunda.io/docs/components/modeler/bpmn/script-tasks/ — zeebe:script (FEEL) or a job. */
  private translateScriptTask(node: Node, element: Element): void {
    const script = extension(node, 'zeebe:Script');
    const hasJob = Boolean(extension(node, 'zeebe:TaskDefinition'));
    if (script && hasJob) {
      this.problem(node, 'a script task has either zeebe:script or zeebe:taskDefinition, not both');
      return;
    }
    if (hasJob) return this.requireJob(node, element, 'a script task');
    const expression = str(script, 'expression');
    const resultVariable = str(script, 'resultVariable');
    if (!script || expression === undefined || expression.trim() === '') {
      this.problem(node, 'a script task needs zeebe:script expression="=…" (or zeebe:taskDefinition)');
      return;
    }
    if (resultVariable === undefined || resultVariable.trim() === '') {
      this.problem(node, 'zeebe:script has no resultVariable');
      return;
    }
    element.script = {
      expression: this.expression(element.id, 'script expression', expression.trim(), true),
      resultVariable: resultVariable.trim(),
    };
  }

  /** https://docs.camunda.io/docs/components/modeler/bpmn/receive-tasks/ — a message subscription like a catch event. */
  private translateReceiveTask(node: Node, element: Element): void {
    const message = prop<Node>(node, 'messageRef');
    const name = str(message, 'name') ?? '';
    const correlationKey = str(extension(message, 'zeebe:Subscription'), 'correlationKey');
    const event: Extract<EventDefinition, { type: 'message' }> = {
      type: 'message',
      messageName: name === '' ? '' : this.expression(element.id, 'message name', name),
    };
    if (correlationKey !== undefined && correlationKey.trim() !== '') {
      event.correlationKey = this.expression(element.id, 'correlation key', correlationKey);
    }
    element.event = event;
    this.requireSubscription(node, event);
  }

  /** https://docs.camunda.io/docs/components/modeler/bpmn/multi-instance/ */
  private translateLoop(node: Node, element: Element): void {
    const loop = prop<Node>(node, 'loopCharacteristics');
    if (!loop) return;
    if (!isA(loop, 'bpmn:MultiInstanceLoopCharacteristics')) {
      this.problem(node, 'loop characteristics other than multi-instance are not supported by this engine');
      return;
    }
    const id = element.id;
    const zeebe = extension(loop, 'zeebe:LoopCharacteristics');
    const inputCollection = str(zeebe, 'inputCollection');
    if (inputCollection === undefined || inputCollection.trim() === '') {
      this.problem(node, 'a multi-instance activity needs zeebe:loopCharacteristics inputCollection="=…"');
      return;
    }
    const multiInstance: NonNullable<Element['multiInstance']> = {
      sequential: prop(loop, 'isSequential') === true,
      inputCollection: this.expression(id, 'input collection', inputCollection, true),
    };
    const inputElement = str(zeebe, 'inputElement');
    if (inputElement !== undefined && inputElement !== '') multiInstance.inputElement = inputElement;
    const outputCollection = str(zeebe, 'outputCollection');
    const outputElement = str(zeebe, 'outputElement');
    if ((outputCollection ?? '') !== '' && (outputElement ?? '') === '') {
      this.problem(node, 'zeebe:loopCharacteristics has an outputCollection but no outputElement');
    }
    if (outputCollection !== undefined && outputCollection !== '') multiInstance.outputCollection = outputCollection;
    if (outputElement !== undefined && outputElement !== '') {
      multiInstance.outputElement = this.expression(id, 'output element', outputElement, true);
    }
    const completion = body(prop<Node>(loop, 'completionCondition'));
    if (completion !== undefined && completion !== '') {
      multiInstance.completionCondition = this.expression(id, 'completion condition', completion, true);
    }
    if (prop(loop, 'loopCardinality')) {
      this.problem(node, 'loop cardinality is not supported (Zeebe uses zeebe:loopCharacteristics inputCollection)');
    }
    element.multiInstance = multiInstance;
  }

  /** The one event definition of an event (none when it has none); undefined after a problem. */
  private eventDefinition(node: Node): EventDefinition | undefined {
    const defs = list(node, 'eventDefinitions');
    if (list(node, 'eventDefinitionRef').length > 0) {
      this.problem(node, 'references to global event definitions are not supported by this engine');
      return undefined;
    }
    if (defs.length === 0) return { type: 'none' };
    if (defs.length > 1) {
      this.problem(node, 'events with several event definitions are not supported by this engine');
      return undefined;
    }
    const def = defs[0]!;
    const id = node.id ?? '';
    const unsupported = UNSUPPORTED_EVENT_DEFINITIONS[def.$type];
    if (unsupported) {
      this.problem(node, unsupported);
      return undefined;
    }
    if (isA(def, 'bpmn:TimerEventDefinition')) {
      const timer: Extract<EventDefinition, { type: 'timer' }> = { type: 'timer' };
      for (const key of ['timeDate', 'timeDuration', 'timeCycle'] as const) {
        const value = body(prop<Node>(def, key));
        if (value === undefined || value === '') continue;
        timer[key] = this.expression(id, `timer ${key}`, value);
        const wrong = isFeel(value) ? undefined : checkStaticTimerValue(key, value);
        if (wrong) this.problem(node, `the timer's ${key}: ${wrong}`);
      }
      const set = [timer.timeDate, timer.timeDuration, timer.timeCycle].filter((v) => v !== undefined).length;
      if (set !== 1) {
        this.problem(
          node,
          set === 0
            ? 'a timer needs a time date, a time duration or a time cycle'
            : 'a timer has exactly one of time date, time duration and time cycle',
        );
        return undefined;
      }
      return timer;
    }
    if (isA(def, 'bpmn:MessageEventDefinition')) {
      const message = prop<Node>(def, 'messageRef');
      const name = str(message, 'name') ?? '';
      const correlationKey = str(extension(message, 'zeebe:Subscription'), 'correlationKey');
      const result: Extract<EventDefinition, { type: 'message' }> = {
        type: 'message',
        messageName: name === '' ? '' : this.expression(id, 'message name', name),
      };
      if (correlationKey !== undefined && correlationKey.trim() !== '') {
        result.correlationKey = this.expression(id, 'correlation key', correlationKey);
      }
      return result;
    }
    if (isA(def, 'bpmn:TerminateEventDefinition')) return { type: 'terminate' };
    if (isA(def, 'bpmn:SignalEventDefinition')) {
      const name = str(prop<Node>(def, 'signalRef'), 'name') ?? '';
      return { type: 'signal', signalName: name.trim() === '' ? '' : this.expression(id, 'signal name', name) };
    }
    if (isA(def, 'bpmn:EscalationEventDefinition')) {
      const code = str(prop<Node>(def, 'escalationRef'), 'escalationCode');
      return code === undefined || code.trim() === ''
        ? { type: 'escalation' }
        : { type: 'escalation', escalationCode: this.expression(id, 'escalation code', code) };
    }
    if (isA(def, 'bpmn:ErrorEventDefinition')) {
      const errorCode = str(prop<Node>(def, 'errorRef'), 'errorCode');
      return errorCode === undefined || errorCode.trim() === ''
        ? { type: 'error' }
        : { type: 'error', errorCode: this.expression(id, 'error code', errorCode) };
    }
    this.problem(node, `${def.$type} is not supported by this engine`);
    return undefined;
  }

  private translateEvent(node: Node, element: Element): void {
    const event = this.eventDefinition(node);
    if (!event) return;
    element.event = event;
    const topLevel = element.flowScopeId === this.process.id;
    const job = extension(node, 'zeebe:TaskDefinition') ? this.job(node) : undefined;

    switch (element.type) {
      case 'START_EVENT':
        if (this.elements.get(element.flowScopeId)?.type === 'EVENT_SUB_PROCESS') {
          return this.translateEventSubProcessStart(node, element, event);
        }
        if (event.type === 'none') return;
        if (!topLevel) {
          this.problem(node, 'a sub-process start event must be a none start event');
        } else if (event.type === 'timer') {
          // https://docs.camunda.io/docs/components/modeler/bpmn/timer-events/#timer-start-events
          if (event.timeDuration !== undefined) {
            this.problem(node, 'a timer start event needs a time date or a time cycle, not a duration');
          }
        } else if (event.type === 'message') {
          if (event.messageName === '') this.problem(node, 'a message start event needs a message with a name');
        } else if (event.type === 'signal') {
          // https://docs.camunda.io/docs/components/modeler/bpmn/signal-events/#signal-start-events
          if (event.signalName === '') this.problem(node, 'a signal start event needs a signal with a name');
          else if (isFeel(event.signalName)) {
            this.problem(node, 'a signal start event needs a static signal name (no expression)');
          }
        } else {
          this.problem(node, `${event.type} start events are not supported by this engine`);
        }
        return;
      case 'END_EVENT':
        if (event.type === 'none') return;
        if (event.type === 'error') {
          // https://docs.camunda.io/docs/components/modeler/bpmn/error-events/#error-end-events
          if (event.errorCode === undefined) this.problem(node, 'an error end event needs an error with an errorCode');
          return;
        }
        if (event.type === 'message') {
          if (job) element.job = job;
          else this.problem(node, 'a message end event needs a job type (zeebe:taskDefinition) to be worked by');
          return;
        }
        // https://docs.camunda.io/docs/components/modeler/bpmn/terminate-events/
        if (event.type === 'terminate') return;
        if (event.type === 'signal' || event.type === 'escalation') return this.requireThrown(node, event);
        this.problem(node, `${event.type} end events are not supported by this engine`);
        return;
      case 'INTERMEDIATE_THROW_EVENT':
        if (event.type === 'none') return;
        if (event.type === 'message') {
          if (job) element.job = job;
          else this.problem(node, 'a message throw event needs a job type (zeebe:taskDefinition) to be worked by');
          return;
        }
        if (event.type === 'signal' || event.type === 'escalation') return this.requireThrown(node, event);
        this.problem(node, `${event.type} throw events are not supported by this engine`);
        return;
      case 'INTERMEDIATE_CATCH_EVENT':
        if (event.type === 'timer') {
          if (event.timeCycle !== undefined) {
            this.problem(node, 'an intermediate timer catch event needs a time duration or a time date, not a cycle');
          }
        } else if (event.type === 'message') {
          this.requireSubscription(node, event);
        } else if (event.type === 'signal') {
          if (event.signalName === '') this.problem(node, 'a signal catch event needs a signal with a name');
        } else {
          this.problem(node, `${event.type} intermediate catch events are not supported by this engine`);
        }
        return;
      case 'BOUNDARY_EVENT':
        this.translateBoundary(node, element, event);
        return;
      default:
        return;
    }
  }

  /** Signal and escalation throw/end events: a signal name, an escalation code (bpmn/signal-events, bpmn/escalation-events). */
  private requireThrown(node: Node, event: EventDefinition): void {
    if (event.type === 'signal' && event.signalName === '') {
      this.problem(node, 'a signal throw event needs a signal with a name');
    }
    if (event.type === 'escalation' && event.escalationCode === undefined) {
      this.problem(node, 'an escalation throw event needs an escalation with an escalationCode');
    }
  }

  /** https://docs.camunda.io/docs/components/modeler/bpmn/event-subprocesses/ — the start event's kinds. */
  private translateEventSubProcessStart(node: Node, element: Element, event: EventDefinition): void {
    const interrupting = prop(node, 'isInterrupting') !== false;
    element.interrupting = interrupting;
    switch (event.type) {
      case 'timer':
        if (interrupting && event.timeCycle !== undefined) {
          this.problem(node, 'an interrupting timer start event of an event sub-process needs a date or a duration');
        }
        return;
      case 'message':
        return this.requireSubscription(node, event);
      case 'signal':
        if (event.signalName === '') this.problem(node, 'a signal start event needs a signal with a name');
        return;
      case 'error':
        if (!interrupting) this.problem(node, 'an error start event of an event sub-process is always interrupting');
        return;
      case 'escalation':
        return;
      default:
        this.problem(node, `${event.type} start events are not supported in an event sub-process`);
    }
  }

  /** A message catch needs a message name and a correlation key (messages/#message-correlation). */
  private requireSubscription(node: Node, event: Extract<EventDefinition, { type: 'message' }>): void {
    if (event.messageName === '') this.problem(node, 'a message catch event needs a message with a name');
    if (event.correlationKey === undefined) {
      this.problem(node, 'a message catch event needs a correlation key (zeebe:subscription correlationKey)');
    }
  }

  /** https://docs.camunda.io/docs/components/modeler/bpmn/timer-events/#timer-boundary-events etc. */
  private translateBoundary(node: Node, element: Element, event: EventDefinition): void {
    const attachedTo = prop<Node>(node, 'attachedToRef')?.id;
    if (attachedTo === undefined) {
      this.problem(node, 'a boundary event needs attachedToRef');
    } else {
      element.attachedTo = attachedTo;
    }
    const interrupting = prop(node, 'cancelActivity') !== false;
    element.interrupting = interrupting;
    switch (event.type) {
      case 'timer':
        if (interrupting && event.timeCycle !== undefined) {
          this.problem(node, 'an interrupting timer boundary event needs a time duration or a time date, not a cycle');
        }
        return;
      case 'error':
        if (!interrupting) this.problem(node, 'non-interrupting error boundary events are not supported');
        return;
      case 'message':
        this.requireSubscription(node, event);
        return;
      case 'signal':
        if (event.signalName === '') this.problem(node, 'a signal boundary event needs a signal with a name');
        return;
      case 'escalation':
        return; // the host must be a sub-process or call activity: linkBoundaryEvents checks
      default:
        this.problem(node, `${event.type} boundary events are not supported by this engine`);
    }
  }

  /** incoming/outgoing: the element's own <incoming>/<outgoing> order, then any flow it did not list. */
  private linkFlows(): void {
    for (const [id, element] of this.elements) {
      const node = this.sources.get(id)!;
      const listed = (key: string) => list(node, key).flatMap((f) => (f.id !== undefined ? [f.id] : []));
      const add = (into: string[], flowId: string) => {
        if (this.flows.has(flowId) && !into.includes(flowId)) into.push(flowId);
      };
      for (const f of listed('incoming')) if (this.flows.get(f)?.targetId === id) add(element.incoming, f);
      for (const f of listed('outgoing')) if (this.flows.get(f)?.sourceId === id) add(element.outgoing, f);
      for (const flowId of this.flowOrder) {
        const flow = this.flows.get(flowId)!;
        if (flow.targetId === id) add(element.incoming, flowId);
        if (flow.sourceId === id) add(element.outgoing, flowId);
      }
    }
  }

  private linkBoundaryEvents(): void {
    for (const element of this.elements.values()) {
      if (element.type !== 'BOUNDARY_EVENT' || element.attachedTo === undefined) continue;
      const host = this.elements.get(element.attachedTo);
      const node = this.sources.get(element.id)!;
      if (!host) {
        this.problem(node, `it is attached to '${element.attachedTo}', which is not an element of this process`);
      } else if (!ACTIVITY_TYPES.has(host.type)) {
        this.problem(node, `it is attached to '${host.id}', which is not an activity`);
      } else if (host.flowScopeId !== element.flowScopeId) {
        this.problem(node, `it is attached to '${host.id}', which is in another scope`);
      } else if (element.event?.type === 'escalation' && host.type !== 'SUB_PROCESS' && host.type !== 'CALL_ACTIVITY') {
        this.problem(
          node,
          `an escalation boundary event sits on a sub-process or a call activity, not on '${host.id}'`,
        );
      } else {
        host.boundaryEvents.push(element.id);
      }
    }
  }

  private checkFlows(): void {
    for (const flowId of this.flowOrder) {
      const flow = this.flows.get(flowId)!;
      const source = this.elements.get(flow.sourceId);
      const target = this.elements.get(flow.targetId);
      const where = `sequence flow '${flowId}'`;
      if (!source || !target) continue; // the unsupported end was reported already
      if (source.flowScopeId !== target.flowScopeId) {
        this.problem(flowId, `${where} connects '${source.id}' and '${target.id}', which are in different scopes`);
      }
      if (target.type === 'START_EVENT' || target.type === 'BOUNDARY_EVENT') {
        this.problem(flowId, `${where} leads into '${target.id}'; start and boundary events have no incoming flows`);
      }
      if (source.type === 'END_EVENT') {
        this.problem(flowId, `${where} leaves end event '${source.id}'; end events have no outgoing flows`);
      }
      if (source.type === 'EVENT_SUB_PROCESS' || target.type === 'EVENT_SUB_PROCESS') {
        this.problem(flowId, `${where} connects an event sub-process; event sub-processes have no sequence flows`);
      }
      if (source.type === 'EVENT_BASED_GATEWAY') {
        const ok =
          target.type === 'INTERMEDIATE_CATCH_EVENT' &&
          (target.event?.type === 'timer' || target.event?.type === 'message' || target.event?.type === 'signal');
        if (!ok) {
          this.problem(
            flowId,
            `${where} leaves event-based gateway '${source.id}' for '${target.id}'; it must lead to a timer, message or signal intermediate catch event`,
          );
        }
      }
      if (flow.condition !== undefined) {
        // Conditions are evaluated on exclusive and inclusive gateways (parallel gateways take every flow).
        if (
          source.type !== 'EXCLUSIVE_GATEWAY' &&
          source.type !== 'INCLUSIVE_GATEWAY' &&
          source.type !== 'PARALLEL_GATEWAY'
        ) {
          this.problem(
            flowId,
            `${where} has a condition but leaves '${source.id}' (${source.type}); conditional flows are supported only out of gateways`,
          );
        } else if (source.defaultFlow === flowId) {
          this.problem(flowId, `${where} is the default flow of '${source.id}' and must not have a condition`);
        }
      }
    }
    for (const element of this.elements.values()) {
      if (element.type === 'EVENT_BASED_GATEWAY' && element.outgoing.length < 2) {
        this.problem(this.sources.get(element.id)!, 'an event-based gateway needs at least two outgoing flows');
      }
      if (element.type !== 'EXCLUSIVE_GATEWAY' && element.type !== 'INCLUSIVE_GATEWAY') continue;
      const node = this.sources.get(element.id)!;
      if (element.defaultFlow !== undefined && !element.outgoing.includes(element.defaultFlow)) {
        this.problem(node, `its default flow '${element.defaultFlow}' is not one of its outgoing flows`);
      }
      if (element.outgoing.length > 1) {
        for (const flowId of element.outgoing) {
          if (flowId !== element.defaultFlow && this.flows.get(flowId)!.condition === undefined) {
            this.problem(node, `outgoing flow '${flowId}' has no condition and is not the default flow`);
          }
        }
      }
    }
    for (const [id, node] of this.sources) {
      const type = this.elements.get(id)!.type;
      if (prop<Node>(node, 'default') && type !== 'EXCLUSIVE_GATEWAY' && type !== 'INCLUSIVE_GATEWAY') {
        this.problem(node, 'default flows are supported only on exclusive and inclusive gateways');
      }
    }
  }

  private collectStartEvents(model: ProcessModel): void {
    const starts = model.children.map((id) => this.elements.get(id)!).filter((e) => e.type === 'START_EVENT');
    const none = starts.filter((e) => e.event?.type === 'none');
    if (none.length > 1) {
      this.problem(
        model.bpmnProcessId,
        `process '${model.bpmnProcessId}' has ${none.length} none start events; at most one is allowed`,
      );
    }
    if (none[0]) model.noneStartEventId = none[0].id;
    const messageNames = new Set<string>();
    for (const e of starts) {
      if (e.event?.type === 'message' && e.event.messageName !== '') {
        if (messageNames.has(e.event.messageName)) {
          this.problem(
            e.id,
            `process '${model.bpmnProcessId}' has two message start events for message '${e.event.messageName}'`,
          );
        }
        messageNames.add(e.event.messageName);
        model.messageStartEvents.push({ elementId: e.id, messageName: e.event.messageName });
      } else if (e.event?.type === 'timer' && e.event.timeDuration === undefined) {
        model.timerStartEvents.push({ elementId: e.id, timer: e.event });
      } else if (e.event?.type === 'signal' && e.event.signalName !== '') {
        model.signalStartEvents.push({ elementId: e.id, signalName: e.event.signalName });
      }
    }
    if (
      model.noneStartEventId === undefined &&
      model.messageStartEvents.length === 0 &&
      model.timerStartEvents.length === 0 &&
      model.signalStartEvents.length === 0
    ) {
      this.problem(
        model.bpmnProcessId,
        `process '${model.bpmnProcessId}' has no start event this engine can start (a none, message, timer or signal start event)`,
      );
    }
  }

  private checkExpressions(): void {
    for (const { elementId, what, expr, feelOnly } of this.expressions) {
      const where = `element '${elementId}'`;
      if (feelOnly && !isFeel(expr)) {
        this.problem(elementId, `${where}: the ${what} '${expr}' must be a FEEL expression (start it with '=')`);
        continue;
      }
      const check = parseExpression(expr);
      if (!check.ok) this.problem(elementId, `${where}: the ${what} ${check.message}`);
    }
  }
}

/**
 * Parses a BPMN document into the executable models of its executable processes. `problems` empty =
 * deployable; otherwise each names the element and what is wrong or unsupported.
 */
export async function parseBpmn(xml: string): Promise<{ processes: ProcessModel[]; problems: DeployProblem[] }> {
  const unsafe = unsafeXmlProblem(xml);
  if (unsafe) return { processes: [], problems: [unsafe] };

  let parsed: Awaited<ReturnType<BpmnModdle['fromXML']>>;
  try {
    parsed = await new BpmnModdle({ zeebe: zeebeSchema }).fromXML(xml, 'bpmn:Definitions');
  } catch (err) {
    const detail = oneLine(err instanceof Error ? err.message : String(err));
    return {
      processes: [],
      problems: [{ elementId: '', message: `the document is not a readable BPMN file: ${detail}` }],
    };
  }

  // moddle drops what it cannot place (a duplicate id, a misspelt zeebe:* element) with a warning only.
  const problems: DeployProblem[] = parsed.warnings.map((w) => {
    const message = oneLine(w.message);
    const duplicate = /duplicate ID <([^>]+)>/.exec(message)?.[1];
    return { elementId: duplicate ?? w.element?.id ?? '', message: `the document is not valid BPMN: ${message}` };
  });

  const processNodes = list(parsed.rootElement, 'rootElements').filter((r) => isA(r, 'bpmn:Process'));
  const executable = processNodes.filter((p) => prop(p, 'isExecutable') === true);
  if (executable.length === 0) {
    problems.push({
      elementId: '',
      message:
        processNodes.length === 0
          ? 'the document has no bpmn:process'
          : 'the document has no executable process (isExecutable="true")',
    });
    return { processes: [], problems };
  }

  const processes: ProcessModel[] = [];
  for (const node of executable) {
    const translator = new ProcessTranslator(node);
    processes.push(translator.translate());
    problems.push(...translator.problems);
  }
  return { processes, problems };
}
