import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker = require("dockerode");
import dockerignore from "@balena/dockerignore";
import * as pulumi from "@pulumi/pulumi";
import { connectDocker, engineMessage, isNotFound, resolveDockerEndpoint, unreachable } from "./client";
import { ImageInputs, ImageOutputs } from "./image";
import { LABEL } from "./labels";

/** Name of the generated Dockerfile in a staged build context (never in the user's folder). */
export const GENERATED_DOCKERFILE = "Dockerfile.dynoform";

/**
 * What a Node.js app without a Dockerfile never ships in its image, whatever its .dockerignore
 * says: host node_modules would overwrite the production install, `.env` holds local secrets.
 * A folder with its own Dockerfile and no .dockerignore leaves these out too.
 */
export const DEFAULT_IGNORES = ["node_modules", ".git", ".env", "npm-debug.log", GENERATED_DOCKERFILE];

/** The Dockerfile generated for a Node.js app (package.json, no Dockerfile). Pure. */
export function nodeDockerfile(baseImage: string, hasLockfile: boolean): string {
    const install = hasLockfile
        ? "npm ci --omit=dev --no-audit --no-fund"
        : "npm install --omit=dev --no-audit --no-fund";
    return [
        `FROM ${baseImage}`,
        "WORKDIR /app",
        "ENV NODE_ENV=production",
        "COPY package*.json ./",
        `RUN ${install} && (npm cache clean --force >/dev/null 2>&1 || true)`,
        "COPY . .",
        "USER 1000",
        'CMD ["npm", "start"]',
        "",
    ].join("\n");
}

/** True when the build uses the generated Node.js Dockerfile (the folder has no Dockerfile of its own). */
export function usesGeneratedDockerfile(inputs: Pick<ImageInputs, "context" | "dockerfile">): boolean {
    return !fs.existsSync(path.join(inputs.context!, inputs.dockerfile ?? "Dockerfile"));
}

/**
 * Files of a build context, relative and sorted, after .dockerignore (or the default ignores
 * when there is none). `generated` adds the default ignores to the folder's own rules.
 */
export function contextFiles(context: string, generated = false): string[] {
    const ignoreFile = path.join(context, ".dockerignore");
    const own = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, "utf8").split(/\r?\n/) : undefined;
    const rules = own ? [...own, ...(generated ? DEFAULT_IGNORES : [])] : DEFAULT_IGNORES;
    const ig = dockerignore({ ignorecase: false }).add(rules);
    // A `!` exception may re-include a file inside an ignored folder; without one, skip the folder.
    const canSkipFolders = !rules.some((r) => r.trim().startsWith("!"));
    const files: string[] = [];
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(context, rel), { withFileTypes: true })) {
            const child = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) {
                if (!(canSkipFolders && ig.ignores(child))) walk(child);
            } else if ((entry.isFile() || entry.isSymbolicLink()) && !ig.ignores(child)) {
                files.push(child);
            }
        }
    };
    walk("");
    return files.sort();
}

/**
 * The permission bits a file is sent with. A generated build's files are readable by all
 * (0644, 0755 when executable): its dynos run as uid 1000 over root-owned files, and a file
 * written under umask 077 would otherwise fail with EACCES, where Heroku's slug just works.
 * A Dockerfile build sends the bits as they are. Pure.
 */
export function stagedMode(mode: number, generated: boolean): number {
    if (!generated) return mode & 0o777;
    return mode & 0o111 ? 0o755 : 0o644;
}

/** sha256 over the context's files (path, mode as sent, bytes) and the build recipe (the generated Dockerfile included). */
export function contentHash(inputs: ImageInputs): string {
    const context = inputs.context!;
    const generated = usesGeneratedDockerfile(inputs);
    const files = buildFiles(inputs, generated);
    const h = crypto.createHash("sha256");
    h.update(JSON.stringify({ dockerfile: inputs.dockerfile ?? null, base: inputs.nodeBaseImage ?? null }));
    if (generated) h.update(nodeDockerfile(inputs.nodeBaseImage ?? "", hasLockfile(files)));
    for (const rel of files) {
        const full = path.join(context, rel);
        const link = fs.lstatSync(full).isSymbolicLink() ? fs.readlinkSync(full) : undefined;
        h.update(`\0${rel}\0${stagedMode(fs.statSync(full).mode, generated).toString(8)}\0${link ?? ""}\0`);
        if (link === undefined || fs.statSync(full).isFile()) h.update(fs.readFileSync(full));
    }
    return h.digest("hex");
}

