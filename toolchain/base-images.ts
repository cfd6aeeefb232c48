import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import Docker = require("dockerode");
import { connectDocker, isNotFound } from "../infra/docker/client";
import { aptInstall, which } from "./docker-engine";
import { paths } from "./paths";
import { Reporter } from "./report";
import { imageRepository, LABEL } from "../infra/docker/labels";
import { BASE_IMAGE_NAMES, BaseImageName, BaseImageRefs, recordedBaseImages, recordFile } from "./base-image-refs";

// The names and the record are in base-image-refs.ts (no dockerode): components read them.
export { BASE_IMAGE_NAMES, BaseImageName, BaseImageRefs, recordedBaseImages };

/** How one base image is had: an official image where a registry answers, else a local Debian build. */
interface Recipe {
    official: string;
    /** Debian packages installed into the debootstrapped rootfs. */
    packages: string[];
    /** Dockerfile lines after `FROM <imported rootfs>`. */
    dockerfile: string[];
    /** Extra files for the build context (name -> content). */
    files?: Record<string, string>;
    /** Copies host files into the rootfs before import (the Node.js runtime). */
    hostFiles?: Array<{ from: string; to: string }>;
}

const SUITE = "bookworm";
const CA_DIR = process.env.DYNOFORM_EXTRA_CA_DIR ?? "/usr/local/share/ca-certificates";

const POSTGRES_ENTRYPOINT = `#!/bin/sh
# Honours the official postgres image's variables: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA.
set -eu
: "\${PGDATA:=/var/lib/postgresql/data}"
: "\${POSTGRES_USER:=postgres}"
: "\${POSTGRES_DB:=\$POSTGRES_USER}"
BIN=/usr/lib/postgresql/15/bin
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp); chown postgres "$pwfile"
  printf '%s' "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" > "$pwfile"
  as_pg $BIN/initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  if [ "$POSTGRES_DB" != "postgres" ]; then
    as_pg $BIN/postgres --single -D "$PGDATA" postgres <<SQL >/dev/null
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
  fi
else
  # Data kept from an earlier add-on (its volume outlives it): the password given now is the one that counts.
  # Dynoform replaces add-on containers old-first, so a postmaster.pid here is a killed container's.
  rm -f "$PGDATA/postmaster.pid"
  pw_sql=$(printf '%s' "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" | sed "s/'/''/g")
  as_pg $BIN/postgres --single -D "$PGDATA" postgres <<SQL >/dev/null
ALTER USER "$POSTGRES_USER" WITH PASSWORD '$pw_sql';
SQL
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups $BIN/postgres -D "$PGDATA"
`;

/**
 * Images built only when first needed, never pulled: the edge router (`caddy`, with curl to
 * talk to its admin API from inside) and `pebble`, Let's Encrypt's ACME test server with its
 * challenge DNS server, which the tests run as a CA.
 */
export type OnDemandImageName = "caddy" | "pebble" | "registry";

/**
 * The cluster registry's configuration: blobs on the volume at /var/lib/docker-registry, plain
 * HTTP on 5000 (nodes reach it at 127.0.0.1, which Docker trusts without TLS), no deletes (a
 * rollback needs its old manifests), one access line per request on stdout (what was pushed).
 */
const REGISTRY_CONFIG = `version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  cache:
    blobdescriptor: inmemory
http:
  addr: :5000
`;

const ON_DEMAND: Record<OnDemandImageName, Recipe> = {
    caddy: {
        official: "",
        packages: ["caddy", "curl"],
        dockerfile: ["ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config", 'CMD ["caddy", "run", "--resume"]'],
    },
    pebble: {
        official: "",
        packages: ["pebble", "openssl"],
        dockerfile: ['CMD ["pebble"]'],
    },
    // Debian's Docker Distribution 2.8, and socat, which forwards each node's 127.0.0.1:5000 to it.
    registry: {
        official: "",
        packages: ["docker-registry", "socat"],
        files: { "config.yml": REGISTRY_CONFIG },
        dockerfile: [
            "COPY config.yml /etc/docker/registry/config.yml",
            "RUN mkdir -p /var/lib/docker-registry",
            'CMD ["docker-registry", "serve", "/etc/docker/registry/config.yml"]',
        ],
    },
};

