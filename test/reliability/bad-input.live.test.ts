import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { containersWith } from "../support/harness";
import { CliProject, cliProject, CliResult, TINY_APP, tinyStack } from "../support/cli";
import { describeLive } from "../support/engines";

// Malformed input through the real CLI, against one deployed app: every row must exit non-zero
// with one line naming the field (and the file and line for files), before anything runs, and
// leave every container, the Pulumi state and the stack file exactly as they were.

type Category = "Procfile" | "app.json" | "formation" | "dyno size" | "add-on" | "config var" | "stack name" | "CLI flags" | "stack file";

interface Row {
    category: Category;
    what: string;
    /** Files to write under the project folder (`app/Procfile`); null deletes the file. */
    files?: Record<string, string | null>;
    /** The stack file's `dynoform:*` settings as the row writes them (from the good ones), or raw text. */
    stack?: (good: Record<string, unknown>) => Record<string, unknown> | string;
    args: string[];
    /** `--stack <the app's stack>` is appended unless the row passes its own. */
    ownStack?: boolean;
    /** The specific line expected on stderr (after `dynoform: `). */
    expect: RegExp;
    /** 2 (usage) unless said otherwise. */
    code?: number;
}

const UP = ["up", "--yes"];
const PREVIEW = ["preview"];
const PROCFILE = "app/Procfile";
const APP_JSON = "app/app.json";
const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
const NO_DEFAULT = { "app/package.json": '{ "name": "tiny" }\n', "app/server.js": null };
const appJsonRow = (what: string, body: unknown, expect: RegExp, args = UP): Row => ({
    category: "app.json",
    what,
    files: { [APP_JSON]: typeof body === "string" ? body : json(body) },
    args,
    expect,
});
const withSettings = (change: Record<string, unknown>) => (good: Record<string, unknown>) => ({ ...good, ...change });
const without = (key: string) => (good: Record<string, unknown>) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== key));

