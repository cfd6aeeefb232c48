import assert from "node:assert/strict";
import { test } from "node:test";
import { splitDetails, swarmLogSource } from "../../cli/swarm-logs";
import { ADDON_LABEL, LABEL } from "../../infra/docker/labels";

test("splitDetails: the node and task Swarm names before a line (details=1), and the line itself", () => {
    assert.deepEqual(splitDetails("com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 web: listening on 5000"), {
        node: "n1",
        task: "t1",
        text: "web: listening on 5000",
    });
    assert.deepEqual(splitDetails("a=b plain text"), { text: "a=b plain text" });
    assert.deepEqual(splitDetails("no details"), { text: "no details" });
});

test("swarmLogSource: app[web.3]@node for a dyno, dynoform[router]@node, addon[postgres]@node", () => {
    const dyno = swarmLogSource({ [LABEL.processType]: "web", [LABEL.role]: "dyno" }, 3, "dfsw2", "t1");
    assert.deepEqual([dyno.kind, dyno.dyno, dyno.processType, dyno.label], ["app", "web.3", "web", "app[web.3]@dfsw2"]);
    assert.equal(swarmLogSource({ [LABEL.processType]: "router", [LABEL.role]: "router" }, 1, "dfsw1", "t2").label, "dynoform[router]@dfsw1");
    const pg = swarmLogSource({ [LABEL.processType]: "postgres", [LABEL.role]: "addon", [ADDON_LABEL]: "postgres" }, 1, "dfsw1", "t3");
    assert.deepEqual([pg.kind, pg.dyno, pg.label], ["addon", "postgres", "addon[postgres]@dfsw1"]);
});