/**
 * What a build sends: {@link contextFiles}, and the Dockerfile even when .dockerignore lists it
 * (Docker's CLI always sends it: the daemon needs it to build, and leaves it out of `COPY`).
 */
export function buildFiles(inputs: Pick<ImageInputs, "context" | "dockerfile">, generated = usesGeneratedDockerfile(inputs)): string[] {
    const files = contextFiles(inputs.context!, generated);
    const dockerfile = (inputs.dockerfile ?? "Dockerfile").split(path.sep).join("/");
    return generated || files.includes(dockerfile) ? files : [...files, dockerfile].sort();
}

/**
 * Copies a build's files (already filtered by .dockerignore) into a new temporary folder, without
 * the .dockerignore itself: dockerode filters a context again with the .dockerignore it finds
 * there, which would drop files that must be sent (a Dockerfile the rules list, the generated
 * one). What the daemon gets is then exactly what was hashed, with the modes of
 * {@link stagedMode}. Symbolic links stay links.
 * @returns The folder (the caller removes it) and the files staged in it.
 */
export function stageContext(context: string, files: string[], generated = false): { dir: string; files: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-build-"));
    const staged = files.filter((rel) => rel !== ".dockerignore");
    try {
        for (const rel of staged) {
            const from = path.join(context, rel);
            const to = path.join(dir, rel);
            fs.mkdirSync(path.dirname(to), { recursive: true });
            if (fs.lstatSync(from).isSymbolicLink()) {
                fs.symlinkSync(fs.readlinkSync(from), to);
            } else {
                fs.copyFileSync(from, to);
                fs.chmodSync(to, stagedMode(fs.statSync(from).mode, generated));
            }
        }
    } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
    }
    return { dir, files: staged };
}

/** Label on built images: the content hash they were built from. */
export const CONTENT_HASH_LABEL = LABEL.contentHash;

function hasLockfile(files: string[]): boolean {
    return files.includes("package-lock.json") || files.includes("npm-shrinkwrap.json");
}

/** Validates inputs and computes the content hash, so a changed source shows in preview. */
export async function checkImage(news: ImageInputs) {
    const failures: Array<{ property: string; reason: string }> = [];
    if ([news.ref, news.context, news.dockerfile, news.nodeBaseImage].includes(pulumi.runtime.unknownValue)) {
        return { inputs: news, failures }; // judged (and hashed) once known, during `up`
    }
    if (!news.ref === !news.context) {
        failures.push({ property: "context", reason: "give exactly one of `ref` (a prebuilt image) or `context` (a folder to build)" });
    }
    if (news.context) {
        if (!path.isAbsolute(news.context) || !fs.existsSync(news.context) || !fs.statSync(news.context).isDirectory()) {
            failures.push({ property: "context", reason: `\`context\` ${news.context} is not a folder (an absolute path is expected)` });
        } else {
            const dockerfile = news.dockerfile ?? "Dockerfile";
            const hasDockerfile = fs.existsSync(path.join(news.context, dockerfile));
            if (news.dockerfile && !hasDockerfile) {
                failures.push({ property: "dockerfile", reason: `\`dockerfile\` ${dockerfile} not found in ${news.context}` });
            } else if (!hasDockerfile && !fs.existsSync(path.join(news.context, "package.json"))) {
                failures.push({
                    property: "context",
                    reason: `${news.context} has neither a Dockerfile nor a package.json: add a Dockerfile, or give \`ref\``,
                });
            } else if (!hasDockerfile && !news.nodeBaseImage) {
                failures.push({ property: "nodeBaseImage", reason: "a Node.js app without a Dockerfile needs `nodeBaseImage`" });
            }
            if (failures.length === 0) {
                return { inputs: { ...news, contentHash: contentHash(news) }, failures };
            }
        }
    }
    return { inputs: news, failures };
}

