import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";
import { ROUTER_CONF_DIR, ROUTER_CONF_FILE } from "./router-files";

/** One web dyno behind the router. */
export interface Upstream {
    /** Container name (resolved by Docker's DNS on the app network). */
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** Container ID: a healed (recreated) dyno has a new one, which makes the router reload. */
    containerId: pulumi.Input<string>;
}

/** Arguments of a {@link RouterConfig}. */
export interface RouterConfigArgs {
    dockerHost?: pulumi.Input<string>;
    /** The router (nginx) container to configure. */
    container: pulumi.Input<string>;
    /** The web dynos to spread requests over; none means the router answers 503. */
    upstreams: pulumi.Input<pulumi.Input<Upstream>[]>;
    /** App name, for the 503 page. */
    app: pulumi.Input<string>;
    /** Stack name: with the app, names the app's entry on the host's edge router, which follows the dynos too. */
    stack?: pulumi.Input<string>;
}

interface ResolvedUpstream {
    host: string;
    port: number;
    containerId: string;
}

interface RouterConfigInputs {
    dockerHost?: string;
    container: string;
    upstreams: ResolvedUpstream[];
    app: string;
    stack?: string;
}

interface RouterConfigOutputs extends RouterConfigInputs {
    config: string;
    reloadedAt: string;
}

/** Port nginx listens on inside the router container. */
export const ROUTER_LISTEN_PORT = 80;

export { ROUTER_CONF_DIR, ROUTER_CONF_FILE, liveDynos } from "./router-files";
/** The config with dyno names as `{{name}}`: the router resolves them into ROUTER_CONF_FILE. */
export const ROUTER_TEMPLATE_FILE = `${ROUTER_CONF_DIR}/dynoform.tmpl`;
/** Where the router keeps its sync script. */
export const ROUTER_SYNC = "/usr/local/bin/dynoform-router-sync";
/**
 * The dyno names of the last render, on one line (in the container, not the volume): the
 * router's once-a-second check resolves these and runs the sync only when an address changed.
 */
export const ROUTER_NAMES_FILE = "/tmp/dynoform-router.names";

/**
 * Renders the live config from the template with each dyno's current address, and reloads
 * nginx when that changed. The router runs it after each RouterConfig update, and whenever its
 * once-a-second check ({@link ROUTER_WATCH_LOOP}) sees a dyno's address change, so a dyno
 * that Docker restarted (a new address) or a daemon restart is followed within a second, a dyno
 * that does not resolve is left out, and no dyno means a 503 page.
 * nginx itself resolves names only when it loads its config. It returns once nginx serves the
 * new config (no fixed wait), so a dyno the config left out can be stopped right after it.
 */
