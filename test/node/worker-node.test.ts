// Node-only parts of the worker layer (the Node adapter's worker_threads factory): heap limits reach the
// worker (`resourceLimits`, a knob Web Workers do not have), and a worker that cannot start is a typed refusal.
// Node only: worker_threads and its resourceLimits exist nowhere else.
import { describe, expect, it } from "vitest";
import { nodeWorkerFactory } from "../../src/adapters/node.ts";
import { ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, TrapError } from "../../src/errors.ts";
import { WorkerInstance } from "../../src/worker/mod.ts";
import { expectRejects } from "../support/errors.ts";
import { loadPlugin } from "../support/fixtures.ts";

describe("Node worker factory", () => {
  it("applies heap limits: a heap too small for the runtime ends the worker at start-up with ResourceLimit", async () => {
    const module = await ComponentModule.compile(await loadPlugin("crdt-v1"));
    const deaths: unknown[] = [];
    const tooSmall = { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 };
    const err = await expectRejects(
      WorkerInstance.spawn(module, {
        pluginId: "test.heap",
        grants: new Set(),
        workerFactory: nodeWorkerFactory(),
        resourceLimits: tooSmall,
        onDeath: (d) => deaths.push(d),
      }),
      { code: ErrorCode.ResourceLimit, name: "TrapError", pluginId: "test.heap", message: "memory limit" },
    );
    expect(err).toBeInstanceOf(TrapError);
    expect(deaths).toEqual([]);
    // The factory's own limits apply when the spawn gives none; a roomy heap serves.
    const roomy = await WorkerInstance.spawn(module, {
      pluginId: "test.heap",
      grants: new Set(),
      workerFactory: nodeWorkerFactory({ resourceLimits: { maxOldGenerationSizeMb: 64 } }),
    });
    expect(await roomy.crdt?.kinds()).toContain("g-counter");
    await roomy.dispose();
    await expectRejects(
      WorkerInstance.spawn(module, {
        pluginId: "test.heap",
        grants: new Set(),
        workerFactory: nodeWorkerFactory({ resourceLimits: tooSmall }),
      }),
      { code: ErrorCode.ResourceLimit },
    );
  });

  it("a missing or failing worker script is a typed refusal, not a hang", async () => {
    const module = await ComponentModule.compile(await loadPlugin("crdt-v1"));
    await expectRejects(
      WorkerInstance.spawn(module, {
        pluginId: "test.script",
        grants: new Set(),
        workerFactory: nodeWorkerFactory({ entry: new URL("./no-such-worker.js", import.meta.url) }),
      }),
      {
        code: ErrorCode.Io,
        pluginId: "test.script",
        message: ["cannot start a worker", "no-such-worker.js", "npm run build"],
      },
    );
    await expectRejects(
      WorkerInstance.spawn(module, {
        pluginId: "test.script",
        grants: new Set(),
        workerFactory: nodeWorkerFactory({ entry: "data:text/javascript,throw new Error('broken worker script')" }),
      }),
      { code: ErrorCode.Io, name: "PluginError", message: ["failed to start", "broken worker script"] },
    );
  });
});
