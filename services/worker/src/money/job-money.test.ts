import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { newId } from "@acebatch/contracts";
import { createLedger } from "@acebatch/ledger";
import { createJobEstimator, createSourceLengthProbe, loadPrices, type JobEstimator } from "@acebatch/pricing";
import { closeRedis, createJobStore, createRedis, type JobRecord } from "@acebatch/queue";
import { deletePrefix, uniquePrefix } from "@acebatch/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { JobFailure } from "../job-failure.ts";
import { createJobMoney } from "./job-money.ts";

let redis: Redis;
let server: Server;
let port: number;
const prefix = uniquePrefix("job-money");
beforeAll(async () => {
  redis = createRedis(inject("redisUrl"), "worker");
  // Answers every request with the status its path names: /404, /403, /503.
  server = createServer((req, res) => void res.writeHead(Number(req.url!.slice(1))).end());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await deletePrefix(redis, prefix);
  await closeRedis(redis);
});

/** Job money on the test prefix, pricing sources through `estimate` (by default: the loopback server's answers). */
function setup(estimate?: JobEstimator) {
  const store = createJobStore({ redis, prefix });
  const probe = createSourceLengthProbe({ allowPrivateHosts: ["127.0.0.1"] });
  const money = createJobMoney({
    ledger: createLedger({ redis, prefix }),
    // Job inputs name https sources; this loopback server speaks plain http (allowed to an allowlisted host).
    estimate:
      estimate ?? createJobEstimator({ prices: loadPrices(), sourceJobSeconds: async () => null, probeSourceSeconds: (url) => probe(url.replace("https://", "http://")) }),
    store,
    recheckMs: 1_000,
    onThreshold: () => undefined,
  });
  return { store, money };
}

/** What reserving money for `record` failed with (the test fails when it did not fail as a JobFailure). */
async function reserveFailure(money: ReturnType<typeof setup>["money"], record: JobRecord): Promise<JobFailure> {
  const err = await money.reserve(record, 1).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JobFailure);
  return err as JobFailure;
}

async function failureFor(status: number): Promise<JobFailure> {
  const { store, money } = setup();
  const { record } = await store.create({
    id: newId("job"),
    model: "acestep-ai/ace-step/audio-inpaint",
    input: { audio: `https://127.0.0.1:${port}/${status}`, tags: "piano" },
    created_at: new Date().toISOString(),
  });
  return reserveFailure(money, record);
}

describe("pricing a job whose remote source cannot be measured", () => {
  it("fails at once when the source is missing (404), and retries when this host is refused or the server errs (403, 429, 503)", async () => {
    expect(await failureFor(404)).toMatchObject({ code: "source_audio_unavailable", retryable: false, message: "cannot price this job: source URL answered HTTP 404" });
    for (const status of [403, 429, 503]) {
      expect(await failureFor(status), `HTTP ${status}`).toMatchObject({ code: "source_audio_unavailable", retryable: true });
    }
  });
});

describe("pricing an outpaint whose result would pass the provider's 240 s", () => {
  it("fails it at once as rejected input, before any money is reserved", async () => {
    const { store, money } = setup(createJobEstimator({ prices: loadPrices(), sourceJobSeconds: async () => 200 }));
    const { record } = await store.create({
      id: newId("job"),
      model: "acestep-ai/ace-step/audio-outpaint",
      input: { audio: newId("job"), tags: "piano", extend_before_duration: 20, extend_after_duration: 30 },
      created_at: new Date().toISOString(),
    });
    expect(await reserveFailure(money, record)).toMatchObject({ code: "provider_rejected_input", exitClass: 65, retryable: false, message: expect.stringMatching(/250 s/) });
    expect((await store.get(record.id))!.reservation_id).toBeNull();
  });
});