const RECIPES: Record<BaseImageName, Recipe> = {
    node: {
        official: "node:20-bookworm-slim",
        packages: ["ca-certificates", "libstdc++6"],
        hostFiles: [
            { from: "/usr/bin/node", to: "usr/local/bin/node" },
            { from: "/usr/lib/node_modules/npm", to: "usr/local/lib/node_modules/npm" },
        ],
        dockerfile: [
            "RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx",
            "RUN groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/sh node",
            "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
            'CMD ["node"]',
        ],
    },
    postgres: {
        official: "postgres:15-bookworm",
        packages: ["postgresql-15"],
        files: { "docker-entrypoint.sh": POSTGRES_ENTRYPOINT },
        dockerfile: [
            "COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh",
            "RUN chmod 755 /usr/local/bin/docker-entrypoint.sh",
            "ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH",
            "STOPSIGNAL SIGINT",
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
        ],
    },
    redis: {
        official: "redis:7-bookworm",
        packages: ["redis-server"],
        dockerfile: [
            "RUN mkdir -p /data && chown redis:redis /data",
            "WORKDIR /data",
            'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]',
        ],
    },
    nginx: {
        official: "nginx:1.27-bookworm",
        packages: ["nginx-light"],
        dockerfile: [
            "RUN rm -f /etc/nginx/sites-enabled/default && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log",
            "STOPSIGNAL SIGQUIT",
            'CMD ["nginx", "-g", "daemon off;"]',
        ],
    },
};

/** The hash of everything that goes into a local build of `name`: its tag. */
export function recipeHash(name: BaseImageName | OnDemandImageName): string {
    const recipe = recipeOf(name);
    const h = crypto.createHash("sha256");
    h.update(JSON.stringify({ name, SUITE, recipe }));
    for (const ca of extraCaFiles()) h.update(fs.readFileSync(ca));
    if (name === "node") h.update(process.version);
    return h.digest("hex").slice(0, 12);
}

function recipeOf(name: BaseImageName | OnDemandImageName): Recipe {
    return name in ON_DEMAND ? ON_DEMAND[name as OnDemandImageName] : RECIPES[name as BaseImageName];
}

/**
 * The local build of an on-demand image, `dynoform/<name>:<recipe hash>`, built from Debian
 * packages the first time it is asked for (about a minute) and reused after.
 */
export async function ensureOnDemandImage(name: OnDemandImageName, report: Reporter, docker: Docker = connectDocker()): Promise<string> {
    const local = `dynoform/${name}:${recipeHash(name)}`;
    if (await imageExists(docker, local)) return local;
    const rootfs = await debootstrap(report);
    await buildLocal(docker, name, local, rootfs, report);
    return local;
}

function extraCaFiles(): string[] {
    if (!fs.existsSync(CA_DIR)) return [];
    return fs.readdirSync(CA_DIR).filter((f) => f.endsWith(".crt")).sort().map((f) => path.join(CA_DIR, f));
}

/** What {@link ensureBaseImages} found or did for each image. */
export type BaseImageStatus = Record<BaseImageName, { ref: string; action: "present" | "pulled" | "built" | "copied" }>;

/**
 * Makes sure every base image is present: the recorded one if still there, else (on a remote
 * engine) copied from the local engine when that has it, else the official image pulled (when
 * `DYNOFORM_PULL` is not `never` and a registry answers), else built from Debian packages
 * (the rootfs streamed to the engine's import API) and tagged `dynoform/<name>:<recipe hash>`.
 * `source` is the local engine, for a remote `docker`: copying is cheaper than building.
 */
