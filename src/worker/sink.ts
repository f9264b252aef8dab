/**
 * `cdc-sink.emit` inside the worker. The guest's `emit` runs synchronously inside its call, but the
 * host's accept/refuse decision lives on main (`LiveCdc`). So each stream call carries main's
 * expectation — `{ mode, nextLsn, stream }` — and this gate makes exactly the checks `LiveCdc#accept`
 * makes, with the same messages:
 *
 * - no expectation (an emit outside a stream call that carries one): `RegistryError(Forbidden)`, as the
 *   in-thread host's sink route refuses it;
 * - `sealed` (the retiring version after a handoff): every emit refused, `PluginCallError(Forbidden)`
 *   naming `nextLsn` as the handover LSN;
 * - otherwise an emit must start exactly at the expected LSN and be non-empty: a duplicate, a gap or an
 *   empty range is refused with `PluginCallError(Forbidden)`; an accepted emit moves the expectation to
 *   its end, so several emits in one call chain.
 *
 * A refusal reaches the guest as the `fn-error` of `emit` (the in-thread instance's sink contract).
 * Accepted emits are kept in order and returned with the call's response for main to forward.
 *
 * @module
 */
import { ErrorCode, PluginCallError, RegistryError } from "../errors.ts";
import { SINK_MODES, type WireEmit, type WireSink } from "./protocol.ts";

const SEALED = SINK_MODES.indexOf("sealed");

export class SinkGate {
  #mode = -1;
  #next = 0n;
  #stream = "";
  #accepted: WireEmit[] = [];

  constructor(private readonly pluginId: () => string) {}

  /** Arms the gate for one call; `defaultStream` names the stream in messages when main gave no name. */
  begin(sink: WireSink, defaultStream: string): void {
    this.#accepted = [];
    if (sink === undefined) {
      this.#mode = -1;
      return;
    }
    const [mode, next, stream] = sink;
    this.#mode = mode;
    this.#next = next;
    this.#stream = stream ?? defaultStream;
  }

  /** Disarms the gate; returns the emits accepted during the call, in order. */
  end(): WireEmit[] {
    this.#mode = -1;
    const accepted = this.#accepted;
    this.#accepted = [];
    return accepted;
  }

  /** The instance's `cdcSink`. Throws the refusal the guest gets as `emit`'s fn-error. */
  readonly emit = (output: string, lsnStart: bigint, lsnEnd: bigint, payload: Uint8Array): void => {
    const pluginId = this.pluginId();
    if (this.#mode < 0) {
      throw new RegistryError(ErrorCode.Forbidden, "cdc-sink.emit called outside of a cdc-stream call", { pluginId });
    }
    if (this.#mode === SEALED) {
      throw new PluginCallError(
        ErrorCode.Forbidden,
        `cdc stream "${this.#stream}" was handed over at LSN ${this.#next}; emits from the retiring version are refused`,
        { pluginId },
      );
    }
    const expected = this.#next;
    if (lsnStart !== expected || lsnEnd <= lsnStart) {
      const what = lsnStart < expected ? "duplicate" : lsnStart > expected ? "gap" : "empty range";
      throw new PluginCallError(
        ErrorCode.Forbidden,
        `cdc-sink refused [${lsnStart}, ${lsnEnd}) on "${this.#stream}": ${what}, expected a batch starting at ${expected}`,
        { pluginId },
      );
    }
    // The payload is already the instance's private copy out of guest memory.
    this.#accepted.push([output, lsnStart, lsnEnd, payload]);
    this.#next = lsnEnd;
  };
}
