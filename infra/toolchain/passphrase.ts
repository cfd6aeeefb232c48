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

const warned = new Set<string>();

/**
 * The passphrase for one stack when none is set in the environment: this machine's, unless the
 * stack's salt opens only with {@link LEGACY_PASSPHRASE} (a stack made before passphrases were
 * generated); then the old one, with a warning that names the stack and how to move it off.
 */
export function stackPassphrase(stackFile: string, stack: string, report: Reporter): string {
    const machine = machinePassphrase(report);
    const salt = stackEncryptionSalt(stackFile);
    if (!salt) return machine;
    let cache: Record<string, "machine" | "legacy"> = {};
    try {
        cache = JSON.parse(fs.readFileSync(saltCacheFile(), "utf8"));
    } catch {
        // No cache yet.
    }
    let which = cache[salt];
    if (!which) {
        if (passphraseOpens(machine, salt)) which = "machine";
        else if (passphraseOpens(LEGACY_PASSPHRASE, salt)) which = "legacy";
        else return machine; // neither: Pulumi says the passphrase is wrong
        cache[salt] = which;
        fs.writeFileSync(saltCacheFile(), JSON.stringify(cache), { mode: 0o600 });
    }
    if (which === "machine") return machine;
    if (!warned.has(stack)) {
        warned.add(stack);
        report(
            `stack ${stack}'s secrets are encrypted with the old public default passphrase (${LEGACY_PASSPHRASE}): ` +
                `opened with it, but anyone with the stack file can decrypt them (this machine's passphrase is used for new stacks)`,
        );
    }
    return LEGACY_PASSPHRASE;
}
