/**
 * Starting the flow of a county-wide record (an enrollment campaign, a handover batch). The row is
 * committed before the instance starts, because the flow's first worker reads it at once and must not
 * find it missing; if the engine then refuses, the row is removed again, so nothing is left without
 * its flow. Two simultaneous starts for the same county and year meet at the unique key: one 409.
 */
import { AppError } from '../errors.js';

export interface FlowStart<Row, Result> {
  /** Creates the record (committed on return). */
  create: () => Promise<Row>;
  /** Starts the process instance for it; returns the instance key. */
  start: (row: Row) => Promise<string>;
  /** Links the instance to the record (and audits). */
  link: (row: Row, processInstanceKey: string) => Promise<Result>;
  /** Removes the record when the start failed. */
  undo: (row: Row) => Promise<unknown>;
  /** The 409 message when the record exists already. */
  conflictMessage: string;
}

const isUniqueViolation = (err: unknown) => (err as { code?: unknown }).code === 'P2002';

export async function startFlowFor<Row, Result>(flow: FlowStart<Row, Result>): Promise<Result> {
  let row: Row;
  try {
    row = await flow.create();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', undefined, flow.conflictMessage);
    throw err;
  }
  let processInstanceKey: string;
  try {
    processInstanceKey = await flow.start(row);
  } catch (err) {
    await flow.undo(row);
    throw err;
  }
  return flow.link(row, processInstanceKey);
}
