// Skip-or-fail for tests that need a capability of the host (container runtime, Python readers).
// Locally an absent capability skips with the reason; under CI it is a failure, never a silent skip.

export interface Capability {
  /** Short name shown in messages, e.g. "container runtime". */
  name: string;
  /** Resolves with undefined when available, or the reason it is not. */
  probe(): Promise<string | undefined> | string | undefined;
}

export interface CapabilityCheck {
  available: boolean;
  reason?: string;
}

/**
 * Probes a capability. Under `CI` an absent capability throws with a clear message (the suite
 * fails); elsewhere it reports `available: false` so the caller can `describe.skipIf(...)`.
 */
export async function requireCapability(
  cap: Capability,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CapabilityCheck> {
  let reason: string | undefined;
  try {
    reason = await cap.probe();
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  if (reason === undefined) return { available: true };
  const message = `${cap.name} is not available: ${reason} (provision it with: npm run test:env)`;
  if (env.CI) throw new Error(`${message}; under CI an absent capability is a failure, not a skip`);
  console.warn(`[skip] ${message}`);
  return { available: false, reason: message };
}