export const ROUTER_SYNC_SCRIPT = `#!/bin/sh
# One run at a time: the router's once-a-second run may have read the template just before an
# update wrote a new one; without the lock it could reload that stale render after the update's
# run returned, and route around the new dynos (or back to removed ones) until the next second.
exec 9>/tmp/dynoform-router-sync.lock
flock 9
tmpl=${ROUTER_TEMPLATE_FILE}; out=${ROUTER_CONF_FILE}
# A run killed midway leaves its render beside the live config (not a *.conf: nginx ignores it).
rm -f "$out".??????
[ -f "$tmpl" ] || exit 0
# Beside the live config (the router's volume): put in place by a rename, never a copy, so that
# whoever reads the live config (liveDynos) never sees it half written.
new=$(mktemp "$out.XXXXXX")
# The template is read once: the names come from the copy whose lines they fill. Read twice, a
# run could take the names from an update's template and the lines from the one before it, and
# render the 503 page (every old name left unresolved) until the update's own run. An update
# renames its template over this one, and on overlayfs an open racing that rename fails now and
# then (14 of 3,000 copies in a test): read again. An empty copy is never rendered: it would
# have become an empty live config, and nginx would have stopped listening.
tries=0
until cp "$tmpl" "$new" 2>/dev/null && [ -s "$new" ]; do
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || { rm -f "$new"; echo "dynoform-router: cannot read $tmpl" >&2; exit 1; }
  sleep 0.01
done
missing=
names=$(grep -o '{{[^}]*}}' "$new" | tr -d '{}' | sort -u)
# For the router's once-a-second check (ROUTER_WATCH_LOOP): the names it resolves.
echo $names > ${ROUTER_NAMES_FILE}
for name in $names; do
  ip=$(getent hosts "$name" | awk '{ print $1; exit }')
  if [ -n "$ip" ]; then sed -i "s|{{$name}}|$ip|g" "$new"; else sed -i "/{{$name}}/d" "$new"; missing="$missing $name"; fi
done
if ! grep -q '^ *server [0-9]' "$new" && grep -q '^upstream' "$new"; then
  printf 'server { listen ${ROUTER_LISTEN_PORT} default_server; return 503; }\n' > "$new"
fi
if cmp -s "$new" "$out"; then rm -f "$new"; exit 0; fi
# Said in the router's log (stderr) on each change: which dynos it routes to and which it left out.
echo "dynoform-router: routing to $(grep -c '^ *server [0-9]' "$new") dyno(s)\${missing:+; no address for$missing}" >&2
cp "$out" "$out.old" 2>/dev/null
mv "$new" "$out"
chmod 644 "$out"
nginx -t -q || { mv "$out.old" "$out"; exit 1; }
# A process may exit between the glob and the read: the group's 2>/dev/null also takes the shell's
# own "cannot open" (a redirection's own 2>/dev/null comes too late for the < before it).
serving() { for p in /proc/[0-9]*; do [ "$({ tr -d '\\0' < $p/cmdline; } 2>/dev/null)" = "nginx: worker process" ] && echo "\${p#/proc/}"; done; }
old=$(serving)
nginx -s reload || exit 1
# Done once nginx serves the new config: new workers are up and no old one accepts connections
# (an old worker retitles itself as it closes its listening sockets, then finishes its requests).
end=$(($(date +%s) + 10))
taken=
while [ "$(date +%s)" -le "$end" ]; do
  now=$(serving)
  if [ -n "$now" ] && ! echo "$now" | grep -qxF "$old"; then taken=1; break; fi
  sleep 0.02
done
[ -n "$taken" ] || { echo "nginx did not take the new configuration within 10 s" >&2; exit 1; }
# Then the old workers finish their requests, keep-alive connections included, and exit: only
# then may a dyno the old configuration routed to be stopped (long-lived connections: 5 s at most).
end=$(($(date +%s) + 5))
for p in $old; do
  while [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.02; done
done
exit 0
`;

/**
 * The router's once-a-second check, run while nginx (`$nginx`) lives: one `getent` for the
 * names of the last render, and the sync script only when an answer changed, the template is
 * newer than that render, or the last run failed. An idle router starts 3 or 4 processes a
 * second (the command substitution with its getent, and sleep), not the 15 or so of a sync run.
 */
export const ROUTER_WATCH_LOOP =
    "seen=-; while kill -0 $nginx 2>/dev/null; do " +
    `{ read -r hosts < ${ROUTER_NAMES_FILE}; } 2>/dev/null || hosts=; ` +
    'now=$([ -z "$hosts" ] || getent hosts $hosts); ' +
    `if [ "$now" != "$seen" ] || [ ${ROUTER_TEMPLATE_FILE} -nt ${ROUTER_NAMES_FILE} ]; then ` +
    `if ${ROUTER_SYNC} >/dev/null; then seen=$now; else seen=-; fi; fi; ` +
    "sleep 1 & wait $!; done";

/** The nginx configuration for an app's web dynos. Pure: tested without Docker. */
export function renderRouterConfig(app: string, upstreams: Array<{ host: string; port: number }>): string {
    if (upstreams.length === 0) {
        return [
            "server {",
            `    listen ${ROUTER_LISTEN_PORT} default_server;`,
            "    default_type text/plain;",
            `    return 503 "${app}: no web dynos are running (scale web to 1 or more)\\n";`,
            "}",
            "",
        ].join("\n");
    }
    return [
        "upstream dynos {",
        ...upstreams.map((u) => `    server {{${u.host}}}:${u.port} max_fails=1 fail_timeout=2s;`),
        "    keepalive 32;",
        "}",
        "server {",
        `    listen ${ROUTER_LISTEN_PORT} default_server;`,
        "    client_max_body_size 100m;",
        "    location / {",
        "        proxy_pass http://dynos;",
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_set_header Host $http_host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Forwarded-Proto $scheme;",
        '        proxy_set_header X-Request-Start "t=${msec}";',
        "        proxy_next_upstream error timeout http_502 http_503;",
        "        proxy_connect_timeout 5s;",
        // Heroku's router gives a request 30 s to start answering.
        "        proxy_read_timeout 30s;",
        "    }",
        "}",
        "",
    ].join("\n");
}