function explain(err: unknown, inputs: ImageInputs): Error {
    const code = (err as { code?: string }).code;
    if (code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES") {
        return unreachable(resolveDockerEndpoint(inputs.dockerHost), err);
    }
    return err instanceof Error ? err : new Error(engineMessage(err));
}

/** Resolves a prebuilt ref (pull, else local) or builds the context. */
export async function createImage(inputs: ImageInputs): Promise<{ id: string; outs: ImageOutputs }> {
    const docker = connectDocker(inputs.dockerHost);
    try {
        if (inputs.ref) {
            const imageId = await resolveRef(docker, inputs.ref);
            return { id: inputs.ref, outs: { ...inputs, imageId, imageRef: inputs.ref, generatedDockerfile: false } };
        }
        const built = await build(docker, inputs);
        return { id: built.imageRef, outs: { ...inputs, ...built } };
    } catch (err) {
        throw explain(err, inputs);
    }
}

async function resolveRef(docker: Docker, ref: string): Promise<string> {
    try {
        await new Promise<void>((resolve, reject) => {
            docker.pull(ref, (err: Error | null, stream: NodeJS.ReadableStream) => {
                if (err) return reject(err);
                docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
            });
        });
    } catch (pullError) {
        try {
            return (await docker.getImage(ref).inspect()).Id;
        } catch (err) {
            if (isNotFound(err)) {
                throw new Error(
                    `image ${ref} could not be pulled (${engineMessage(pullError).split("\n")[0]}) and is not on the Docker host`,
                );
            }
            throw err;
        }
    }
    return (await docker.getImage(ref).inspect()).Id;
}

async function build(docker: Docker, inputs: ImageInputs): Promise<Omit<ImageOutputs, keyof ImageInputs>> {
    const context = inputs.context!;
    const hash = inputs.contentHash ?? contentHash(inputs);
    const imageRef = `${inputs.repository ?? "dynoform/app"}:${hash.slice(0, 12)}`;
    const generated = usesGeneratedDockerfile(inputs);
    // The same content was built before (another stack, a rollback): reuse it.
    const existing = await docker.getImage(imageRef).inspect().catch(() => undefined);
    if (existing?.Config?.Labels?.[CONTENT_HASH_LABEL] === hash) {
        return { imageId: existing.Id, imageRef, generatedDockerfile: generated };
    }
    const files = buildFiles(inputs, generated);
    const dockerfile = generated ? GENERATED_DOCKERFILE : (inputs.dockerfile ?? "Dockerfile");
    const staged = stageContext(context, files, generated);
    if (generated) fs.writeFileSync(path.join(staged.dir, dockerfile), nodeDockerfile(inputs.nodeBaseImage!, hasLockfile(files)));
    try {
        const stream = await docker.buildImage(
            { context: staged.dir, src: generated ? [...staged.files, dockerfile] : staged.files },
            { t: imageRef, dockerfile, labels: { ...(inputs.labels ?? {}), [CONTENT_HASH_LABEL]: hash }, rm: true, forcerm: true },
        );
        const log: string[] = [];
        await new Promise<void>((resolve, reject) => {
            docker.modem.followProgress(
                stream,
                (err: Error | null, output: Array<{ error?: string }>) => {
                    const failed = err?.message ?? output.find((o) => o.error)?.error;
                    if (!failed) return resolve();
                    const tail = log.join("").trimEnd().split("\n").slice(-15).join("\n");
                    reject(new Error(`image build for ${context} failed: ${failed.trim()}\nlast lines of the build log:\n${tail}`));
                },
                (event: { stream?: string }) => {
                    if (event.stream) log.push(event.stream);
                },
            );
        });
    } finally {
        fs.rmSync(staged.dir, { recursive: true, force: true });
    }
    const info = await docker.getImage(imageRef).inspect();
    return { imageId: info.Id, imageRef, generatedDockerfile: generated };
}

/** Refresh: the image is still there (same ID), or gone from state. */
export async function readImage(id: string, props: ImageOutputs) {
    try {
        const info = await connectDocker(props.dockerHost).getImage(props.imageRef ?? id).inspect();
        return { id, props: { ...props, imageId: info.Id } };
    } catch (err) {
        if (isNotFound(err)) return {};
        throw explain(err, props);
    }
}
