// Drives the host-import-calls fixture (test/fixtures/wat/host-import-calls.wat): its deliver runs the
// host-log / cdc-sink calls its mutations spell out, with whatever pointers and lengths they hold.
import { ComponentInstance, ComponentModule, type LogLimits } from "../../src/component/mod.ts";
import type { PluginError } from "../../src/errors.ts";
import { loadFixture } from "../support/fixtures.ts";

export type Logged = { level: string; message: string };
export type Emitted = { output: string; lsnStart: bigint; lsnEnd: bigint; payload: number[] };

/** One command for the fixture's deliver: [op, a, b, c, d, e] as little-endian u32s. */
export function commands(...cmds: number[][]): Uint8Array {
  const out = new Uint8Array(24 * cmds.length);
  const dv = new DataView(out.buffer);
  cmds.forEach((cmd, i) => {
    for (let k = 0; k < 6; k++) dv.setUint32(i * 24 + 4 * k, (cmd[k] ?? 0) >>> 0, true);
  });
  return out;
}

export const LOG = 0;
export const EMIT = 1;
export const LOG_REPEAT = 2;
/** Where the fixture keeps its constants. */
export const CHANGELOG_AT = 72;
export const HELLO_AT = 200;
export const PING_AT = 300;
export const RET_AT = 48;

export async function importCalls(limits?: LogLimits, sinkError?: () => PluginError | undefined) {
  const module = await ComponentModule.compile(await loadFixture("host-import-calls"));
  const logged: Logged[] = [];
  const emitted: Emitted[] = [];
  const instance = await ComponentInstance.instantiate(module, {
    pluginId: "test.host-imports",
    grants: new Set(["cdc-sink"]),
    log: (level, message) => logged.push({ level, message }),
    ...(limits ? { logLimits: limits } : {}),
    cdcSink: (output, lsnStart, lsnEnd, payload) => {
      const failure = sinkError?.();
      if (failure) throw failure;
      emitted.push({ output, lsnStart, lsnEnd, payload: [...payload] });
    },
  });
  const stream = (instance.cdc as NonNullable<ComponentInstance["cdc"]>).start("changelog");
  let lsn = 0n;
  const run = (mutations: Uint8Array) => {
    const batch = { lsnStart: lsn, lsnEnd: lsn + 1n, mutations, commitMicros: 0n };
    stream.deliver(batch);
    lsn += 1n;
  };
  return { instance, stream, logged, emitted, run };
}
