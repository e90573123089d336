import { afterAll, expect, inject, it } from "vitest";
import { BOARD_PATH } from "./admin-board.ts";
import { makeTestApp, TEST_ADMIN_KEY } from "./test-app.ts";

const PROVIDER_TOKEN = "rc-provider-token-Zx81qLm2";
const T2A = "acestep-ai/ace-step/text-to-audio";

const t = await makeTestApp({ label: "log-redaction", redisUrl: inject("redisUrl"), captureLogs: true });
afterAll(async () => {
  await t.close();
});

it("keeps API keys, the admin key, a provider token and signatures out of every log line", async () => {
  const created = await t.createKey(["admin"]);
  const key = created.key;
  const job = (await t.call("POST", "/v1/jobs", key, { model: T2A, input: { tags: "lo-fi" } })).json();
  expect((await t.call("GET", `/v1/jobs/${job.id}`, key)).statusCode).toBe(200);
  expect((await t.call("GET", "/v1/jobs?limit=5", key)).statusCode).toBe(200);
  // Secrets in the places they do travel: the header, a browser login URL, signed-link queries.
  expect((await t.call("GET", `${BOARD_PATH}?key=${key}`, null)).statusCode).toBe(303);
  expect((await t.call("GET", `${BOARD_PATH}?key=${TEST_ADMIN_KEY}`, null)).statusCode).toBe(303);
  expect((await t.call("GET", `/v1/jobs/${job.id}/audio?expires=9999999999&signature=sig-${PROVIDER_TOKEN}`, null)).statusCode).toBe(401);
  // And where they should not: a provider token presented as a key, or in a query or a body.
  expect((await t.call("GET", "/v1/jobs", PROVIDER_TOKEN)).statusCode).toBe(401);
  expect((await t.call("GET", `/v1/jobs?token=${PROVIDER_TOKEN}`, key)).statusCode).toBeLessThan(500);
  expect((await t.call("POST", "/v1/jobs", key, { model: T2A, input: { tags: PROVIDER_TOKEN, duration: 9999 } })).statusCode).toBe(400);
  expect((await t.call("GET", `/v1/keys/${created.id}`, TEST_ADMIN_KEY)).statusCode).toBe(200);
  expect((await t.call("DELETE", `/v1/keys/${created.id}`, TEST_ADMIN_KEY)).statusCode).toBe(200);
  expect((await t.call("GET", "/v1/jobs", key)).statusCode).toBe(401);
  t.app.log.info({ config: { provider: { token: PROVIDER_TOKEN }, auth: { adminKey: TEST_ADMIN_KEY } } }, "config at start-up");

  const logs = t.logText();
  // The log is real: request lines with ids, the job id, the redacted login URL.
  expect(logs).toMatch(/"reqId":"req_[a-z0-9]+"/);
  expect(logs).toContain(`"jobId":"${job.id}"`);
  expect(logs).toContain(`"url":"${BOARD_PATH}?key=[redacted]"`);
  expect(logs).toContain("signature=[redacted]");
  for (const secret of [key, TEST_ADMIN_KEY, PROVIDER_TOKEN]) expect(logs).not.toContain(secret);
  expect(logs).not.toMatch(/ak_(?!\[redacted\])[A-Za-z0-9_-]{16,}/);
});