const ROWS: Row[] = [
    // Procfile
    { category: "Procfile", what: "a space in the process type name", files: { [PROCFILE]: "web server: node server.js\n" }, args: UP, expect: /app\/Procfile:1: `Procfile line 1`: process type name "web server" contains " "/ },
    { category: "Procfile", what: "an empty command", files: { [PROCFILE]: "web:\n" }, args: UP, expect: /app\/Procfile:1: `Procfile\.web`: process type "web" has an empty command/ },
    { category: "Procfile", what: "a duplicate process type", files: { [PROCFILE]: "web: node server.js\n\nweb: node other.js\n" }, args: UP, expect: /app\/Procfile:3: `Procfile\.web`: process type "web" is defined twice, first on line 1/ },
    { category: "Procfile", what: "types differing only in case", files: { [PROCFILE]: "web: node server.js\nWEB: node server.js\n" }, args: PREVIEW, expect: /app\/Procfile:2: `Procfile\.WEB`: .*same as "web" apart from case/ },
    // An app that declares no process types gets Heroku's language default; these have none (no start script, no server.js).
    { category: "Procfile", what: "an empty Procfile and no language default", files: { [PROCFILE]: "", ...NO_DEFAULT }, args: UP, expect: /app\/Procfile: `Procfile`: no process types declared \(the file is empty or only has comments\) and \S*app has no default web process/ },
    { category: "Procfile", what: "a merge-conflict garbage line", files: { [PROCFILE]: "<<<<<<< HEAD\nweb: node server.js\n=======\n" }, args: UP, expect: /app\/Procfile:1: `Procfile line 1`: expected "name: command", got "<<<<<<< HEAD" \(no colon\)/ },
    { category: "Procfile", what: "no web type while the stack routes web dynos", files: { [PROCFILE]: "worker: node server.js\n" }, args: UP, expect: /`formation\.web`: process type "web" is not in the Procfile; Procfile types are worker$/ },
    { category: "Procfile", what: "no Procfile at all and no language default", files: { [PROCFILE]: null, ...NO_DEFAULT }, args: UP, expect: /`procfile`: \S*app\/Procfile does not exist and \S*app has no default web process/ },
    { category: "Procfile", what: "51 process types", files: { [PROCFILE]: Array.from({ length: 51 }, (_, i) => `p${i + 1}: node server.js\n`).join("") }, args: PREVIEW, expect: /app\/Procfile:51: `Procfile\.p51`: more than 50 process types/ },

    // app.json
    appJsonRow("a trailing comma", '{\n  "formation": {\n    "web": { "quantity": 1 },\n  }\n}\n', /app\/app\.json:4: `app\.json`: not valid JSON: .*\(column 3\)/),
    appJsonRow("a list instead of an object", '["web"]\n', /app\/app\.json:1: `app\.json`: expected a JSON object/, PREVIEW),
    appJsonRow("formation as a list", { formation: [{ web: 1 }] }, /app\/app\.json:2: `formation`: expected an object keyed by process type/),
    appJsonRow("a quantity as a word", { formation: { web: { quantity: "two" } } }, /app\/app\.json:4: `formation\.web\.quantity`: quantity "two" is not valid; use a whole number from 0 to 100/),
    appJsonRow("a formation for a type not in the Procfile", { formation: { worker: { quantity: 1 } } }, /app\/app\.json: `formation\.worker`: process type "worker" is not in the Procfile/),
    appJsonRow("scripts as a string", { scripts: "npm run seed" }, /app\/app\.json:2: `scripts`: expected an object/, PREVIEW),
    appJsonRow("required as a word", { env: { GREETING: { required: "yes" } } }, /app\/app\.json:4: `env\.GREETING\.required`: expected true or false, got "yes"/, PREVIEW),
    appJsonRow("a required var nobody set", { env: { API_KEY: { description: "the API key" } } }, /`config\.API_KEY`: API_KEY is required by \S*app\/app\.json \(the API key\)/),
    appJsonRow("a misspelt top-level key", { formations: { web: { quantity: 1 } } }, /app\/app\.json:2: `formations`: unknown key "formations"/, PREVIEW),

    // formation
    { category: "formation", what: "ps:scale to a negative quantity", args: ["ps:scale", "web=-1"], expect: /`formation\.web\.quantity`: quantity "-1" is not valid/ },
    { category: "formation", what: "ps:scale past the per-type limit", args: ["ps:scale", "web=101"], expect: /`formation\.web\.quantity`: quantity 101 is not valid; use a whole number from 0 to 100/ },
    { category: "formation", what: "ps:scale of a type not in the Procfile", args: ["ps:scale", "worker=1"], expect: /`formation\.worker`: process type "worker" is not in the Procfile; Procfile types are web$/ },
    { category: "formation", what: "more dynos than the host has memory for", args: ["ps:scale", "web=80"], code: 1, expect: /not enough memory on the Docker host: `formation` \(web: 80 x standard-1x\) needs 40960 MiB, \d+ MiB of \d+ MiB is not reserved by other apps; nothing was changed/ },
    { category: "formation", what: "a quantity as a word in the stack file", stack: withSettings({ formation: { web: { quantity: "lots" } } }), args: UP, expect: /`formation\.web\.quantity`: quantity "lots" is not valid/ },
    { category: "formation", what: "ps:scale of one type twice", args: ["ps:scale", "web=2", "web=3"], expect: /^ps:scale: `web` is given 2 times \(`web=2`, `web=3`\); give each process type once$/ },
    { category: "formation", what: "more than 500 dynos in all", files: { [PROCFILE]: ["web", "w1", "w2", "w3", "w4", "w5"].map((t) => `${t}: node server.js\n`).join("") }, stack: withSettings({ formation: Object.fromEntries(["web", "w1", "w2", "w3", "w4", "w5"].map((t) => [t, { quantity: 100 }])) }), args: PREVIEW, expect: /`formation`: 600 dynos in all \(web=100 w1=100 w2=100 w3=100 w4=100 w5=100\); the limit is 500/ },
    { category: "formation", what: "ps:restart of a type not in the Procfile", args: ["ps:restart", "worker"], expect: /^ps:restart: `worker` is not a process type with dynos \(it is not in \S*app\/Procfile\); the types are web$/ },
    { category: "formation", what: "ps:restart of a dyno past the formation", args: ["ps:restart", "web.2"], expect: /^ps:restart: there is no dyno web\.2: web runs 1 \(web\.1\)$/ },
    { category: "formation", what: "the formation as a string in the stack file", stack: withSettings({ formation: "web=2" }), args: UP, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:formation`: expected a map, got "web=2"/ },

    // dyno sizes
    { category: "dyno size", what: "an unknown size", args: ["ps:resize", "web=huge"], expect: /`formation\.web\.size`: unknown dyno size "huge"/ },
    { category: "dyno size", what: "a size for a type not in the Procfile", args: ["ps:resize", "worker=standard-2x"], expect: /`formation\.worker`: process type "worker" is not in the Procfile/ },
    { category: "dyno size", what: "an unknown size with ps:scale", args: ["ps:scale", "web=1:tiny"], expect: /`formation\.web\.size`: unknown dyno size "tiny"/ },
    { category: "dyno size", what: "a custom size below Docker's minimum", args: ["ps:resize", "web=custom-2mb"], expect: /`formation\.web\.size`: memory "custom-2mb" is out of range/ },
    { category: "dyno size", what: "an unknown size in app.json", files: { [APP_JSON]: json({ formation: { web: { size: "XXL" } } }) }, args: UP, expect: /app\/app\.json:4: `formation\.web\.size`: unknown dyno size "XXL"/ },

    // add-ons
    { category: "add-on", what: "an unknown plan", args: ["addons:create", "mysql"], expect: /`addons\.mysql`: unknown add-on plan "mysql"; known plans: postgres/ },
    { category: "add-on", what: "a lower-case attachment name", args: ["addons:create", "postgres", "--as", "db"], expect: /`addons\.db\.as`: attachment name "db" is not valid/ },
    { category: "add-on", what: "an attachment name ending in _URL", args: ["addons:create", "redis", "--as", "CACHE_URL"], expect: /`addons\.cache-url\.as`: attachment name "CACHE_URL" ends in _URL/ },
    { category: "add-on", what: "an add-on name with capitals", args: ["addons:create", "postgres", "--name", "Main_DB"], expect: /`addons\.Main_DB`: add-on name `Main_DB` must be lower-case/ },
    { category: "add-on", what: "--as without its value", args: ["addons:create", "postgres", "--as"], expect: /^Not enough arguments following: as$/ },
    { category: "add-on", what: "a plan in app.json that is no add-on name", files: { [APP_JSON]: json({ addons: ["my sql"] }) }, args: UP, expect: /app\/app\.json:3: `addons\[0\]`: "my sql" is not an add-on plan name/ },
    { category: "add-on", what: "add-ons as a string in the stack file", stack: withSettings({ addons: "postgres" }), args: UP, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:addons`: expected a map, got "postgres"/ },

    // config vars
    { category: "config var", what: "a name starting with a digit", args: ["config:set", "1BAD=x"], expect: /`config\.1BAD`: config var name "1BAD" starts with the digit "1"/ },
    { category: "config var", what: "a dash in the name", args: ["config:set", "BAD-NAME=x"], expect: /`config\.BAD-NAME`: config var name "BAD-NAME" contains "-"/ },
    { category: "config var", what: "the reserved PORT", args: ["config:set", "PORT=8080"], expect: /`config\.PORT`: PORT is reserved/ },
    { category: "config var", what: "__proto__ as a name", args: ["config:set", "__proto__=x"], expect: /`config\.__proto__`: config var name "__proto__" is a name every JavaScript object already has/ },
    { category: "config var", what: "constructor as a name in app.json", files: { [APP_JSON]: json({ env: { constructor: "x" } }) }, args: PREVIEW, expect: /app\/app\.json:3: `env\.constructor`: config var name "constructor" is a name every JavaScript object already has/ },
    { category: "config var", what: "nothing before =", args: ["config:set", "=value"], expect: /`config`: expected KEY=VALUE, got "=value" with nothing before "="/ },
    { category: "config var", what: "no = at all", args: ["config:set", "GREETING"], expect: /`config`: expected KEY=VALUE, got "GREETING"; write e\.g\. GREETING=value/ },
    { category: "config var", what: "a map as a value in the stack file", stack: withSettings({ config: { GREETING: { nested: true } } }), args: UP, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:config\.GREETING`: expected a string value, got a map/ },
    { category: "config var", what: "config as a string in the stack file", stack: withSettings({ config: "GREETING=hi" }), args: PREVIEW, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:config`: expected a map, got "GREETING=hi"/ },
    { category: "config var", what: "PORT in app.json env", files: { [APP_JSON]: json({ env: { PORT: "5000" } }) }, args: PREVIEW, expect: /app\/app\.json:3: `env\.PORT`: PORT is reserved/ },
    { category: "config var", what: "a number as a value in app.json", files: { [APP_JSON]: json({ env: { GREETING: { value: 5 } } }) }, args: UP, expect: /app\/app\.json:4: `env\.GREETING\.value`: expected a string, got 5; quote it: "5"/ },

    // stack names
    { category: "stack name", what: "a slash", args: [...UP, "--stack", "bad/name"], ownStack: true, expect: /^--stack "bad\/name" is not a valid stack name/ },
    { category: "stack name", what: "an empty name", args: [...UP, "--stack", ""], ownStack: true, expect: /^--stack "" is not a valid stack name/ },
    { category: "stack name", what: "a space", args: ["ps:scale", "web=2", "--stack", "dev stack"], ownStack: true, expect: /^--stack "dev stack" is not a valid stack name/ },
    { category: "stack name", what: "a stack with no stack file", args: [...UP, "--stack", "no-such-stack"], ownStack: true, expect: /^unknown stack "no-such-stack": no \S+Pulumi\.no-such-stack\.yaml/ },
    { category: "stack name", what: "--stack without its value", args: [...UP, "--stack"], ownStack: true, expect: /^Not enough arguments following: stack$/ },

    // CLI flags
    { category: "CLI flags", what: "an unknown flag", args: [...UP, "--frobnicate"], expect: /^Unknown arguments?: frobnicate$/ },
    { category: "CLI flags", what: "an unknown command", args: ["scale", "web=2"], expect: /^unknown command `scale`: Did you mean ps:scale\?$/ },
    { category: "CLI flags", what: "ps:scale with nothing to scale", args: ["ps:scale"], expect: /^Not enough non-option arguments: got 0, need at least 1$/ },
    { category: "CLI flags", what: "ps:scale web", args: ["ps:scale", "web"], expect: /^ps:scale: `web` is not TYPE=QUANTITY\[:SIZE\]/ },
    { category: "CLI flags", what: "ps:scale =3", args: ["ps:scale", "=3"], expect: /^ps:scale: `=3` is not TYPE=QUANTITY\[:SIZE\]/ },
    { category: "CLI flags", what: "ps:scale web=abc", args: ["ps:scale", "web=abc"], expect: /`formation\.web\.quantity`: quantity "abc" is not valid/ },
    { category: "CLI flags", what: "--stack given twice", args: [...UP, "--stack", "a", "--stack", "b"], ownStack: true, expect: /^--stack is given 2 times \("a", "b"\); give it once$/ },

    // stack file settings
    { category: "stack file", what: "an unknown dynoform: key", stack: withSettings({ formations: { web: { quantity: 2 } } }), args: UP, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:formations`: unknown setting; the dynoform settings are app, source/ },
    { category: "stack file", what: "routerPort as a word", stack: withSettings({ routerPort: "eighty" }), args: UP, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:routerPort`: expected a port number from 1 to 65535, got "eighty"/ },
    { category: "stack file", what: "routerHost not an IP address", stack: withSettings({ routerHost: "localhost" }), args: UP, expect: /`routerHost`: "localhost" is not an IP address/ },
    { category: "stack file", what: "an upper-case app name", stack: withSettings({ app: "Tiny_App" }), args: UP, expect: /`name`: app name `Tiny_App` must be 2-30 lower-case letters/ },
    { category: "stack file", what: "a source folder that does not exist", stack: withSettings({ source: "nowhere" }), args: UP, expect: /`procfile`: \S*nowhere\/Procfile does not exist/ },
    { category: "stack file", what: "deleteAddonDataOnDestroy as a word", stack: withSettings({ deleteAddonDataOnDestroy: "sure" }), args: UP, expect: /`dynoform:deleteAddonDataOnDestroy`: expected true or false, got "sure"/ },
    { category: "stack file", what: "restarts as a string", stack: withSettings({ restarts: "now" }), args: UP, expect: /`dynoform:restarts`: expected a map, got "now"/ },
    { category: "stack file", what: "a scheduler job with a bad cron field", stack: withSettings({ scheduler: { report: { schedule: "61 * * * *", command: "npm run report" } } }), args: UP, expect: /Pulumi\.[\w-]+\.yaml:\d+: `dynoform:scheduler\.report\.schedule`: minute "61" is out of range 0-59$/ },
    { category: "stack file", what: "a scheduled backup of an add-on the app lacks", stack: withSettings({ scheduler: { nightly: { schedule: "0 2 * * *", backup: "postgres" } } }), args: PREVIEW, expect: /`scheduler\.nightly\.backup`: "postgres" is not a Postgres add-on of this app \(Postgres add-ons: none\)$/ },
    { category: "stack file", what: "YAML that does not parse", stack: () => "config:\n  dynoform:app: tiny\n    dynoform:source: app\n", args: UP, expect: /Pulumi\.[\w-]+\.yaml:2: not valid YAML: Nested mappings are not allowed/ },
];

