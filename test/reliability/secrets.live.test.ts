import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { ADDON_LABEL } from "../../components/addon";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { paths } from "../../toolchain/paths";
import { containersWith } from "../support/harness";
import { CliProject, cliProject, CliResult, envOf, TINY_APP, tinyStack, webDyno } from "../support/cli";
import { describeLive } from "../support/engines";
import { filesUnder, readPresent } from "../support/files";

// Secrets never appear in plain text: add-on passwords (generated), a config var generated from
// app.json (`generator: "secret"`) and a secret config var set with `config:set --secret` (two
// values: the first and the one that replaced it) are grepped for, in several encodings, in the
// file backend's state, the stack file, every command's output, `logs`, and the tool's and
// Pulumi's own logs and files. `config:get` is the one command that prints a secret: asking for
// it is the reveal. The state's secrets are checked to be ciphertext under the stack's passphrase.

/** Pulumi's marker of a secret value in state (`sig.Secret`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";
const TOKEN_1 = `tok1-${crypto.randomBytes(12).toString("hex")}`;
const TOKEN_2 = `tok2-${crypto.randomBytes(12).toString("hex")}`;

let project: CliProject;
let stack: string;
let startedMs = 0;
/** Sizes of the tool's log files when the test started: only what this test's run appended is read. */
const logOffsets = new Map<string, number>();
/** Every command's output, to grep at the end. */
const printed: Array<{ args: string[]; out: string; ms: number }> = [];
/** name -> value of every secret the deploy holds. */
const secrets = new Map<string, string>();

async function ok(...args: string[]): Promise<CliResult> {
    const t0 = Date.now();
    const r = await project.cli([...args, "--stack", stack]);
    printed.push({ args, out: `${r.stdout}\n${r.stderr}`, ms: Date.now() - t0 });
    assert.equal(r.code, 0, `dynoform ${args.join(" ")}:\n${r.stderr}`);
    return r;
}

/** Pulumi's passphrase secrets provider: PBKDF2-SHA256 (1,000,000 rounds) key, AES-256-GCM `v1:nonce:ciphertext`. */
function passphraseKey(passphrase: string, encryptionSalt: string): Buffer {
    const [version, salt] = encryptionSalt.split(":");
    assert.equal(version, "v1", `encryptionsalt format: ${encryptionSalt}`);
    return crypto.pbkdf2Sync(passphrase, Buffer.from(salt, "base64"), 1_000_000, 32, "sha256");
}

function decrypt(key: Buffer, ciphertext: string): string {
    const [version, nonce, data] = ciphertext.split(":");
    assert.equal(version, "v1");
    const bytes = Buffer.from(data, "base64");
    const d = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
    d.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([d.update(bytes.subarray(0, bytes.length - 16)), d.final()]).toString("utf8");
}

/** A secret envelope as state holds it: `{ "<sig>": "<secret sig>", "ciphertext": "v1:..." }`. */
function envelope(v: unknown): string {
    const o = v as Record<string, unknown>;
    assert.ok(o && typeof o === "object", `expected a secret envelope, got ${typeof v}`);
    assert.equal(o[SECRET_SIG], SECRET_SIG_VALUE, "secret signature");
    assert.equal(typeof o.ciphertext, "string", "ciphertext, not plaintext");
    assert.ok(!("plaintext" in o), "no plaintext field");
    return o.ciphertext as string;
}

