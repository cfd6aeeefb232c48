import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { dynoformHome } from "./paths";
import { Reporter } from "./report";

/**
 * The passphrase Dynoform used before it generated one per machine: public, so stacks whose
 * secrets it encrypted are opened with it (and a warning) until they are moved off it.
 */
export const LEGACY_PASSPHRASE = "dynoform-local-dev";

/** Where this machine's generated passphrase lives (mode 0600). */
export function passphraseFile(): string {
    return path.join(dynoformHome(), "passphrase");
}

/**
 * This machine's passphrase for stack secrets: read from {@link passphraseFile}, or generated
 * there on first use (32 random bytes, mode 0600 in a 0700 folder) and reported once with where
 * it lives. Used only when neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set.
 */
export function machinePassphrase(report: Reporter): string {
    const file = passphraseFile();
    try {
        return fs.readFileSync(file, "utf8").trim();
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const phrase = crypto.randomBytes(32).toString("base64url");
    try {
        fs.writeFileSync(file, `${phrase}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
        // Another command generated it first: theirs is the machine's.
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return fs.readFileSync(file, "utf8").trim();
        throw err;
    }
    report(
        `generated this machine's passphrase for stack secrets in ${file} (mode 0600): back it up; ` +
            `stacks whose secrets it encrypts cannot be opened without it (CI and other machines set PULUMI_CONFIG_PASSPHRASE)`,
    );
    return phrase;
}

/**
 * Whether `passphrase` opens a stack whose passphrase secrets manager state (the stack file's
 * `encryptionsalt`) is `salt`: as Pulumi checks it, the AES-256-GCM ciphertext of "pulumi" under
 * a key from PBKDF2-SHA256 (1,000,000 rounds) of the passphrase and the salt. Pure (and slow: ~1 s).
 */
export function passphraseOpens(passphrase: string, salt: string): boolean {
    const m = /^v1:([^:]+):v1:([^:]+):([^:]+)$/.exec(salt.trim());
    if (!m) return false;
    const key = crypto.pbkdf2Sync(Buffer.from(passphrase, "utf8"), Buffer.from(m[1], "base64"), 1_000_000, 32, "sha256");
    const sealed = Buffer.from(m[3], "base64");
    try {
        const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(m[2], "base64"));
        decipher.setAuthTag(sealed.subarray(sealed.length - 16));
        const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
        return plain.toString("utf8") === "pulumi";
    } catch {
        return false;
    }
}

/** The `encryptionsalt` of a stack file, or undefined (no file, or no passphrase secrets yet). */
export function stackEncryptionSalt(stackFile: string): string | undefined {
    try {
        return /^encryptionsalt:\s*["']?([^"'\s]+)/m.exec(fs.readFileSync(stackFile, "utf8"))?.[1];
    } catch {
        return undefined;
    }
}

/** Which passphrase opened each salt (salts are not secret), so the slow check runs once per stack. */
function saltCacheFile(): string {
    return path.join(dynoformHome(), "passphrase-salts.json");
}

/** Records which passphrase opens a salt. */
function remember(salt: string, which: "machine" | "legacy"): void {
    let cache: Record<string, "machine" | "legacy"> = {};
    try {
        cache = JSON.parse(fs.readFileSync(saltCacheFile(), "utf8"));
    } catch {
        // No cache yet.
    }
    cache[salt] = which;
    fs.writeFileSync(saltCacheFile(), JSON.stringify(cache), { mode: 0o600 });
}

/** Which passphrase opens `salt`: this machine's, the old constant, or neither; cached. */
function whichOpens(machine: string, salt: string): "machine" | "legacy" | undefined {
    try {
        const cached = JSON.parse(fs.readFileSync(saltCacheFile(), "utf8"))[salt];
        if (cached === "machine" || cached === "legacy") return cached;
    } catch {
        // No cache yet.
    }
    const which = passphraseOpens(machine, salt) ? "machine" : passphraseOpens(LEGACY_PASSPHRASE, salt) ? "legacy" : undefined;
    if (which) remember(salt, which);
    return which;
}

/**
 * The passphrase for one stack when none is set in the environment: this machine's, unless the
 * stack's salt opens only with {@link LEGACY_PASSPHRASE} (a stack made before passphrases were
 * generated). Such a stack is re-encrypted with this machine's passphrase by Pulumi's own
 * `stack change-secrets-provider` (config and state; the new passphrase read from stdin, as
 * Pulumi does when not interactive); if that fails, it is opened with the old one and a warning.
 */
export function stackPassphrase(
    stack: { file: string; name: string; projectDir: string } | undefined,
    pulumi: { bin: string; env: Record<string, string> },
    report: Reporter,
): string {
    const machine = machinePassphrase(report);
    const salt = stack && stackEncryptionSalt(stack.file);
    if (!stack || !salt) return machine;
    const opens = whichOpens(machine, salt);
    if (opens === undefined && dropForeignSalt(stack, pulumi.env.PULUMI_BACKEND_URL, report)) return machine;
    if (opens !== "legacy") return machine;
    // One answer per stack and process: a command opens its stack more than once, and a
    // re-encryption between two opens would leave the first with the wrong passphrase.
    const decided = decidedThisRun.get(stack.file);
    if (decided !== undefined) return decided;
    const chosen = reEncrypt(stack, salt, machine, pulumi, report);
    decidedThisRun.set(stack.file, chosen);
    return chosen;
}

/**
 * A stack file cloned with another machine's `encryptionsalt` (committed after a teammate's
 * first `up`) opens with no passphrase here, though it encrypts nothing yet. When the file holds
 * no `secure:` value and the local (`file://`) backend has no such stack, the salt is taken out
 * (the rest of the file kept as it is) and Pulumi makes one under this machine's passphrase. Else
 * nothing changes, and Pulumi says the passphrase is wrong. True when the salt was taken out.
 */
export function dropForeignSalt(stack: { file: string; name: string }, backend: string | undefined, report: Reporter): boolean {
    const text = fs.readFileSync(stack.file, "utf8");
    if (/^\s*secure:/m.test(text) || !backend?.startsWith("file://")) return false;
    const stacks = path.join(backend.slice("file://".length), ".pulumi", "stacks");
    const inState = (dir: string) => ["", ".gz"].some((gz) => fs.existsSync(path.join(dir, `${stack.name}.json${gz}`)));
    const projects = fs.existsSync(stacks) ? fs.readdirSync(stacks, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
    if (inState(stacks) || projects.some((p) => inState(path.join(stacks, p.name)))) return false;
    fs.writeFileSync(stack.file, text.replace(/^encryptionsalt:.*\n?/m, ""));
    report(
        `${path.basename(stack.file)}: its encryptionsalt was made under another machine's passphrase, and the stack holds no secret and ` +
            `has no state here: taken out, so this machine's passphrase makes a new one (to share secrets, share PULUMI_CONFIG_PASSPHRASE)`,
    );
    return true;
}

/** What {@link stackPassphrase} chose for each legacy stack file in this process. */
const decidedThisRun = new Map<string, string>();

/** Re-encrypts a legacy stack with this machine's passphrase; the old one when that fails. */
function reEncrypt(
    stack: { file: string; name: string; projectDir: string },
    salt: string,
    machine: string,
    pulumi: { bin: string; env: Record<string, string> },
    report: Reporter,
): string {
    try {
        execFileSync(pulumi.bin, ["stack", "change-secrets-provider", "passphrase", "--stack", stack.name, "--non-interactive"], {
            cwd: stack.projectDir,
            env: { ...process.env, ...pulumi.env, PULUMI_CONFIG_PASSPHRASE: LEGACY_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE_FILE: "" },
            input: `${machine}\n`,
            stdio: ["pipe", "pipe", "pipe"],
        });
        const now = stackEncryptionSalt(stack.file);
        if (now && now !== salt) remember(now, "machine");
        report(
            `stack ${stack.name}'s secrets were encrypted with the old public default passphrase (${LEGACY_PASSPHRASE}): ` +
                `re-encrypted (stack file and state) with this machine's passphrase (${passphraseFile()}); ` +
                `anyone else opening this stack file now needs it as PULUMI_CONFIG_PASSPHRASE`,
        );
        return machine;
    } catch (err) {
        const said = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split("\n").pop();
        report(
            `stack ${stack.name}'s secrets are encrypted with the old public default passphrase (${LEGACY_PASSPHRASE}) and could not be ` +
                `re-encrypted (${said}): opened with it, but anyone with the stack file can decrypt them`,
        );
        return LEGACY_PASSPHRASE;
    }
}