let project: CliProject;
let stack: string;
let stackPath: string;
let good: Record<string, unknown>;
let deployed: CliResult | undefined;

/** The stack file as cliProject writes it, but with values kept as given (a wrong type stays wrong). */
function stackText(settings: Record<string, unknown>): string {
    return YAML.stringify({ config: Object.fromEntries(Object.entries(settings).map(([k, v]) => [`dynoform:${k}`, v])) });
}

/** What Docker runs for the stack: IDs, start times, env, memory, restart counts; networks and volumes. */
async function dockerSnapshot(): Promise<string> {
    const docker = connectDocker();
    const containers = [];
    for (const c of await containersWith({ [LABEL.stack]: stack })) {
        const i = await docker.getContainer(c.Id).inspect();
        containers.push({
            id: i.Id,
            name: i.Name,
            image: i.Image,
            status: i.State.Status,
            startedAt: i.State.StartedAt,
            restarts: i.RestartCount,
            env: [...(i.Config.Env ?? [])].sort(),
            memory: i.HostConfig.Memory,
            cpuShares: i.HostConfig.CpuShares,
            labels: i.Config.Labels,
        });
    }
    containers.sort((a, b) => a.name.localeCompare(b.name));
    const networks = (await docker.listNetworks({ filters: { label: [`${LABEL.stack}=${stack}`] } })).map((n) => n.Id).sort();
    const volumes = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name).filter((n) => n.includes(stack)).sort();
    return JSON.stringify({ containers, networks, volumes });
}