/**
 * What an update runs in the router: write the template beside the old one and rename it over
 * (the router's own sync run, which may read it at any time, sees the old or the new one, never
 * an emptied or half-written file), then render, test and reload (a bad config never replaces
 * the running one). Pure.
 */
export function routerUpdateScript(config: string): string {
    const b64 = Buffer.from(config).toString("base64");
    const next = `${ROUTER_TEMPLATE_FILE}.next`;
    return `echo '${b64}' | base64 -d > ${next} && mv -f ${next} ${ROUTER_TEMPLATE_FILE} && ${ROUTER_SYNC}`;
}

const SELF = __filename;
const EDGE = require.resolve("./edge");
const FILES = require.resolve("./router-files");
const EXEC = require.resolve("./exec");
const CLIENT = require.resolve("./client");
const PROVIDER = require.resolve("../provider");

async function apply(inputs: RouterConfigInputs): Promise<RouterConfigOutputs> {
    const { connectDocker, engineMessage } = require(CLIENT);
    const { execIn } = require(EXEC);
    const config: string = require(SELF).renderRouterConfig(inputs.app, inputs.upstreams);
    const container = connectDocker(inputs.dockerHost).getContainer(inputs.container);
    let result: { exitCode: number; output: string };
    try {
        result = await execIn(container, ["sh", "-c", require(SELF).routerUpdateScript(config)]);
    } catch (err) {
        throw new Error(`router ${inputs.container}: cannot reconfigure: ${engineMessage(err)}`);
    }
    if (result.exitCode !== 0) {
        throw new Error(`router ${inputs.container}: nginx rejected the new configuration:\n${result.output.trim()}`);
    }
    if (inputs.stack) {
        // The host's edge router proxies straight to the dynos: it takes the new list before
        // this returns, as nginx has, so a dyno left out is stopped only once neither sends to it.
        const live = await execIn(container, ["cat", require(FILES).ROUTER_CONF_FILE]);
        if (live.exitCode === 0) {
            await require(EDGE).followDynos(connectDocker(inputs.dockerHost), inputs.app, inputs.stack, require(FILES).liveDynos(live.output));
        }
    }
    return { ...inputs, config, reloadedAt: new Date().toISOString() };
}

/** Writes the nginx config into the router and reloads it (no restart: in-flight requests finish). */
export const routerConfigProvider: pulumi.dynamic.ResourceProvider<RouterConfigInputs, RouterConfigOutputs> = {
    async diff(_id, olds, news) {
        // Every change writes the config again and reloads nginx: nothing replaces it.
        return require(PROVIDER).diffByFields(olds, news, { replace: [], update: ["dockerHost", "container", "upstreams", "app"] });
    },
    async create(inputs) {
        const outs = await require(SELF).applyRouterConfig(inputs);
        return { id: `${inputs.container}-config`, outs };
    },
    async update(_id, _olds, news) {
        return { outs: await require(SELF).applyRouterConfig(news) };
    },
};

export { apply as applyRouterConfig };

/** The router's nginx configuration: which web dynos get traffic. Changing it reloads nginx. */
export class RouterConfig extends DynamicResource {
    public readonly config!: pulumi.Output<string>;
    public readonly reloadedAt!: pulumi.Output<string>;

    constructor(name: string, args: RouterConfigArgs, opts?: pulumi.CustomResourceOptions) {
        super(routerConfigProvider, name, { config: undefined, reloadedAt: undefined, ...args }, opts, "docker", "RouterConfig");
    }
}
