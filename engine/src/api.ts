/**
 * What the engine offers its gateways (gRPC, REST /v2, management): one method per command or query.
 * The gateways translate protocol to these calls and EngineFault codes to status codes; nothing else
 * crosses that line. Keys are int64 decimal strings throughout; variables are plain JSON objects.
 */

/** Refusal codes, named after gRPC's; the REST gateway maps them to HTTP statuses. */
export type FaultCode =
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'ALREADY_EXISTS'
  | 'RESOURCE_EXHAUSTED'
  /** REST only: the request conflicts with the task's state (assigned to someone else). */
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED';

/** A command the engine refused, with a message that names what is wrong (as Zeebe's do). */
export class EngineFault extends Error {
  constructor(
    readonly code: FaultCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineFault';
  }
}

export type Variables = Record<string, unknown>;

export interface DeployedProcess {
  bpmnProcessId: string;
  version: number;
  processDefinitionKey: string;
  resourceName: string;
  tenantId: string;
}

export interface DeployedDecision {
  dmnDecisionId: string;
  dmnDecisionName: string;
  version: number;
  decisionKey: string;
  dmnDecisionRequirementsId: string;
  decisionRequirementsKey: string;
  tenantId: string;
}

export interface DeployedDecisionRequirements {
  dmnDecisionRequirementsId: string;
  dmnDecisionRequirementsName: string;
  version: number;
  decisionRequirementsKey: string;
  resourceName: string;
  tenantId: string;
}

export interface DeployResult {
  key: string;
  tenantId: string;
  deployments: (
    | { process: DeployedProcess }
    | { decision: DeployedDecision }
    | { decisionRequirements: DeployedDecisionRequirements }
    | { form: { formId: string; version: number; formKey: string; resourceName: string; tenantId: string } }
  )[];
}

export interface CreatedInstance {
  processDefinitionKey: string;
  bpmnProcessId: string;
  version: number;
  processInstanceKey: string;
  tenantId: string;
}

export interface ActivatedJob {
  key: string;
  type: string;
  processInstanceKey: string;
  bpmnProcessId: string;
  processDefinitionVersion: number;
  processDefinitionKey: string;
  elementId: string;
  elementInstanceKey: string;
  customHeaders: Record<string, string>;
  worker: string;
  retries: number;
  /** Epoch milliseconds. */
  deadline: number;
  variables: Variables;
  tenantId: string;
}

export interface ActivateJobsRequest {
  type: string;
  worker: string;
  /** Milliseconds the job stays locked to this worker. */
  timeout: number;
  maxJobsToActivate: number;
  /** Empty: every visible variable. */
  fetchVariable: string[];
  /**
   * Long polling: hold the call until a job exists or this many ms pass (0 = the engine's default
   * long-poll timeout; negative = answer at once).
   */
  requestTimeout: number;
  tenantIds: string[];
}

export interface EvaluatedDecisionResult {
  decisionKey: string;
  decisionId: string;
  decisionName: string;
  decisionVersion: number;
  decisionRequirementsId: string;
  decisionRequirementsKey: string;
  /** The decision's output as JSON text (Zeebe's `decisionOutput`). */
  decisionOutput: string;
  evaluatedDecisions: {
    decisionKey: string;
    decisionId: string;
    decisionName: string;
    decisionVersion: number;
    decisionType: string;
    decisionOutput: string;
    matchedRules: {
      ruleId: string;
      ruleIndex: number;
      evaluatedOutputs: { outputId: string; outputName: string; outputValue: string }[];
    }[];
    evaluatedInputs: { inputId: string; inputName: string; inputValue: string }[];
    tenantId: string;
  }[];
  failedDecisionId: string;
  failureMessage: string;
  tenantId: string;
  decisionInstanceKey: string;
}

/** A page of a search (REST `…/search`): Camunda's `{ items, page: { totalItems } }`. */
export interface SearchPage<T> {
  items: T[];
  totalItems: number;
}

export interface SearchQuery {
  filter?: Record<string, unknown>;
  sort?: { field: string; order?: 'ASC' | 'DESC' | 'asc' | 'desc' }[];
  page?: { from?: number; limit?: number };
}

/** REST `/v2/user-tasks/search` item (Camunda 8.8 field names). */
export interface UserTaskItem {
  userTaskKey: string;
  name?: string;
  state: 'CREATED' | 'COMPLETED' | 'CANCELED' | 'FAILED';
  assignee?: string;
  elementId: string;
  elementInstanceKey: string;
  candidateGroups: string[];
  candidateUsers: string[];
  processDefinitionId: string;
  processDefinitionKey: string;
  processDefinitionVersion: number;
  processInstanceKey: string;
  formKey?: string;
  creationDate: string;
  completionDate?: string;
  dueDate?: string;
  followUpDate?: string;
  priority: number;
  tenantId: string;
}

export interface ProcessInstanceItem {
  processInstanceKey: string;
  processDefinitionId: string;
  processDefinitionName?: string;
  processDefinitionVersion: number;
  processDefinitionKey: string;
  parentProcessInstanceKey?: string;
  parentElementInstanceKey?: string;
  startDate: string;
  endDate?: string;
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED';
  hasIncident: boolean;
  tenantId: string;
}

export interface ElementInstanceItem {
  elementInstanceKey: string;
  processInstanceKey: string;
  processDefinitionKey: string;
  processDefinitionId: string;
  elementId: string;
  elementName?: string;
  type: string;
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED';
  startDate: string;
  endDate?: string;
  hasIncident: boolean;
  incidentKey?: string;
  tenantId: string;
}

