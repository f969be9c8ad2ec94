/**
 * The executable model of a deployed process: what the parser (parse.ts) makes of a BPMN document in
 * Zeebe's dialect and what the executor walks. Expressions are kept as written in the diagram: a
 * value starting with "=" is FEEL (evaluated by feel.ts), anything else a static string.
 */

/** Zeebe's names for element types, as its records spell them (`bpmnElementType`). */
export type BpmnElementType =
  | 'PROCESS'
  | 'START_EVENT'
  | 'END_EVENT'
  | 'SERVICE_TASK'
  | 'USER_TASK'
  | 'BUSINESS_RULE_TASK'
  | 'SCRIPT_TASK'
  | 'SEND_TASK'
  | 'RECEIVE_TASK'
  | 'MANUAL_TASK'
  | 'TASK'
  | 'CALL_ACTIVITY'
  | 'SUB_PROCESS'
  | 'EXCLUSIVE_GATEWAY'
  | 'PARALLEL_GATEWAY'
  | 'INCLUSIVE_GATEWAY'
  | 'EVENT_BASED_GATEWAY'
  | 'EVENT_SUB_PROCESS'
  | 'INTERMEDIATE_CATCH_EVENT'
  | 'INTERMEDIATE_THROW_EVENT'
  | 'BOUNDARY_EVENT'
  | 'MULTI_INSTANCE_BODY'
  | 'SEQUENCE_FLOW';

/** A diagram expression: "=…" is FEEL, anything else a literal. */
export type Expression = string;

/** One `zeebe:input` / `zeebe:output`: `target` gets the value of `source` (an expression). */
export interface Mapping {
  source: Expression;
  target: string;
}

export type EventDefinition =
  | { type: 'none' }
  /** Exactly one of the three is set, as in the diagram. */
  | { type: 'timer'; timeDate?: Expression; timeDuration?: Expression; timeCycle?: Expression }
  /** `messageName` and `correlationKey` are expressions (Zeebe allows FEEL in both). */
  | { type: 'message'; messageName: Expression; correlationKey?: Expression }
  /** `errorCode` undefined: catches every error (a catch-all error boundary / no errorRef). */
  | { type: 'error'; errorCode?: Expression }
  /** End events only: ends every element instance of the flow scope. */
  | { type: 'terminate' }
  /** `signalName` may be FEEL (Zeebe allows an expression). */
  | { type: 'signal'; signalName: Expression }
  /** `escalationCode` undefined: catches every escalation (a catch event without escalationRef/code). */
  | { type: 'escalation'; escalationCode?: Expression };

/** `zeebe:taskDefinition` (+ `zeebe:taskHeaders`): the element is worked by a job. */
export interface JobDefinition {
  type: Expression;
  /** Default "3", as in Zeebe. */
  retries: Expression;
  headers: Record<string, string>;
}

/** A `zeebe:executionListener` / `zeebe:taskListener`: a job of `type` the element waits for. */
export interface ListenerDefinition {
  type: Expression;
  retries: Expression;
  headers: Record<string, string>;
}

/** Execution listeners by event, in document order (docs: concepts/execution-listeners). */
export interface ExecutionListeners {
  start: ListenerDefinition[];
  end: ListenerDefinition[];
}

/** User task listeners by event, in document order (docs: concepts/user-task-listeners). */
export interface TaskListeners {
  assigning: ListenerDefinition[];
  completing: ListenerDefinition[];
}

/** `zeebe:userTask` (a Camunda user task) with its assignment and schedule. */
export interface UserTaskDefinition {
  candidateGroups?: Expression;
  candidateUsers?: Expression;
  assignee?: Expression;
  dueDate?: Expression;
  followUpDate?: Expression;
  formKey?: string;
  formId?: string;
}

export interface CalledDecision {
  decisionId: Expression;
  resultVariable: string;
}

export interface CalledElement {
  processId: Expression;
  /** Default true (Zeebe): the child's variables come back unless output mappings say otherwise. */
  propagateAllChildVariables: boolean;
  /** Default true (Zeebe): the parent's visible variables go to the child unless input mappings exist. */
  propagateAllParentVariables: boolean;
  /** Which version is called (docs: bpmn/call-activities, "Defining the called process"): default latest. */
  bindingType: 'latest' | 'deployment' | 'versionTag';
  versionTag?: string;
}

export interface MultiInstance {
  sequential: boolean;
  inputCollection: Expression;
  inputElement?: string;
  outputCollection?: string;
  outputElement?: Expression;
  completionCondition?: Expression;
}

export interface Element {
  id: string;
  name?: string;
  type: BpmnElementType;
  /** Id of the flow scope: the process or the enclosing sub-process. */
  flowScopeId: string;
  /** Sequence flow ids in document order. */
  incoming: string[];
  outgoing: string[];
  inputs: Mapping[];
  outputs: Mapping[];
  /** Events: their one event definition (`none` when it has none). */
  event?: EventDefinition;
  /** Service tasks, job-based throw events, send tasks, business rule tasks with a job, job-worker user tasks. */
  job?: JobDefinition;
  userTask?: UserTaskDefinition;
  decision?: CalledDecision;
  calledElement?: CalledElement;
  /** Script tasks with `zeebe:script`: a FEEL expression whose value goes into `resultVariable`. */
  script?: { expression: Expression; resultVariable: string };
  multiInstance?: MultiInstance;
  /** `zeebe:executionListeners` (undefined when it has none). */
  listeners?: ExecutionListeners;
  /** Camunda user tasks: `zeebe:taskListeners` (undefined when it has none). */
  taskListeners?: TaskListeners;
  /** Boundary events: the activity they sit on, and whether they interrupt it. */
  attachedTo?: string;
  interrupting?: boolean;
  /** Activities: ids of the boundary events attached to them. */
  boundaryEvents: string[];
  /** Exclusive and inclusive gateways: the default flow's id. */
  defaultFlow?: string;
  /** Sub-processes: the id of their none start event; event sub-processes: their (one) start event. */
  startEventId?: string;
  /** Event sub-processes: whether their start event interrupts the enclosing scope. */
  interruptingStart?: boolean;
  /** Sub-processes: the ids of the event sub-processes directly inside them. */
  eventSubProcesses: string[];
  /** Ids of the elements directly inside a sub-process (empty elsewhere). */
  children: string[];
}

export interface SequenceFlow {
  id: string;
  sourceId: string;
  targetId: string;
  /** FEEL condition ("=…"), only on flows leaving a gateway. */
  condition?: Expression;
}

export interface ProcessModel {
  bpmnProcessId: string;
  name?: string;
  /** Every element of the process, nested ones included, by id. The process itself is not in it. */
  elements: Map<string, Element>;
  flows: Map<string, SequenceFlow>;
  /** The top-level none start event, if any (CreateProcessInstance starts there). */
  noneStartEventId?: string;
  /** Top-level message start events. */
  messageStartEvents: { elementId: string; messageName: string }[];
  /** Top-level timer start events. */
  timerStartEvents: { elementId: string; timer: Extract<EventDefinition, { type: 'timer' }> }[];
  /** Ids of the elements directly in the process. */
  children: string[];
  /** Ids of the event sub-processes directly in the process. */
  eventSubProcesses: string[];
  /** `zeebe:versionTag` of the process (call activities may bind to it). */
  versionTag?: string;
  /** The process's own execution listeners. */
  listeners?: ExecutionListeners;
  /** Top-level signal start events. */
  signalStartEvents: { elementId: string; signalName: string }[];
}

/** Parse and deploy-time check results: problems name the element and what is not supported. */
export interface DeployProblem {
  elementId: string;
  message: string;
}