describeLive("secrets appear nowhere in plain text", { concurrency: false }, () => {
    before(async () => {
        startedMs = Date.now() - 1000;
        for (const f of filesUnder(paths.logs())) logOffsets.set(f, fs.statSync(f).size);
        project = await cliProject("secrets", {
            files: {
                ...TINY_APP,
                "app.json": JSON.stringify({
                    name: "tiny",
                    addons: ["heroku-postgresql", "heroku-redis"],
                    env: { SESSION_SECRET: { generator: "secret" } },
                }),
            },
        });
        stack = project.stackName("s");
        project.writeStack(stack, await tinyStack());
    });
    after(async () => {
        const workspaces = path.join(paths.pulumiHome(), "workspaces");
        await project?.cleanup();
        // Pulumi's per-project workspace file of this temp project (PULUMI_HOME/workspaces/secrets-<hash>-workspace.json).
        for (const f of filesUnder(workspaces, (f, st) => path.basename(f).startsWith("secrets-") && st.mtimeMs >= startedMs)) fs.rmSync(f, { force: true });
    });

    test("deploy with Postgres, Redis, a generated config secret and a secret config var; change the secret", async (t) => {
        await ok("config:set", "--secret", "--no-up", `API_TOKEN=${TOKEN_1}`);
        const file = YAML.parse(project.readStack(stack)) as { config: Record<string, unknown>; encryptionsalt?: string };
        assert.match(String(file.encryptionsalt), /^v1:[A-Za-z0-9+/=]+:v1:/, "the stack has a passphrase salt");
        const secure = (file.config["dynoform:secrets"] as Record<string, { secure?: string }> | undefined)?.API_TOKEN?.secure;
        assert.match(String(secure), /^v1:/, "the secret config var is encrypted in the stack file");

        await ok("preview");
        await ok("up", "--yes");

        const docker = connectDocker();
        const addons = (await containersWith({ [LABEL.stack]: stack })).filter((c) => c.Labels[ADDON_LABEL] && c.State === "running");
        assert.deepEqual(addons.map((c) => c.Labels[ADDON_LABEL]).sort(), ["postgres", "redis"]);
        for (const c of addons) {
            const env = envOf(await docker.getContainer(c.Id).inspect());
            const [name, value] = c.Labels[ADDON_LABEL] === "postgres" ? ["postgres password", env.POSTGRES_PASSWORD] : ["redis password", env.REDIS_PASSWORD];
            assert.ok(value && value.length >= 32, `${name} is set in the add-on container`);
            secrets.set(name, value);
        }
        let dyno = envOf((await webDyno(stack))!);
        assert.ok(dyno.DATABASE_URL.includes(`:${encodeURIComponent(secrets.get("postgres password")!)}@`), "DATABASE_URL carries the postgres password");
        assert.ok(dyno.REDIS_URL.includes(`:${encodeURIComponent(secrets.get("redis password")!)}@`), "REDIS_URL carries the redis password");
        assert.ok(dyno.SESSION_SECRET && dyno.SESSION_SECRET.length >= 32, "SESSION_SECRET generated");
        assert.ok(dyno.API_TOKEN === TOKEN_1, "the dyno runs with API_TOKEN's first value");
        secrets.set("DATABASE_URL", dyno.DATABASE_URL);
        secrets.set("REDIS_URL", dyno.REDIS_URL);
        secrets.set("SESSION_SECRET (generated)", dyno.SESSION_SECRET);
        secrets.set("API_TOKEN first value", TOKEN_1);

        // A secret change: the preview names the key, the deploy rolls the dyno with the new value.
        await ok("config:set", "--secret", "--no-up", `API_TOKEN=${TOKEN_2}`);
        const preview = await ok("preview");
        assert.match(preview.stdout + preview.stderr, /Config: 1 changed \(API_TOKEN\)/);
        await ok("up", "--yes");
        dyno = envOf((await webDyno(stack))!);
        assert.ok(dyno.API_TOKEN === TOKEN_2, "the dyno runs with API_TOKEN's second value");
        secrets.set("API_TOKEN second value", TOKEN_2);
        assert.equal(secrets.size, 7);
    });

    test("every read command runs; config shows the secret masked and config:get reveals it", async (t) => {
        assert.equal(secrets.size, 7, "the deploy ran");
        await fetch(`http://127.0.0.1:${YAML.parse(project.readStack(stack)).config["dynoform:routerPort"]}/`).then((r) => r.text());
        await ok("refresh");
        // Read-only commands, a few at a time (they take no lock; this keeps the file's wall time down).
        const reads = [
            ["preview", "--json"], ["ps"], ["ps", "--json"], ["config"], ["config", "--json"], ["releases"], ["releases", "--json"],
            ["releases:info", "v1"], ["releases:info", "--json"], ["addons"], ["addons", "--json"], ["addons:info", "postgres"],
            ["addons:info", "redis", "--json"], ["logs", "-n", "1000"], ["logs", "--json", "-n", "1000"],
        ];
        const results = new Map<string, CliResult>();
        for (let i = 0; i < reads.length; i += 4) {
            await Promise.all(reads.slice(i, i + 4).map(async (args) => results.set(args.join(" "), await ok(...args))));
        }
        assert.match(results.get("config")!.stdout, /^API_TOKEN: +\*{8} \(secret\)$/m, "masked in `config`");
        assert.equal(JSON.parse(results.get("config --json")!.stdout).API_TOKEN, "********", "masked in `config --json`");
        assert.match(results.get("addons:info postgres")!.stdout, /^URL: +postgres:\/\/app:\*{8}@postgres:5432\/app$/m, "URL masked");
        const logs = results.get("logs -n 1000")!;
        assert.match(logs.stdout, /app\[web\.1\]: listening on/, "the log stream was read");
        assert.match(logs.stdout, /addon\[postgres\]/, "add-on logs included");
        // The one place a secret is shown: asked for by name.
        const get = await ok("config:get", "API_TOKEN");
        assert.ok(get.stdout.trim() === TOKEN_2, "config:get prints the secret (the reveal)");
    });

    test("the state holds the secrets as ciphertext under the stack's passphrase", async (t) => {
        assert.equal(secrets.size, 7, "the deploy ran");
        const salt = String(YAML.parse(project.readStack(stack)).encryptionsalt);
        const stateFiles = filesUnder(path.join(project.dir, "state", ".pulumi", "stacks")).filter((f) => path.basename(f) === `${stack}.json`);
        assert.equal(stateFiles.length, 1, `one checkpoint for the stack; state holds ${filesUnder(path.join(project.dir, "state")).map((f) => path.relative(project.dir, f)).join(", ")}`);
        const checkpoint = JSON.parse(fs.readFileSync(stateFiles[0], "utf8")).checkpoint;
        const latest = checkpoint.latest as {
            secrets_providers: { type: string; state: { salt: string } };
            resources: Array<{ urn: string; type: string; outputs?: Record<string, unknown>; inputs?: Record<string, unknown> }>;
        };
        assert.equal(latest.secrets_providers.type, "passphrase");
        assert.equal(latest.secrets_providers.state.salt, salt, "state and stack file share the passphrase salt");
        const key = passphraseKey(project.env.PULUMI_CONFIG_PASSPHRASE, salt);
        const byUrn = (suffix: string) => {
            const r = latest.resources.find((x) => x.urn.endsWith(suffix));
            assert.ok(r, `resource ${suffix} in state`);
            return r;
        };
        const same = (a: unknown, b: unknown, what: string) => assert.ok(a === b, what); // values never printed
        same(JSON.parse(decrypt(key, envelope(byUrn("::tiny-postgres-password").outputs!.value))), secrets.get("postgres password"), "postgres password decrypts");
        same(JSON.parse(decrypt(key, envelope(byUrn("::tiny-redis-password").outputs!.value))), secrets.get("redis password"), "redis password decrypts");
        same(JSON.parse(decrypt(key, envelope(byUrn("::tiny-config-session-secret").outputs!.value))), secrets.get("SESSION_SECRET (generated)"), "SESSION_SECRET decrypts");
        const web = latest.resources.filter((x) => x.urn.endsWith("::tiny-web-1"));
        assert.equal(web.length, 1, `web.1 in state: ${latest.resources.map((x) => x.urn.split("::").pop()).join(", ")}`);
        for (const side of ["inputs", "outputs"] as const) {
            const env = JSON.parse(decrypt(key, envelope(web[0][side]!.env))) as Record<string, string>;
            same(env.API_TOKEN, TOKEN_2, `web.1 ${side}.env decrypts to the dyno's env`);
        }
        const app = latest.resources.find((x) => x.type === "dynoform:index:App");
        assert.ok(app);
        for (const k of ["config", "attachments", "configSnapshots"]) envelope(app.outputs?.[k]);
        const stackOutputs = latest.resources.find((x) => x.type === "pulumi:pulumi:Stack")?.outputs ?? {};
        for (const [k, v] of Object.entries(stackOutputs)) {
            if (["config", "attachments", "configSnapshots"].includes(k)) envelope(v);
        }
        assert.throws(() => decrypt(passphraseKey("not-the-passphrase", salt), envelope(byUrn("::tiny-postgres-password").outputs!.value)), "a wrong passphrase does not decrypt");
    });

    test("no secret in state, stack file, command output, logs, or the tool's and Pulumi's files", async (t) => {
        assert.equal(secrets.size, 7, "the deploy ran");
        const needles: Array<{ secret: string; form: string; bytes: Buffer }> = [];
        for (const [name, value] of secrets) {
            const forms: Record<string, string> = {
                plain: value,
                base64: Buffer.from(value).toString("base64"),
                base64url: Buffer.from(value).toString("base64url"),
                "url-encoded": encodeURIComponent(value),
            };
            for (const [form, s] of Object.entries(forms)) needles.push({ secret: name, form, bytes: Buffer.from(s) });
        }
        const places: Array<{ place: string; bytes: Buffer }> = [];
        // Command output (config:get excepted: it is the reveal).
        const shown = (args: string[]) => args.map((a) => a.replace(/=.*/, "=<secret>")).join(" "); // never print a value
        process.stdout.write(`# command times: ${printed.map((p) => `${shown(p.args)} ${(p.ms / 1000).toFixed(1)} s`).join("; ")}\n`);
        assert.ok(printed.length >= 23, `${printed.length} commands recorded`);
        for (const p of printed) if (p.args[0] !== "config:get") places.push({ place: `dynoform ${p.args.join(" ")}`, bytes: Buffer.from(p.out) });
        // The project: file backend state (checkpoints, history, backups, locks), stack file, Pulumi.yaml.
        const appDir = path.join(project.dir, "app");
        const projectFiles = filesUnder(project.dir, () => true, (d) => d === appDir);
        const stateFiles = projectFiles.filter((f) => f.startsWith(path.join(project.dir, "state") + path.sep));
        assert.ok(stateFiles.some((f) => f.endsWith(`${stack}.json`)) && stateFiles.some((f) => f.includes(`${path.sep}history${path.sep}`)), "checkpoint and history grepped");
        for (const { file, bytes } of readPresent(projectFiles)) places.push({ place: path.relative(project.dir, file), bytes });
        // The tool's logs (~/.dynoform/logs): what was appended during this test.
        for (const f of filesUnder(paths.logs())) {
            const from = logOffsets.get(f) ?? 0;
            const all = fs.readFileSync(f);
            places.push({ place: `${f} (+${all.length - from} bytes)`, bytes: all.subarray(Math.min(from, all.length)) });
        }
        // PULUMI_HOME as the tool sets it (workspace files, plugins, logs if any): files written during the test.
        const pulumiHome = process.env.PULUMI_HOME || paths.pulumiHome();
        const homeFiles = filesUnder(pulumiHome, (_f, st) => st.mtimeMs >= startedMs && st.size < 50e6);
        for (const { file, bytes } of readPresent(homeFiles)) places.push({ place: file, bytes });
        // The temp folder: Pulumi's own logs (glog writes pulumi.* there only when verbose), anything else written meanwhile.
        // (Engine events reach the CLI over gRPC on 127.0.0.1 with Pulumi > 3.205: no event log file is written.)
        const tmpFiles = filesUnder(
            os.tmpdir(),
            (f, st) => st.mtimeMs >= startedMs && st.size < 20e6,
            (d) => d === project.dir || /^(bash_jobs|bash_tool)/.test(path.basename(d)) || path.basename(d) === "node_modules" || d.startsWith("/proc"),
        );
        for (const { file, bytes } of readPresent(tmpFiles)) places.push({ place: file, bytes });
        const hits: string[] = [];
        for (const p of places) {
            for (const n of needles) if (p.bytes.includes(n.bytes)) hits.push(`${n.secret} (${n.form}) in ${p.place}`);
        }
        // glog files (pulumi.<host>.<user>.log.*, written with -v) and the Automation API's event logs.
        const pulumiLogs = tmpFiles.filter((f) => /^pulumi.*\.log/.test(path.basename(f)) || /automation-logs/.test(f));
        process.stdout.write(
            `# secret grep: ${places.length} places (${printed.length - 1} command outputs, ${projectFiles.length} project files of which ${stateFiles.length} state files, ` +
                `${logOffsets.size} tool logs, ${homeFiles.length} PULUMI_HOME files, ${tmpFiles.length} temp files` +
                `${pulumiLogs.length ? ` incl. ${pulumiLogs.length} pulumi logs` : ""}) x ${secrets.size} secrets x ${needles.length / secrets.size} forms: ${hits.length} hits\n`,
        );
        assert.deepEqual(hits, [], "no secret in plain text anywhere but config:get");
    });
});
