import { afterAll, describe, expect, inject, it } from "vitest";
import { SCOPES, type Scope } from "./auth.ts";
import { makeTestApp } from "./test-app.ts";

/**
 * Every /v1 route, as registered (collected by the OpenAPI plugin's onRoute hook), must answer 401
 * without a key and 403 with a key that has every scope but the one it declares in `config.scope`.
 * Routes colleagues add later are covered without touching this file.
 */
const t = await makeTestApp({ label: "route-auth", redisUrl: inject("redisUrl") });
afterAll(async () => {
  await t.close();
});

const v1Routes = t.app.routeCatalog.filter((route) => route.url === "/v1" || route.url.startsWith("/v1/"));
/** The required-scope table, derived from each route's `config.scope`. */
const scopeTable = v1Routes.map((route) => ({ ...route, path: route.url.replace(/:[^/]+/g, "x_1").replace(/\*/g, "x") }));

const keys = new Map<Scope, { without: string; with: string }>();
async function keysFor(scope: Scope) {
  let pair = keys.get(scope);
  if (!pair) {
    const others = SCOPES.filter((s) => s !== scope && s !== "admin");
    pair = { without: (await t.createKey(others)).key, with: (await t.createKey([scope])).key };
    keys.set(scope, pair);
  }
  return pair;
}

it("finds the API's routes and every /v1 route declares a scope", () => {
  expect(v1Routes.length).toBeGreaterThan(10);
  expect(v1Routes.filter((route) => !route.scope).map((route) => `${route.method} ${route.url}`)).toEqual([]);
  const scopeOf = (method: string, url: string) => scopeTable.find((r) => r.method === method && r.url === url)?.scope;
  expect(scopeOf("POST", "/v1/jobs")).toBe("jobs:write");
  expect(scopeOf("GET", "/v1/jobs")).toBe("jobs:read");
  expect(scopeOf("PUT", "/v1/budget")).toBe("budget:admin");
  expect(scopeOf("POST", "/v1/keys")).toBe("admin");
  expect(scopeOf("DELETE", "/v1/keys/:id")).toBe("admin");
});

describe.each(scopeTable)("$method $url (needs $scope)", ({ method, path, scope }) => {
  it("answers 401 without a key", async () => {
    const res = await t.call(method as "GET", path, null);
    expect(res.statusCode).toBe(401);
    if (method !== "HEAD") expect(res.json().error.code).toBe("unauthorized");
  });

  it("answers 401 with a key that does not exist", async () => {
    expect((await t.call(method as "GET", path, "ak_doesNotExist000000000000000000")).statusCode).toBe(401);
  });

  it("answers 403 with a key holding every other scope, and lets the right scope through", async () => {
    const { without, with: withScope } = await keysFor(scope!);
    const denied = await t.call(method as "GET", path, without);
    expect(denied.statusCode).toBe(403);
    if (method !== "HEAD") expect(denied.json().error).toMatchObject({ code: "forbidden", message: expect.stringContaining(scope!) });
    const allowed = await t.call(method as "GET", path, withScope);
    expect([401, 403]).not.toContain(allowed.statusCode);
  });
});
