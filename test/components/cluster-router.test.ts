import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterRouterCommand, renderClusterRouterConfig } from "../../components/cluster-router";
import { ROUTER_COMMAND } from "../../components/router";
import { ROUTER_TEMPLATE_FILE } from "../../infra/docker/router-config";

test("clusterRouterCommand: nginx resolves every task of the web service itself, a second at most, then the single-host router command", () => {
    const command = clusterRouterCommand("shop-prod-web", 5000);
    assert.ok(command.startsWith(`printf '%s' '${Buffer.from(renderClusterRouterConfig("shop-prod-web", 5000)).toString("base64")}' | base64 -d > ${ROUTER_TEMPLATE_FILE}; `));
    assert.ok(command.endsWith(ROUTER_COMMAND));
    const conf = renderClusterRouterConfig("shop-prod-web", 5000);
    assert.match(conf, /resolver 127\.0\.0\.11 valid=1s ipv6=off;/);
    assert.match(conf, /set \$dynos tasks\.shop-prod-web;\n\s+proxy_pass http:\/\/\$dynos:5000;/);
    assert.match(conf, /proxy_next_upstream error timeout http_502 http_503;/);
    assert.match(conf, /error_page 502 504 = @again;\n    \}\n    location @again \{\n        if \(\$request_method !~ \^\(GET\|HEAD\|OPTIONS\)\$\) \{ return 502; \}\n        set \$dynos shop-prod-web;/,
        "a failed lookup is tried once more under the service's own name, for requests safe to resend");
    assert.match(conf, /keepalive_requests 1000000;/, "a client keeps its connection (nginx closes it after 1000 requests by default: resets under load)");
    assert.doesNotMatch(conf, /\{\{/, "nothing for the sync script to substitute: no reload when tasks come and go");
});
