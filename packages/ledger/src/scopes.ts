/** What a budget applies to: the whole deployment, one batch, one schedule or one API key. */
export type BudgetScope =
  | { kind: "global" }
  | { kind: "batch"; id: string }
  | { kind: "schedule"; id: string }
  | { kind: "key"; id: string };

export const GLOBAL_SCOPE: BudgetScope = { kind: "global" };

// Ids become part of Redis key names: keep them to a safe, bounded alphabet.
const SCOPE_ID = /^[A-Za-z0-9_.-]{1,200}$/;

/** The stable string form of a scope used in Redis keys (`global`, `batch:<id>` ...). Throws on a malformed id. */
export function scopeKey(scope: BudgetScope): string {
  if (scope.kind === "global") return "global";
  if (scope.kind !== "batch" && scope.kind !== "schedule" && scope.kind !== "key") {
    throw new TypeError(`unknown budget scope kind: ${String((scope as { kind: unknown }).kind)}`);
  }
  if (typeof scope.id !== "string" || !SCOPE_ID.test(scope.id)) {
    throw new TypeError(`invalid ${scope.kind} id for a budget scope: ${JSON.stringify(scope.id)} (1–200 of A-Z a-z 0-9 _ . -)`);
  }
  return `${scope.kind}:${scope.id}`;
}

/** The inverse of `scopeKey`. */
export function parseScopeKey(key: string): BudgetScope {
  if (key === "global") return GLOBAL_SCOPE;
  const colon = key.indexOf(":");
  const kind = key.slice(0, colon);
  const id = key.slice(colon + 1);
  if (colon > 0 && (kind === "batch" || kind === "schedule" || kind === "key")) return { kind, id };
  throw new TypeError(`not a budget scope key: ${key}`);
}

/** Scopes in order of first appearance, each once. */
export function uniqueScopes(scopes: readonly BudgetScope[]): { scope: BudgetScope; key: string }[] {
  const seen = new Map<string, BudgetScope>();
  for (const scope of scopes) {
    const key = scopeKey(scope);
    if (!seen.has(key)) seen.set(key, scope);
  }
  return [...seen].map(([key, scope]) => ({ scope, key }));
}
