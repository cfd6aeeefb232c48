import type { StackSettings } from "../infra/settings";
import { ensureDockerEngine } from "../toolchain/docker-engine";
import { silentReporter } from "../toolchain/report";
import { appCerts, CertStatus, checkEdge, onEdge, shownStackFile } from "./edge";
import { GlobalOptions } from "./options";
import { checkStack, projectDir } from "./project";
import { readStackFile } from "./stack-settings";

// What the edge commands (domains, certs, maintenance) share: the stack they work on, the
// app's certificates, and one way to answer in text or JSON.

/** The project, stack and stack file settings an edge command works on. */
export interface EdgeStack {
    dir: string;
    stack: string;
    settings: StackSettings;
    /** The stack file as messages show it. */
    shown: string;
}

/** Reads the stack an edge command names (`--stack`, `--cwd`): its file must exist and parse. */
export function readEdgeStack(argv: GlobalOptions): EdgeStack {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const { settings } = readStackFile(dir, argv.stack);
    return { dir, stack: argv.stack, settings, shown: shownStackFile(dir, argv.stack) };
}

/**
 * What a command that changes the edge does before any change: checks the stack's edge settings
 * and domains (one line naming the file, exit 2), then makes sure the Docker engine answers.
 */
export async function beforeEdgeChange(s: EdgeStack): Promise<void> {
    checkEdge(s.dir, s.stack, s.settings);
    await ensureDockerEngine(silentReporter);
}

/** The certificate of each of the app's domains; none for an app that is not on the edge router. */
export async function domainCerts(settings: StackSettings): Promise<CertStatus[]> {
    return onEdge(settings) ? appCerts(settings.domains ?? []) : [];
}

/**
 * Reads the certificates of `domains` from the edge volume until `done` says so, or `seconds`
 * have passed; the last ones read. Caddy stores a certificate as soon as the CA issues it.
 */
export async function untilCerts(domains: string[], seconds: number, done: (certs: CertStatus[]) => boolean): Promise<CertStatus[]> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const certs = await appCerts(domains);
        if (done(certs) || Date.now() >= deadline) return certs;
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** Answers a command: `json` (indented) with `--json`, else the lines of text. */
export function answer(argv: Pick<GlobalOptions, "json">, json: unknown, text: string | string[]): void {
    const lines = typeof text === "string" ? [text] : text;
    process.stdout.write(argv.json ? JSON.stringify(json, null, 2) + "\n" : lines.map((l) => l + "\n").join(""));
}
