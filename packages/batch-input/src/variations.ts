/**
 * The inputs of a row's seed variations: with seed -1 every variation stays random; a fixed seed
 * becomes seed, seed+1, … (checked against the largest seed when the row was validated).
 */
export function* expandVariations(input: Record<string, unknown>, variations: number): Generator<{ variation: number; input: Record<string, unknown> }> {
  const seed = typeof input.seed === "number" ? input.seed : -1;
  for (let v = 1; v <= variations; v++) {
    yield { variation: v, input: v === 1 || seed === -1 ? input : { ...input, seed: seed + v - 1 } };
  }
}