/** Which containers (by name and field), networks or volumes differ between two snapshots. */
function whatChanged(before: string, now: string): string {
    type Snap = { containers: Array<Record<string, unknown> & { name: string }>; networks: string[]; volumes: string[] };
    const a = JSON.parse(before) as Snap;
    const b = JSON.parse(now) as Snap;
    const out: string[] = [];
    const names = new Set([...a.containers, ...b.containers].map((c) => c.name));
    for (const name of names) {
        const x = a.containers.find((c) => c.name === name);
        const y = b.containers.find((c) => c.name === name);
        if (!x || !y) out.push(`${name} ${x ? "removed" : "added"}`);
        else for (const k of Object.keys(x)) if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push(`${name}.${k}: ${JSON.stringify(x[k])} -> ${JSON.stringify(y[k])}`);
    }
    if (JSON.stringify(a.networks) !== JSON.stringify(b.networks)) out.push("networks");
    if (JSON.stringify(a.volumes) !== JSON.stringify(b.volumes)) out.push("volumes");
    return out.join("; ");
}

/** Every file of the file backend (state, history, backups, locks) by path, with the hash of its bytes. */
function stateSnapshot(): string {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(d, e.name);
            if (e.isDirectory()) walk(full);
            else out.push(`${path.relative(project.dir, full)} ${crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex")}`);
        }
    };
    walk(path.join(project.dir, "state"));
    return out.join("\n");
}