export interface IncidentItem {
  incidentKey: string;
  processDefinitionKey: string;
  processDefinitionId: string;
  processInstanceKey: string;
  errorType: string;
  errorMessage: string;
  elementId: string;
  elementInstanceKey: string;
  creationTime: string;
  state: 'ACTIVE' | 'RESOLVED';
  jobKey?: string;
  tenantId: string;
}

export interface ElementStatistics {
  elementId: string;
  active: number;
  canceled: number;
  incidents: number;
  completed: number;
}

export interface EngineApi {
  deployResources(resources: { name: string; content: Buffer }[], tenantId?: string): Promise<DeployResult>;
  createProcessInstance(req: {
    bpmnProcessId?: string;
    processDefinitionKey?: string;
    /** -1 or undefined: the latest version. */
    version?: number;
    variables: Variables;
    tenantId?: string;
  }): Promise<CreatedInstance>;
  /** Resolves when the instance ends (or rejects with DEADLINE_EXCEEDED after `requestTimeout` ms). */
  createProcessInstanceWithResult(
    req: Parameters<EngineApi['createProcessInstance']>[0] & { requestTimeout: number; fetchVariables: string[] },
  ): Promise<CreatedInstance & { variables: Variables }>;
  cancelProcessInstance(processInstanceKey: string): Promise<void>;
  /** docs: components/concepts/process-instance-modification — activations first, then terminations. */
  modifyProcessInstance(req: {
    processInstanceKey: string;
    activate: {
      elementId: string;
      /** '' or '-1': the engine finds (or creates) the flow scope. */
      ancestorElementInstanceKey: string;
      variables: { scopeId: string; variables: Variables }[];
    }[];
    terminate: string[];
  }): Promise<void>;
  /** docs: components/concepts/process-instance-migration — every active element mapped to the target version. */
  migrateProcessInstance(req: {
    processInstanceKey: string;
    targetProcessDefinitionKey: string;
    mappings: { sourceElementId: string; targetElementId: string }[];
  }): Promise<void>;

  /** Long-polls as described on ActivateJobsRequest; `signal` aborts the wait (client went away). */
  activateJobs(req: ActivateJobsRequest, signal?: AbortSignal): Promise<ActivatedJob[]>;
  /**
   * Job push (StreamActivatedJobs): `push` is called with each job activated for this stream until
   * the returned function is called. A job `push` rejects goes back to activatable.
   */
  streamJobs(
    req: { type: string; worker: string; timeout: number; fetchVariable: string[]; tenantIds: string[] },
    push: (job: ActivatedJob) => Promise<void>,
  ): () => void;
  completeJob(jobKey: string, variables: Variables): Promise<void>;
  failJob(req: {
    jobKey: string;
    retries: number;
    errorMessage: string;
    /** Milliseconds before the job may be activated again. */
    retryBackOff: number;
    variables: Variables;
  }): Promise<void>;
  throwError(req: { jobKey: string; errorCode: string; errorMessage: string; variables: Variables }): Promise<void>;
  updateJobRetries(jobKey: string, retries: number): Promise<void>;
  updateJobTimeout(jobKey: string, timeoutMs: number): Promise<void>;

  publishMessage(req: {
    name: string;
    correlationKey: string;
    /** Milliseconds the message is buffered; 0 = correlate only with open subscriptions. */
    timeToLive: number;
    messageId: string;
    variables: Variables;
    tenantId?: string;
  }): Promise<{ key: string; tenantId: string }>;
  /** Starts signal start events and triggers open signal catch events of every instance. */
  broadcastSignal(req: { signalName: string; variables: Variables; tenantId?: string }): Promise<{
    key: string;
    tenantId: string;
  }>;
  /** `local`: set on that scope only; else propagated as Zeebe does. Returns the command's key. */
  setVariables(elementInstanceKey: string, variables: Variables, local: boolean): Promise<{ key: string }>;
  resolveIncident(incidentKey: string): Promise<void>;
  evaluateDecision(req: {
    decisionKey?: string;
    decisionId?: string;
    variables: Variables;
    tenantId?: string;
  }): Promise<EvaluatedDecisionResult>;

  completeUserTask(userTaskKey: string, variables: Variables, action?: string): Promise<void>;
  /** CONFLICT when assigned to someone else and `allowOverride` is false. */
  assignUserTask(userTaskKey: string, assignee: string, allowOverride: boolean): Promise<void>;
  unassignUserTask(userTaskKey: string): Promise<void>;

  searchUserTasks(q: SearchQuery): Promise<SearchPage<UserTaskItem>>;
  searchProcessInstances(q: SearchQuery): Promise<SearchPage<ProcessInstanceItem>>;
  searchElementInstances(q: SearchQuery): Promise<SearchPage<ElementInstanceItem>>;
  searchIncidents(q: SearchQuery): Promise<SearchPage<IncidentItem>>;
  elementStatistics(processDefinitionKey: string): Promise<ElementStatistics[]>;

  /** Management: ready = database reachable and schema in place. */
  health(): Promise<{ ready: boolean; detail?: string }>;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  clock: EngineClockControl;
}

/** The engine's clock; `controlled` is false outside tests, and then pin/add refuse. */
export interface EngineClockControl {
  readonly controlled: boolean;
  now(): number;
  pin(epochMilli: number): void;
  add(offsetMilli: number): void;
  reset(): void;
}
