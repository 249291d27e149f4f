/**
 * Node-only adapter behind `#key-files` (see sdk/keys/files.ts): files written atomically, the environment, and a
 * passphrase prompt on the terminal without echo. It knows no key format; sdk/keys turns its failures into errors
 * that name the cause.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { Writable } from "node:stream";
import { createInterface } from "node:readline";

/** Hooks for tests: `beforeRename` runs after the temp file is complete and synced, before it replaces the target. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => void;
}

/** How {@link writeFileAtomic} writes. */
export interface AtomicWriteOptions extends AtomicWriteHooks {
  /**
   * Fail with an `EEXIST` error if `path` exists, instead of replacing it. Checked atomically: the complete temp file
   * is hard-linked to `path`, which the file system refuses when `path` exists (no check-then-write race).
   */
  exclusive?: boolean;
}

/**
 * Replaces `path` with `data` atomically: writes a temp file next to it (mode 0600), fsyncs it, renames (or, with
 * `exclusive`, links) it to `path` and fsyncs the directory. If anything fails before that, `path` is untouched and
 * the temp file removed; a reader sees the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, data: string, options: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const fd = openSync(temp, "wx", 0o600);
    try {
      const bytes = Buffer.from(data, "utf8");
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    options.beforeRename?.(temp);
    if (options.exclusive) {
      linkSync(temp, path);
      rmSync(temp, { force: true });
    } else {
      renameSync(temp, path);
    }
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  // Make the rename itself durable (not supported on every platform: best effort).
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directories cannot be opened for fsync on some platforms */
  }
}

/** The text of the file at `path` (UTF-8); Node's error (with its `code`, e.g. `ENOENT`) if it cannot be read. */
export function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

/** The environment variable `name`, or undefined when it is unset or empty. */
export function environment(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Whether a person can be asked: standard input is a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

/**
 * Asks each of `questions` in turn on standard error and reads one line per question from the terminal without
 * echoing it (readline writes what is typed to an output that drops it; one interface for all, so a line typed ahead
 * is not lost). Resolves undefined when standard input is not a terminal; rejects on Ctrl-C or end of input.
 */
export function promptHidden(questions: readonly string[]): Promise<string[] | undefined> {
  if (!canPrompt()) return Promise.resolve(undefined);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  const answers: string[] = [];
  return new Promise((resolve, reject) => {
    process.stderr.write(questions[0] ?? "");
    rl.on("line", (line) => {
      process.stderr.write("\n");
      answers.push(line);
      if (answers.length < questions.length) process.stderr.write(questions[answers.length]!);
      else rl.close();
    });
    rl.once("SIGINT", () => rl.close());
    rl.once("close", () => {
      if (answers.length === questions.length) return resolve(answers);
      process.stderr.write("\n");
      reject(new Error("no passphrase entered (input closed or interrupted)"));
    });
  });
}
