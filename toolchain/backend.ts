import * as fs from "fs";
import * as path from "path";
import { dynoformHome, paths } from "./paths";
import { stackPassphrase } from "./passphrase";
import { consoleReporter } from "./report";

/**
 * Environment for the Pulumi CLI: an embedded `file://` state backend under DYNOFORM_HOME
 * (PULUMI_BACKEND_URL overrides it), a passphrase secrets provider (PULUMI_CONFIG_PASSPHRASE
 * or PULUMI_CONFIG_PASSPHRASE_FILE, else this machine's generated passphrase: see
 * `stackPassphrase`), no update checks and no plugin downloads, and the toolchain's bin folder
 * first on PATH. State folders are made 0700.
 */
export function pulumiEnvironment(binDir: string, stack?: { file: string; name: string; projectDir: string }): Record<string, string> {
    const backend = process.env.PULUMI_BACKEND_URL || `file://${paths.state()}`;
    if (backend.startsWith("file://")) {
        fs.mkdirSync(backend.slice("file://".length), { recursive: true, mode: 0o700 });
    }
    fs.mkdirSync(paths.pulumiHome(), { recursive: true, mode: 0o700 });
    // Made before Dynoform generated passphrases with the default mode (0755): the user's alone now.
    fs.chmodSync(dynoformHome(), 0o700);
    const env: Record<string, string> = {
        PULUMI_BACKEND_URL: backend,
        PULUMI_HOME: process.env.PULUMI_HOME || paths.pulumiHome(),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        PATH: [binDir, process.env.PATH ?? ""].join(path.delimiter),
        // The engine's Go heap grows to twice what it holds before it collects (GOGC=100); at 1.5x,
        // its share of the 30-dyno `up` in bench/cmdpath.ts went from 126-128 to 114-116 MiB
        // (process tree 298-300 to 287-291 MiB), for about 0.1 CPU-s more per `ps:scale`.
        GOGC: process.env.GOGC || "50",
    };
    if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        env.PULUMI_CONFIG_PASSPHRASE = stackPassphrase(stack, { bin: path.join(binDir, "pulumi"), env }, consoleReporter);
    }
    return env;
}

/**
 * Makes a local (`file://`) state backend the user's alone: folders 0700, files 0600. Pulumi
 * creates them with the default umask (0644 / 0755); the root folder is 0700 from the start,
 * so nothing in it is readable by others even in between. Does nothing for other backends.
 */
export function restrictLocalState(backend = process.env.PULUMI_BACKEND_URL || `file://${paths.state()}`): void {
    if (!backend.startsWith("file://")) return;
    const walk = (p: string) => {
        let st: fs.Stats;
        try {
            st = fs.lstatSync(p);
        } catch {
            return;
        }
        if (st.isSymbolicLink()) return;
        const want = st.isDirectory() ? 0o700 : 0o600;
        if ((st.mode & 0o777) !== want) {
            try {
                fs.chmodSync(p, want);
            } catch {
                return; // not ours: left as it is
            }
        }
        if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    };
    walk(backend.slice("file://".length).replace(/\?.*$/, ""));
}
