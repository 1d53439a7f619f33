/**
 * A crypto thread (see threads.ts): runs each batch of field jobs it is sent and answers with
 * their results in order. It prints nothing; a job that throws is reported only as `failed`,
 * and the main thread runs the batch again itself for the real error.
 */
import { parentPort } from 'node:worker_threads';
import { type PackedBatch, type Reply, runJob, unpack } from './jobs.js';

parentPort?.on('message', (batch: PackedBatch) => {
  let reply: Reply;
  try {
    reply = { id: batch.id, results: unpack(batch).map((j) => runJob(j)) };
  } catch {
    reply = { id: batch.id, failed: true };
  }
  parentPort?.postMessage(reply);
});
// A batch that cannot be read would never be answered: exit, and the main thread runs it.
parentPort?.on('messageerror', () => process.exit(1));
