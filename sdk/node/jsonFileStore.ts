/**
 * Node-only adapter: a JSON document in a file, replaced atomically (write a temporary file next to it, fsync,
 * rename), so a crash leaves the old copy or the new one, never half of one. It is a `SyncStore` for
 * sdk/actors/sync.ts (structurally: this layer imports no SDK module).
 */
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** Loads and atomically saves one JSON value at `path`. */
export class JsonFileStore {
  readonly path: string;

  /** @param path the file (its directory is created on the first save) */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * The saved value, or `undefined` if the file does not exist.
   * @throws Error naming the file when it is not valid JSON (truncated or damaged)
   */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`${this.path} is not valid JSON (truncated or damaged): ${(e as Error).message}`, { cause: e });
    }
  }

  /** Replaces the file's content with `value` as JSON, atomically. */
  async save(value: unknown): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(JSON.stringify(value));
      await file.sync();
    } catch (e) {
      await file.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await file.close();
    await rename(tmp, this.path);
  }
}