export async function ensureBaseImages(report: Reporter, docker: Docker = connectDocker(), source?: Docker): Promise<BaseImageStatus> {
    const status = {} as BaseImageStatus;
    let rootfs: string | undefined;
    for (const name of BASE_IMAGE_NAMES) {
        const local = imageRepository.base(name, recipeHash(name));
        const official = RECIPES[name].official;
        if (await imageExists(docker, local)) {
            status[name] = { ref: local, action: "present" };
        } else if (await imageExists(docker, official)) {
            status[name] = { ref: official, action: "present" };
        } else if (source && (await copyFirstPresent(source, docker, [local, official], report))) {
            status[name] = { ref: (await imageExists(docker, local)) ? local : official, action: "copied" };
        } else if (process.env.DYNOFORM_PULL !== "never" && (await tryPull(docker, official, report))) {
            status[name] = { ref: official, action: "pulled" };
        } else {
            rootfs ??= await debootstrap(report);
            await buildLocal(docker, name, local, rootfs, report);
            status[name] = { ref: local, action: "built" };
        }
    }
    fs.mkdirSync(paths.images(), { recursive: true });
    const refs = Object.fromEntries(BASE_IMAGE_NAMES.map((n) => [n, status[n].ref])) as BaseImageRefs;
    fs.writeFileSync(recordFile(), JSON.stringify(refs, null, 2) + "\n");
    return status;
}

/** Copies the first of `refs` the source engine has; false when it has none (or does not answer). */
async function copyFirstPresent(from: Docker, to: Docker, refs: string[], report: Reporter): Promise<boolean> {
    for (const ref of refs) {
        let has = false;
        try {
            has = await imageExists(from, ref);
        } catch {
            return false; // no local engine: build on the remote instead
        }
        if (!has) continue;
        const [moved] = await copyImages(from, to, [ref]);
        report(`copied ${ref} from the local engine (${(moved.bytes / 1e6).toFixed(0)} MB in ${(moved.ms / 1000).toFixed(1)} s)`);
        return true;
    }
    return false;
}

/** What {@link copyImages} moved for one image: nothing when the target already had that ID. */
export interface ImageCopy {
    ref: string;
    id: string;
    bytes: number;
    ms: number;
}

/**
 * Streams each image the target engine lacks (by ID) from one engine to the other, as
 * `docker save | docker load` over the two APIs: no registry, no temporary file. The loaded
 * image's ID must be the source's (its config digest), or the copy fails.
 */
export async function copyImages(from: Docker, to: Docker, refs: string[]): Promise<ImageCopy[]> {
    const copies: ImageCopy[] = [];
    for (const ref of refs) {
        const id = (await from.getImage(ref).inspect()).Id;
        const there = await to.getImage(ref).inspect().catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
        if (there?.Id === id) {
            copies.push({ ref, id, bytes: 0, ms: 0 });
            continue;
        }
        const started = Date.now();
        let bytes = 0;
        const saved = (await from.getImage(ref).get()) as NodeJS.ReadableStream;
        saved.on("data", (chunk: Buffer) => (bytes += chunk.length));
        const loaded = (await to.loadImage(saved as never)) as NodeJS.ReadableStream;
        await followStream(to, loaded);
        const got = (await to.getImage(ref).inspect()).Id;
        if (got !== id) throw new Error(`copy of ${ref}: the target engine has ${got}, not ${id}`);
        copies.push({ ref, id, bytes, ms: Date.now() - started });
    }
    return copies;
}

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
    try {
        await docker.getImage(ref).inspect();
        return true;
    } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
    }
}

/** Pulls with a deadline; a registry that does not answer is the normal case on closed networks. */
async function tryPull(docker: Docker, ref: string, report: Reporter): Promise<boolean> {
    const timeoutMs = Number(process.env.DYNOFORM_PULL_TIMEOUT_MS ?? 20_000);
    try {
        await Promise.race([
            new Promise<void>((resolve, reject) => {
                docker.pull(ref, (err: Error | null, stream: NodeJS.ReadableStream) => {
                    if (err) return reject(err);
                    docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
                });
            }),
            new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref()),
        ]);
        return true;
    } catch (err) {
        report(`pull of ${ref} failed (${(err as Error).message.split("\n")[0]}): building it locally from Debian packages`);
        return false;
    }
}

function run(cmd: string, args: string[], what: string): void {
    const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
        const tail = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n");
        throw new Error(`${what} failed (exit ${r.status}):\n${tail}`);
    }
}

