import assert from "node:assert/strict";
import { test } from "node:test";
import { liveDynos } from "../../../infra/docker/router-files";
import { renderRouterConfig } from "../../../infra/docker/router-config";

test("liveDynos: the dynos' addresses in the router's live config, as its sync resolves the template", () => {
    const template = renderRouterConfig("hello", [{ host: "hello.prod.web.1.ab12", port: 5000 }, { host: "hello.prod.web.2.cd34", port: 5000 }]);
    // What the sync script writes: each {{name}} replaced by the dyno's address, a name that does not resolve left out.
    const live = template.replace("{{hello.prod.web.1.ab12}}", "172.18.0.3").split("\n").filter((l) => !l.includes("{{")).join("\n");
    assert.deepEqual(liveDynos(live), ["172.18.0.3:5000"]);
    const both = template.replace("{{hello.prod.web.1.ab12}}", "172.18.0.3").replace("{{hello.prod.web.2.cd34}}", "172.18.0.4");
    assert.deepEqual(liveDynos(both), ["172.18.0.3:5000", "172.18.0.4:5000"]);
});

test("liveDynos: none when the router answers 503 (no web dynos, or none resolved yet)", () => {
    assert.deepEqual(liveDynos(renderRouterConfig("hello", [])), []);
    assert.deepEqual(liveDynos("server { listen 80 default_server; return 503; }\n"), []);
    assert.deepEqual(liveDynos(renderRouterConfig("hello", [{ host: "web.1", port: 5000 }])), [], "an unresolved template names no address");
});
