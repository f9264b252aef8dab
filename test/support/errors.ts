// Error expectations shared by every test file: runtime-neutral (no node: imports), chai `expect` from #test.
import { expect } from "#test";
import { PluginError, ReloadError, type ReloadReport } from "../../src/mod.ts";

/** What a rejection must look like; every given field is checked. */
export interface Expected {
  code?: number;
  /** Substrings the message must contain. */
  message?: string | readonly string[];
  name?: string;
  retryable?: boolean;
  pluginId?: string;
  /** For ManifestError: the manifest field at fault. */
  field?: string;
}

/** Checks a caught error against `expected`, and that it is a well-formed PluginError. */
export function expectPluginError(err: unknown, expected: Expected): PluginError {
  expect(err, `expected a PluginError, got ${String(err)}`).to.be.instanceOf(PluginError);
  const e = err as PluginError & { field?: string };
  if (expected.code !== undefined) {
    expect(e.code, `code of "${e.message}"`).to.equal(expected.code);
  }
  for (const part of typeof expected.message === "string" ? [expected.message] : (expected.message ?? [])) {
    expect(e.message).to.contain(part);
  }
  if (expected.name !== undefined) expect(e.name).to.equal(expected.name);
  if (expected.retryable !== undefined) expect(e.retryable).to.equal(expected.retryable);
  if (expected.pluginId !== undefined) expect(e.pluginId).to.equal(expected.pluginId);
  if (expected.field !== undefined) expect(e.field).to.equal(expected.field);
  expect(typeof e.retryable).to.equal("boolean");
  expect(JSON.stringify(e.toJSON())).not.to.contain("[object Object]");
  expect(e.message).not.to.contain("[object Object]");
  return e;
}

/** Awaits `promise`, requiring it to reject with a PluginError matching `expected`; returns the error. */
export async function expectRejects(promise: Promise<unknown>, expected: Expected = {}): Promise<PluginError> {
  let settled: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    settled = { ok: true, value: await promise };
  } catch (error) {
    settled = { ok: false, error };
  }
  if (settled.ok) throw new Error(`expected a rejection, but it resolved with ${describe(settled.value)}`);
  return expectPluginError(settled.error, expected);
}

/** Runs `fn`, requiring it to throw synchronously a PluginError matching `expected`. */
export function expectThrows(fn: () => unknown, expected: Expected = {}): PluginError {
  try {
    fn();
  } catch (error) {
    return expectPluginError(error, expected);
  }
  throw new Error("expected a throw");
}

/** Runs `fn` and returns what it threw (any PluginError, unchecked); fails if it returned. */
export function thrown(fn: () => unknown): PluginError {
  try {
    fn();
  } catch (err) {
    return err as PluginError;
  }
  throw new Error("expected a throw");
}

/** Awaits a reload that must fail, and returns its error after checking the step. */
export async function refused(reload: Promise<ReloadReport>, step: string): Promise<ReloadError> {
  try {
    const report = await reload;
    throw new Error(`reload unexpectedly succeeded: ${JSON.stringify(report.steps.map((s) => s.step))}`);
  } catch (err) {
    if (!(err instanceof ReloadError)) throw err;
    expect(err.step, err.message).to.equal(step);
    expect(err.message).not.to.contain("[object Object]");
    const report = err.report as ReloadReport;
    expect(report.ok).to.equal(false);
    expect(report.failedStep).to.equal(step);
    return err;
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
