import { QUEUE_NAMES } from "@acebatch/queue";
import { afterAll, describe, expect, inject, it } from "vitest";
import { BOARD_PATH } from "./admin-board.ts";
import { BROWSER_COOKIE } from "./auth.ts";
import { makeTestApp, TEST_ADMIN_KEY } from "./test-app.ts";

const t = await makeTestApp({ label: "board", redisUrl: inject("redisUrl") });
afterAll(async () => {
  await t.close();
});

const cookieFrom = (setCookie: string | string[] | undefined) => String(setCookie).split(";")[0]!;

describe("Bull Board at /admin/queues", () => {
  it("answers 401 without a key and 403 with a key lacking the admin scope, in our error format", async () => {
    for (const path of [BOARD_PATH, `${BOARD_PATH}/api/queues`]) {
      const anonymous = await t.call("GET", path, null);
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe("unauthorized");
    }
    const { key } = await t.createKey(["jobs:read", "jobs:write", "batches", "schedules", "budget:admin"]);
    const denied = await t.call("GET", `${BOARD_PATH}/api/queues`, key);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe("forbidden");
    expect((await t.call("GET", `${BOARD_PATH}?key=${key}`, null)).statusCode).toBe(403);
  });

  it("shows every queue of the catalog to an admin bearer key", async () => {
    const page = await t.call("GET", BOARD_PATH, TEST_ADMIN_KEY);
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    const api = await t.call("GET", `${BOARD_PATH}/api/queues`, TEST_ADMIN_KEY);
    expect(api.statusCode).toBe(200);
    expect(api.json().queues.map((q: { name: string }) => q.name).sort()).toEqual(Object.values(QUEUE_NAMES).sort());
  });

  it("logs a browser in once with ?key=, then works from an HttpOnly cookie until the key is revoked", async () => {
    const { id, key } = await t.createKey(["admin"]);
    const login = await t.call("GET", `${BOARD_PATH}?key=${encodeURIComponent(key)}&tab=failed`, null);
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe(`${BOARD_PATH}?tab=failed`);
    const setCookie = String(login.headers["set-cookie"]);
    expect(setCookie).toMatch(new RegExp(`^${BROWSER_COOKIE}=`));
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain(`Path=${BOARD_PATH}`);

    const cookie = cookieFrom(login.headers["set-cookie"]);
    expect((await t.call("GET", BOARD_PATH, null, undefined, { cookie })).statusCode).toBe(200);
    expect((await t.call("GET", `${BOARD_PATH}/api/queues`, null, undefined, { cookie })).statusCode).toBe(200);
    // The cookie opens the board and nothing else.
    expect((await t.call("GET", "/v1/jobs", null, undefined, { cookie })).statusCode).toBe(401);

    await t.call("DELETE", `/v1/keys/${id}`);
    const after = await t.call("GET", `${BOARD_PATH}/api/queues`, null, undefined, { cookie });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe("key_revoked");
  });

  it("stays out of the OpenAPI document", async () => {
    const doc = (await t.call("GET", "/openapi.json", null)).json();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith(BOARD_PATH))).toEqual([]);
  });
});
