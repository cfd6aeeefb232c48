import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { connectDocker } from "../../infra/docker/client";
import { copyImages, ensureOnDemandImage } from "../../toolchain/base-images";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { which } from "../../toolchain/docker-engine";
import { processRunning } from "../../toolchain/processes";
import { eventually } from "./poll";
import { sh, stopPid } from "./netns-hosts";

// The test engines' (test-hosts.ts, test-cluster.ts) first images. On a new machine each of
// their data roots took the base images by `docker save | docker load` (about 1 GB each: 4
// labs, up to 3 nodes): the CI run wrote GBs and spent minutes of its two cores on it. Instead
// the images are loaded once into a seed data root, and a new data root starts with the seed's
// image store: its metadata copied, its layers as hard links (`cp -al`: no byte copied). An
// engine never writes into an image layer's files (a container's changes go to its own upper
// directory), and removing an image unlinks that root's names only, so the roots share the
// layers safely.

const SEEDS = "/var/lib/dynoform-test-seed";

/**
 * What a data root takes from the seed, nothing of a container, network or cluster: the image
 * store's metadata as a copy (2.6 MB: an engine rewrites some of it, a tag's list for one), the
 * layers (1 GB: written once, when the image came in) as hard links.
 */
const SEEDED: Array<[dir: string, cpFlag: string]> = [["image", "-a"], ["overlay2", "-al"]];

/**
 * Gives the engine data root `dataRoot`, when it does not exist yet, the local engine's base
 * images (the recorded ones) and the cluster registry's, as hard links to a seed data root holding
 * them (made once per set of image IDs, by an engine of its own in a network namespace of its
 * own). A data root that exists is left as it is: the caller copies what it lacks, as it does any
 * other image.
 */
export async function seedDataRoot(dataRoot: string): Promise<void> {
    if (fs.existsSync(dataRoot)) return;
    // The links are made holding the lock too: a seed is only removed by a test file making a new one.
    await withLock(path.join(SEEDS, "lock"), async () => {
        // With the cluster registry's image, built here once as a cluster's first deploy builds it:
        // the Swarm test files, which run at once, each built it and copied it to their 3 nodes.
        const registry = await ensureOnDemandImage("registry", (line) => process.stderr.write(`# test engines' seed: ${line}\n`));
        const images = [...Object.values(recordedBaseImages()), registry];
        const local = connectDocker();
        const ids = await Promise.all(images.map(async (ref) => (await local.getImage(ref).inspect()).Id));
        const key = crypto.createHash("sha256").update([...new Set(ids)].sort().join("\n")).digest("hex").slice(0, 16);
        const seed = path.join(SEEDS, key);
        if (!fs.existsSync(path.join(seed, "done"))) await makeSeed(seed, images);
        fs.mkdirSync(dataRoot, { recursive: true });
        for (const [dir, flag] of SEEDED) sh("cp", [flag, path.join(seed, "docker", dir), path.join(dataRoot, dir)]);
    });
}

/** Loads `images` into a new seed data root at `seed` (earlier seeds removed), through a dockerd started for it alone. */
async function makeSeed(seed: string, images: string[]): Promise<void> {
    for (const old of fs.readdirSync(SEEDS).filter((n) => n !== "lock")) fs.rmSync(path.join(SEEDS, old), { recursive: true, force: true });
    fs.mkdirSync(seed, { recursive: true });
    const socket = path.join(seed, "docker.sock");
    const pidFile = path.join(seed, "docker.pid");
    const log = fs.openSync(path.join(seed, "dockerd.log"), "a");
    // Its own network namespace (`unshare --net`): its bridge and firewall rules are not this machine's.
    const dockerd = spawn("unshare", ["--net", which("dockerd")!, "--data-root", path.join(seed, "docker"), "--exec-root", path.join(seed, "exec"),
        "-H", `unix://${socket}`, "--pidfile", pidFile, "--log-level", "warn"], { detached: true, stdio: ["ignore", log, log] });
    dockerd.unref();
    fs.closeSync(log);
    const engine = connectDocker(`unix://${socket}`);
    try {
        await eventually(async () => (await engine.ping()) !== undefined, 60_000, "the seed engine", 250);
        await copyImages(connectDocker(), engine, images);
    } finally {
        await stopPid(dockerd.pid, "the seed engine");
    }
    fs.writeFileSync(path.join(seed, "done"), `${images.join("\n")}\n`);
}

/** Runs `fn` holding the lock file `file` (its holder's pid in it; a dead holder's lock is taken over). */
async function withLock(file: string, fn: () => Promise<void>): Promise<void> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await eventually(() => {
        try {
            fs.writeFileSync(file, String(process.pid), { flag: "wx" });
            return true;
        } catch {
            const owner = Number(fs.readFileSync(file, "utf8").trim());
            if (owner > 0 && !processRunning(owner)) fs.rmSync(file, { force: true });
            return false;
        }
    }, 10 * 60_000, `the test engines' seed (${file}, held by another test file)`, 250);
    try {
        await fn();
    } finally {
        fs.rmSync(file, { force: true });
    }
}
