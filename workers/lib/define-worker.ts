/**
 * A job worker is a module: the job type it serves (the diagram's zeebe:taskDefinition type), zod
 * schemas for the variables it reads and writes, and a handler. The runtime validates both ends, so
 * a handler only ever sees well-formed input and the engine only ever receives declared output.
 */
import type { z } from 'zod';
import type { Prisma } from '../../infra/db/prisma.js';

export interface JobContext {
  /** Unique per job; redelivery of the same job has the same key (idempotency). */
  jobKey: string;
  processInstanceKey: string;
  bpmnProcessId: string;
  elementId: string;
  retries: number;
  prisma: Prisma;
  /**
   * Publishes a message to the engine (message throw events, starting another flow). `messageId`
   * makes it idempotent: the engine drops a second message with the same id while the first lives.
   */
  publishMessage: (message: PublishMessage) => Promise<void>;
}

export interface PublishMessage {
  name: string;
  correlationKey: string;
  messageId: string;
  variables: Record<string, unknown>;
  /** How long the engine keeps the message for a subscription that opens later (default one hour). */
  timeToLiveMs?: number;
}

export interface WorkerDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  type: string;
  /** What the step does, with the statute clause it implements. */
  description: string;
  input: I;
  output: O;
  handler: (input: z.infer<I>, ctx: JobContext) => Promise<z.infer<O>>;
}

export function defineWorker<I extends z.ZodType, O extends z.ZodType>(def: WorkerDefinition<I, O>) {
  return def;
}

/** A business outcome the diagram handles with an error boundary event (not a technical failure). */
export class BpmnError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly variables: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