/** Puts back the good app files and stack file. */
function restore(row: Row, goodStack: Buffer): void {
    for (const rel of Object.keys(row.files ?? {})) {
        const file = path.join(project.dir, rel);
        const original = TINY_APP[path.basename(rel)];
        if (original === undefined) fs.rmSync(file, { force: true });
        else fs.writeFileSync(file, original);
    }
    if (row.stack) fs.writeFileSync(stackPath, goodStack);
}

describeLive("bad input: a clear error, a non-zero exit, and nothing changed", { concurrency: false }, () => {
    before(async () => {
        project = await cliProject("badin", { files: TINY_APP });
        stack = project.stackName("dev");
        good = await tinyStack({ formation: { web: { quantity: 1 } } });
        stackPath = path.join(project.dir, "stacks", `Pulumi.${stack}.yaml`);
        fs.writeFileSync(stackPath, stackText(good));
        deployed = await project.cli([...UP, "--stack", stack]);
    });
    after(async () => {
        await project?.cleanup();
    });

    test(`${ROWS.length} malformed inputs are refused before anything runs`, async (t) => {
        assert.equal(deployed?.code, 0, `the app deploys first:\n${deployed?.stderr}`);
        assert.ok(ROWS.length >= 40, `at least 40 bad inputs (got ${ROWS.length})`);
        const goodStack = fs.readFileSync(stackPath);
        const docker0 = await dockerSnapshot();
        const state0 = stateSnapshot();
        assert.match(docker0, /"status":"running"/, "the app's containers are there to compare");
        assert.ok(state0.length > 0, "the state file is there to compare");

        const problems: string[] = [];
        const seconds: number[] = [];
        /** Runs one row and checks it; rows that write files run alone, the others a few at a time. */
        const check = async (row: Row) => {
            const label = `[${row.category}] ${row.what}: dynoform ${row.args.join(" ")}`;
            const fail = (why: string) => problems.push(`${label}: ${why}`);
            for (const [rel, text] of Object.entries(row.files ?? {})) {
                if (text === null) fs.rmSync(path.join(project.dir, rel));
                else fs.writeFileSync(path.join(project.dir, rel), text);
            }
            const bad = row.stack?.(good);
            const written = bad === undefined ? goodStack : Buffer.from(typeof bad === "string" ? bad : stackText(bad));
            if (bad !== undefined) fs.writeFileSync(stackPath, written);
            const started = Date.now();
            const r = await project.cli(row.ownStack ? row.args : [...row.args, "--stack", stack], { timeoutMs: 60_000 });
            const took = (Date.now() - started) / 1000;
            seconds.push(took);
            // Rows run a few at a time on one stack, so a row's command may first wait for another
            // row's stack lock and say so; that line is the lock's. The error itself is one line.
            const lines = r.stderr
                .trimEnd()
                .split("\n")
                .filter((l) => !/^dynoform: stack \S+ is busy: waiting for pid \d+ \(`dynoform [^`]+`\) since /.test(l));
            if (r.code !== (row.code ?? 2)) fail(`exit ${r.code}, expected ${row.code ?? 2}`);
            if (lines.length !== 1 || !lines[0].startsWith("dynoform: ")) fail(`expected one "dynoform: ..." line on stderr, got:\n${r.stderr}`);
            const line = lines[0].replace(/^dynoform: /, "");
            if (!row.expect.test(line)) fail(`stderr ${JSON.stringify(line)} does not match ${row.expect}`);
            if (/undefined|\[object Object\]|\n\s+at /.test(r.stderr)) fail(`unclear message: ${r.stderr}`);
            if (r.stdout !== "") fail(`printed on stdout: ${r.stdout}`);
            if (!fs.readFileSync(stackPath).equals(written)) fail("the stack file was changed");
            const dockerNow = await dockerSnapshot();
            if (dockerNow !== docker0) fail(`Docker objects changed: ${whatChanged(docker0, dockerNow)}`);
            if (stateSnapshot() !== state0) fail("the Pulumi state changed");
            restore(row, goodStack);
        };
        for (const row of ROWS.filter((r) => r.files || r.stack)) await check(row);
        const argsOnly = ROWS.filter((r) => !r.files && !r.stack);
        const workers = Array.from({ length: 3 }, async () => {
            for (let row = argsOnly.shift(); row; row = argsOnly.shift()) await check(row);
        });
        await Promise.all(workers);

        const byCategory = new Map<string, number>();
        for (const row of ROWS) byCategory.set(row.category, (byCategory.get(row.category) ?? 0) + 1);
        t.diagnostic(`bad inputs tried: ${ROWS.length} (${[...byCategory].map(([c, n]) => `${c} ${n}`).join(", ")})`);
        t.diagnostic(`per row: max ${Math.max(...seconds).toFixed(1)} s, total ${seconds.reduce((a, b) => a + b, 0).toFixed(1)} s`);
        assert.deepEqual(problems, [], `${problems.length} of ${ROWS.length} rows went wrong`);

        // With the good input back, the engine agrees nothing happened: no change to make, and the app answers.
        const preview = await project.cli([...PREVIEW, "--stack", stack]);
        assert.equal(preview.code, 0, preview.stderr);
        assert.match(preview.stdout, /Release: v1 \(no image, config or add-on change\)/);
        assert.match(preview.stdout, /^Resources: \d+ same$/m);
        assert.equal(await dockerSnapshot(), docker0);
        const url = deployed!.stdout.trim().split("\n").pop()!;
        assert.equal(await (await fetch(url)).text(), "web.1 hello");
    });
});