function debianMirror(): string {
    const candidates = ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"];
    for (const f of candidates) {
        if (!fs.existsSync(f)) continue;
        const m = /(?:URIs:|deb)\s+(https?:\/\/\S+\/debian)\b/.exec(fs.readFileSync(f, "utf8"));
        if (m) return m[1];
    }
    return "http://deb.debian.org/debian";
}

/** A minimal Debian rootfs, cached by suite under DYNOFORM_HOME. */
async function debootstrap(report: Reporter): Promise<string> {
    const dir = path.join(paths.images(), `rootfs-${SUITE}-minbase`);
    if (fs.existsSync(path.join(dir, ".complete"))) return dir;
    if (!which("debootstrap")) {
        report("debootstrap not found: installing it with apt-get");
        aptInstall(["debootstrap"]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const started = Date.now();
    run("debootstrap", ["--variant=minbase", SUITE, dir, debianMirror()], "debootstrap");
    fs.writeFileSync(path.join(dir, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, ".complete"), "");
    report(`debootstrapped ${SUITE} into ${dir} (${Math.round((Date.now() - started) / 1000)} s)`);
    return dir;
}

async function buildLocal(docker: Docker, name: BaseImageName | OnDemandImageName, ref: string, base: string, report: Reporter) {
    const recipe = recipeOf(name);
    const started = Date.now();
    const dir = fs.mkdtempSync(path.join(paths.images(), `build-${name}-`));
    try {
        const root = path.join(dir, "rootfs");
        run("cp", ["-a", base, root], "copy of the base rootfs");
        fs.rmSync(path.join(root, ".complete"));
        fs.copyFileSync("/etc/resolv.conf", path.join(root, "etc/resolv.conf"));
        const caTarget = path.join(root, "usr/local/share/ca-certificates");
        fs.mkdirSync(caTarget, { recursive: true });
        for (const ca of extraCaFiles()) fs.copyFileSync(ca, path.join(caTarget, path.basename(ca)));
        const packages = ["ca-certificates", ...recipe.packages].join(" ");
        run("chroot", [root, "sh", "-c",
            `export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages} >/dev/null && update-ca-certificates >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*`],
            `apt-get install of ${packages} into the ${name} rootfs`);
        for (const f of recipe.hostFiles ?? []) {
            fs.mkdirSync(path.dirname(path.join(root, f.to)), { recursive: true });
            run("cp", ["-a", f.from, path.join(root, f.to)], `copy of ${f.from}`);
        }
        fs.writeFileSync(path.join(root, "etc/resolv.conf"), "");
        const rootfsRef = imageRepository.rootfs(name, ref.split(":")[1]);
        const tar = spawnSync("tar", ["-C", root, "-c", "."], { maxBuffer: 4 * 1024 * 1024 * 1024 });
        if (tar.status !== 0) throw new Error(`tar of the ${name} rootfs failed: ${tar.stderr}`);
        const tarFile = path.join(dir, "rootfs.tar");
        fs.writeFileSync(tarFile, tar.stdout);
        const [repo, tag] = rootfsRef.split(":");
        await followStream(docker, await docker.importImage(tarFile, { repo, tag }));
        const context = path.join(dir, "context");
        fs.mkdirSync(context);
        for (const [file, content] of Object.entries(recipe.files ?? {})) {
            fs.writeFileSync(path.join(context, file), content);
        }
        fs.writeFileSync(path.join(context, "Dockerfile"), [`FROM ${rootfsRef}`, ...recipe.dockerfile].join("\n") + "\n");
        const stream = await docker.buildImage(
            { context, src: fs.readdirSync(context) },
            { t: ref, labels: { [LABEL.baseImage]: name } },
        );
        await followStream(docker, stream);
        await docker.getImage(rootfsRef).remove().catch(() => undefined);
        report(`built base image ${ref} from Debian packages (${Math.round((Date.now() - started) / 1000)} s)`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Waits for a pull/build/import progress stream, failing on the first error message in it. */
function followStream(docker: Docker, stream: NodeJS.ReadableStream): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
            if (err) return reject(err);
            const failed = output.find((o) => o.error);
            if (failed) return reject(new Error(failed.error));
            resolve(output);
        });
    });
}


