// A throwaway PostgreSQL cluster for tests: initdb in a temp directory, wal_level=logical, a free port on
// 127.0.0.1, stopped and removed by stop(). Uses Debian's server binaries (apt-get install postgresql); when they
// are missing, startCluster() fails saying so — a test that needs Postgres never skips silently.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { appendFile, chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import type pg from "pg";

const run = promisify(execFile);

export interface Cluster {
  readonly port: number;
  /** Connection settings for `database` (default `postgres`), as superuser `postgres` over TCP. */
  config(database?: string): pg.ClientConfig;
  /** Stops the server (immediately) and removes its directory. */
  stop(): Promise<void>;
}

/** Where to look for initdb and pg_ctl. */
export interface BinarySearch {
  pgBin?: string | undefined;
  /** Folders holding one `N/bin` per installed major version (Debian: /usr/lib/postgresql). */
  versionRoots?: string[];
  path?: string;
}

/**
 * The directory holding initdb and pg_ctl: $PG_BIN, Debian's newest /usr/lib/postgresql/N/bin, or one on PATH.
 *
 * # Errors
 * Throws, naming `apt-get install postgresql`, when there is none.
 */
export function serverBinaries(
  search: BinarySearch = { pgBin: process.env.PG_BIN, versionRoots: ["/usr/lib/postgresql"], path: process.env.PATH },
): string {
  const versions = (search.versionRoots ?? []).flatMap((root) =>
    existsSync(root)
      ? readdirSync(root)
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => join(root, v, "bin"))
      : [],
  );
  const candidates = [search.pgBin, ...versions, ...(search.path ?? "").split(delimiter)];
  const dir = candidates.find((d) => d && existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")));
  if (!dir) {
    throw new Error(
      "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql (Debian), or set PG_BIN " +
        "to the directory holding them. The Postgres end-to-end CDC test needs a real server.",
    );
  }
  return dir;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startCluster(): Promise<Cluster> {
  const bin = serverBinaries();
  const dir = await mkdtemp(join(tmpdir(), "uni-pg-"));
  const data = join(dir, "data");
  // initdb refuses to run as root: as root, the cluster belongs to the `postgres` system user.
  const asRoot = process.getuid?.() === 0;
  const as = async (command: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, command), ...args]]
      : [join(bin, command), args];
    return await run(file, argv, { cwd: dir });
  };
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const uid = Number(stdout.trim());
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, uid, Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  const port = await freePort();
  await as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  await appendFile(
    join(data, "postgresql.conf"),
    [
      "wal_level = logical",
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "max_replication_slots = 8",
      "max_wal_senders = 8",
      "fsync = off", // a throwaway cluster; the test kills the CDC host, never the server
      "timezone = 'UTC'",
      "",
    ].join("\n"),
  );
  await as("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"]);
  return {
    port,
    config: (database = "postgres") => ({ host: "127.0.0.1", port, user: "postgres", database }),
    async stop() {
      await as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
