import { Queue, type ConnectionOptions } from "bullmq";
import { finishJobId, finishJobOptions, generateJobOptions, QUEUE_NAMES, QUEUE_STREAMS, type FinishPayload, type GeneratePayload } from "./job-catalog.ts";

export interface QueueSettings {
  prefix: string;
  maxAttempts: number;
}

/** The producer side of every queue, sharing one connection. */
export function createQueues(connection: ConnectionOptions, settings: QueueSettings) {
  const generate = new Queue<GeneratePayload, unknown, "generate">(QUEUE_NAMES.generate, {
    connection,
    prefix: settings.prefix,
    streams: QUEUE_STREAMS,
    defaultJobOptions: generateJobOptions(settings.maxAttempts),
  });
  const finish = createFinishQueue(connection, settings.prefix);
  return {
    generate,
    finish,
    async close() {
      await generate.close();
      await finish.close();
    },
  };
}

export type FinishQueue = Queue<FinishPayload, unknown, "finish">;

/** The producer side of the `finish` queue. */
export function createFinishQueue(connection: ConnectionOptions, prefix: string): FinishQueue {
  return new Queue<FinishPayload, unknown, "finish">(QUEUE_NAMES.finish, { connection, prefix, streams: QUEUE_STREAMS, defaultJobOptions: finishJobOptions() });
}

/** Queue a finish run of a completed job for revision `rev` of its finish block (idempotent). */
export async function enqueueFinish(queue: FinishQueue, jobId: string, rev = 0): Promise<void> {
  await queue.add("finish", { job_id: jobId, rev }, { jobId: finishJobId(jobId, rev) });
}

export type Queues = ReturnType<typeof createQueues>;
